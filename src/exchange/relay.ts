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
import { asBuffer, FrameSplitter, watchFrame, type StreamWatch } from "./sse-frames";

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
  /** Runs before an error event goes out (the request charged and committed, as before a last frame). */
  beforeError?: () => void | Promise<void>;
  /** Called once, when the relay ends for whatever reason. */
  onEnd(outcome: RelayOutcome): void;
}

const enc = new TextEncoder();
/** An SSE comment: every OpenAI client skips it, idle watchdogs see traffic. */
const KEEP_ALIVE = enc.encode(": ping\n\n");

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
  /**
   * What the client gets of some bytes: whole frames only, as the watch says, added to `out`
   * (when given) — the frames the watch left as they were as views of the read, in one run.
   */
  const pass = (bytes: Uint8Array, out: Uint8Array[] | null): void => {
    if (bytes.byteLength === 0) return;
    const { head, body, ends } = frames.push(bytes);
    if (head) {
      const kept = watchFrame(watch, head);
      if (kept && out) out.push(kept);
    }
    if (ends.length === 0) return;
    const changed = watch.frames(body, ends);
    if (!out) return;
    if (!changed) {
      out.push(body);
      return;
    }
    let run = 0; // start of the run of unchanged frames not added yet
    for (let k = 0, start = 0; k < ends.length; start = ends[k++]!) {
      if (!changed.has(k)) continue;
      if (start > run) out.push(body.subarray(run, start));
      const kept = changed.get(k);
      if (kept) out.push(kept);
      run = ends[k]!;
    }
    if (run < body.byteLength) out.push(body.subarray(run));
  };
  const runBeforeError = async () => {
    if (beforeEndRan) return;
    beforeEndRan = true;
    await opts.beforeError?.();
  };
  const runBeforeEnd = async () => {
    if (beforeEndRan || !watch.complete) return;
    beforeEndRan = true;
    await opts.beforeEnd?.();
  };
  // A direct stream: the relay's own loop reads the upstream and writes each read's frames with
  // one flush, waiting only when the client pushes back (no queue, no promise per chunk).
  return new ReadableStream<Uint8Array>({
    type: "direct",
    async pull(controller: ReadableStreamDirectController) {
      let writing = false; // waiting for the client to drain: no keep-alive may slip in between
      // A write waiting for a client that went never completes: its leaving ends the wait.
      const gone = new Promise<void>((resolve) => client.onGone(resolve));
      opts.watchdog?.keepAlive(opts.pingMs ?? 0, () => {
        // Only ever between frames: the relay writes whole frames.
        if (ended || writing || client.isGone) return;
        try {
          controller.write(KEEP_ALIVE);
          controller.flush();
          opts.watchdog?.sent();
        } catch {
          // closed meanwhile
        }
      });
      const send = async (parts: Uint8Array[]): Promise<void> => {
        if (parts.length === 0 || client.isGone) return;
        try {
          for (const p of parts) controller.write(p);
          const flushed = controller.flush();
          opts.watchdog?.sent();
          if (typeof flushed === "number") return;
          writing = true;
          await Promise.race([flushed, gone]);
        } catch {
          client.gone(); // the client's side is closed: nothing more reaches it
        } finally {
          writing = false;
        }
      };
      try {
        for (;;) {
          let result: Awaited<ReturnType<typeof reader.read>>;
          try {
            result = await reader.read();
            opts.watchdog?.touch();
          } catch (err) {
            // A gone client's drain ended (aborted when it was over), or the upstream failed meanwhile: the usage is what was counted.
            if (client.isGone) return end({ status: 499, error: "client_closed" });
            const reason: unknown = client.abort.signal.reason;
            if (reason instanceof StreamEnded) {
              // Ended by the gateway (shutdown, a withdrawn key): the stream's last event says why.
              await runBeforeError();
              await send([reason instanceof ShuttingDown ? opts.errorEvent(reason.message) : opts.errorEvent(reason.message, reason.status, reason.type)]);
              return end({ status: 200, error: reason.logAs });
            }
            await runBeforeError();
            await send([opts.errorEvent(answerFailure({ kind: "connection", cause: err }).message)]);
            return end({ status: 200, error: "upstream_failed" });
          }
          if (client.isGone) {
            // The client went: the upstream is read on (within the drain policy) for its usage, then stopped.
            if (!result.done) {
              client.read(result.value.byteLength);
              pass(scrubber.push(asBuffer(result.value)), null);
            }
            if (result.done || watch.complete) return end({ status: 499, error: "client_closed" });
            continue;
          }
          const parts: Uint8Array[] = [];
          if (result.done) {
            pass(scrubber.end(), parts);
            const cut = frames.end(); // a frame that never ended: given as it is
            if (cut.byteLength) parts.push(cut);
            if (watch.complete) await runBeforeEnd();
            else {
              await runBeforeError();
              parts.push(opts.errorEvent(answerFailure({ kind: "incomplete" }).message));
            }
            await send(parts);
            return end(watch.complete ? { status: 200 } : { status: 200, error: "upstream_incomplete" });
          }
          pass(scrubber.push(asBuffer(result.value)), parts);
          if (parts.length === 0) continue; // a frame not whole yet (or kept from the client): read on
          if (watch.complete) await runBeforeEnd(); // before the frame that ends the stream goes out
          await send(parts);
        }
      } finally {
        // Whatever ended it: the upstream stopped if it still sends, the client's side closed.
        if (client.isGone) client.stop();
        try {
          controller.close();
        } catch {
          // already closed
        }
      }
    },
    cancel() {
      client.gone();
    },
  });
}
