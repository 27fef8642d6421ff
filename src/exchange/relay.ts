/**
 * Passes an upstream SSE body through to the client as it arrives, frame by frame
 * (sse-frames.ts): no re-encoding, backpressure from the client, keep-alive comments between
 * frames while the upstream is silent. The dialect's StreamWatch sees every frame (usage, the
 * end, a frame to keep from the client). Before the frame that ends the stream goes out,
 * `beforeEnd` runs (the request is charged and committed then, so a client that received the
 * whole answer is in the ledger). A stream that fails or ends incomplete ends with the face's
 * error event. When the client goes, the upstream is read on within the drain policy
 * (client-watch.ts) for its usage, then stopped.
 */
import { ShuttingDown, StreamEnded } from "../http/open-streams";
import type { Secrets } from "../redact";
import type { Watchdog } from "../upstream/watchdog";
import { answerFailure } from "./answer-failure";
import type { ClientWatch } from "./client-watch";
import { FrameSplitter, type StreamWatch } from "./sse-frames";

export interface RelayOutcome {
  /** 200, or 499 when the client went away. */
  status: number;
  error?: string;
}

export interface RelayOptions {
  client: ClientWatch;
  /** Idle and total timeouts of the upstream body, and keep-alive comments while it is silent. */
  watchdog?: Pick<Watchdog, "touch" | "sent" | "keepAlive" | "stop">;
  /** Keep-alive interval, ms (0: none). */
  pingMs?: number;
  watch: StreamWatch;
  /** What the relayed bytes may not carry: the upstream's own events (an error quoting its credential) are scrubbed. */
  secrets: Secrets;
  /** The event that tells the client the stream failed (its message already scrubbed): an upstream failure unless a status and type are given. */
  errorEvent(message: string, status?: number, type?: string): Uint8Array;
  /** Runs once the stream is complete, before its last frame goes out. */
  beforeEnd?: () => void | Promise<void>;
  /** Called once, when the relay ends for whatever reason. */
  onEnd(outcome: RelayOutcome): void;
}

const enc = new TextEncoder();
/** An SSE comment: every OpenAI client skips it, idle watchdogs see traffic. */
const KEEP_ALIVE = enc.encode(": ping\n\n");

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts);
}

export function relaySse(body: ReadableStream<Uint8Array>, opts: RelayOptions): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  // The upstream's own events (an error quoting its credential) pass through with our keys scrubbed.
  const scrubber = opts.secrets.stream();
  const frames = new FrameSplitter();
  const { watch, client } = opts;
  let ended = false;
  let beforeEndRan = false;
  const end = (outcome: RelayOutcome) => {
    if (ended) return;
    ended = true;
    opts.watchdog?.stop();
    opts.onEnd(outcome);
  };
  /** What the client gets of some bytes: whole frames only, each as the watch says. */
  const pass = (bytes: Uint8Array): Uint8Array | null => {
    if (bytes.byteLength === 0) return null;
    const { region, bounds } = frames.push(bytes);
    if (bounds.length === 0) return null;
    let parts: Uint8Array[] | null = null;
    for (let k = 0; k < bounds.length; k++) {
      const [s, e] = bounds[k]!;
      const frame = region.subarray(s, e);
      const out = watch.frame(frame);
      if (out === frame && parts === null) continue; // unchanged so far: the region goes as it is
      if (parts === null) parts = bounds.slice(0, k).map(([a, b]) => region.subarray(a, b));
      if (out) parts.push(out);
    }
    if (parts === null) return region;
    return parts.length ? join(parts) : null;
  };
  const runBeforeEnd = async () => {
    if (beforeEndRan || !watch.complete) return;
    beforeEndRan = true;
    await opts.beforeEnd?.();
  };
  /** The client is gone: read on for the usage (within the drain policy), then stop the upstream. */
  let draining = false;
  const drain = async () => {
    if (draining || ended) return;
    draining = true;
    client.gone();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        client.read(value.byteLength);
        pass(scrubber.push(value));
        if (watch.complete) break;
      }
    } catch {
      // aborted when the drain was over, or the upstream failed: the usage is what was counted
    } finally {
      client.stop();
      end({ status: 499, error: "client_closed" });
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // Bun may end the response without cancelling its body: the client's request signal says so too.
        client.onGone(() => void drain());
        opts.watchdog?.keepAlive(opts.pingMs ?? 0, () => {
          // Only ever between frames: the relay forwards whole frames.
          if (ended) return;
          try {
            controller.enqueue(KEEP_ALIVE);
            opts.watchdog?.sent();
          } catch {
            // closed meanwhile
          }
        });
      },
      async pull(controller) {
        // One enqueue (or the end) per pull: with highWaterMark 0 the stream pulls again only after one.
        for (;;) {
          let result: Awaited<ReturnType<typeof reader.read>>;
          try {
            result = await reader.read();
            opts.watchdog?.touch();
            if (draining) {
              // The client went while this read was pending: the drain reads on; this chunk is only watched.
              if (!result.done) pass(scrubber.push(result.value));
              return;
            }
          } catch (err) {
            if (draining) return;
            const reason: unknown = client.abort.signal.reason;
            if (reason instanceof StreamEnded) {
              // Ended by the gateway (shutdown, a withdrawn key): the stream's last event says why.
              controller.enqueue(reason instanceof ShuttingDown ? opts.errorEvent(reason.message) : opts.errorEvent(reason.message, reason.status, reason.type));
              controller.close();
              end({ status: 200, error: reason.logAs });
              return;
            }
            if (client.isGone) {
              controller.close();
              end({ status: 499, error: "client_closed" });
              return;
            }
            controller.enqueue(opts.errorEvent(answerFailure({ kind: "connection", cause: err }).message));
            controller.close();
            end({ status: 200, error: "upstream_failed" });
            return;
          }
          if (result.done) {
            const parts: Uint8Array[] = [];
            const last = pass(scrubber.end());
            if (last) parts.push(last);
            const cut = frames.end(); // a frame that never ended: given as it is
            if (cut.byteLength) parts.push(cut);
            if (watch.complete) await runBeforeEnd();
            else parts.push(opts.errorEvent(answerFailure({ kind: "incomplete" }).message));
            if (parts.length) controller.enqueue(join(parts));
            controller.close();
            end(watch.complete ? { status: 200 } : { status: 200, error: "upstream_incomplete" });
            return;
          }
          const out = pass(scrubber.push(result.value));
          if (!out) continue; // a frame not whole yet (or kept from the client): read on, a pull must enqueue
          if (watch.complete) await runBeforeEnd();
          controller.enqueue(out);
          opts.watchdog?.sent();
          return;
        }
      },
      cancel() {
        void drain();
      },
    },
    { highWaterMark: 0 },
  );
}
