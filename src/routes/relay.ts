/**
 * Passes an upstream SSE body through to the client as it arrives: no parsing,
 * no re-buffering, backpressure from the client. Stops the upstream when the
 * client goes. A stream that fails or ends incomplete (by default: without a whole
 * `data: [DONE]` line) ends with an error event (OpenAI's by default), so the client is not
 * left with a silently cut answer.
 */
import { networkErrorText, openaiErrorBody, publicMessage } from "../http/errors";
import { ShuttingDown, StreamEnded } from "../http/open-streams";
import { scrubText, streamScrubber } from "../redact";
import type { Watchdog } from "../upstream/watchdog";

export interface RelayOutcome {
  status: number;
  error?: string;
  /** The text of the last few reads (where the usage chunk is), when the stream completed. */
  lastText?: string;
}

export interface RelayOptions {
  /** Aborted when the client goes, to stop the upstream. */
  abort: AbortController;
  /** Idle and total timeouts of the upstream body, and keep-alive comments while it is silent. */
  watchdog?: Pick<Watchdog, "touch" | "sent" | "keepAlive" | "stop">;
  /** Keep-alive interval, ms (0: none). */
  pingMs?: number;
  /** Called once, when the relay ends for whatever reason. */
  onEnd(outcome: RelayOutcome): void;
  /** Sees every chunk and tells whether the stream was complete; default: it ended with `data: [DONE]`. */
  completion?: { see(chunk: Uint8Array): void; readonly complete: boolean };
  /** The event that tells the client the stream failed (default: sseErrorEvent); an upstream failure unless a status and code are given. */
  errorEvent?: (message: string, status?: number, code?: string) => Uint8Array;
}

const enc = new TextEncoder();
/** An SSE comment: every OpenAI client skips it, idle watchdogs see traffic. */
const KEEP_ALIVE = enc.encode(": ping\n\n");
const TAIL_BYTES = 64;
/** `data: [DONE]` and the end of its line: without the line end the event is not complete. */
const ENDS_WITH_DONE = /data:[ \t]*\[DONE\][ \t]*\r?\n\s*$/;

/** An SSE error event the `openai` SDK throws on; the blank lines first end any half-sent event. */
export function sseErrorEvent(message: string, status = 502, code = "upstream_error"): Uint8Array {
  return enc.encode(`\n\ndata: ${JSON.stringify(openaiErrorBody(status, scrubText(publicMessage(message)), code))}\n\n`);
}

/** The last few bytes seen, enough to tell whether the stream ended with `data: [DONE]`. */
function keepTail(tail: Uint8Array, chunk: Uint8Array): Uint8Array {
  if (chunk.byteLength >= TAIL_BYTES) return chunk.slice(chunk.byteLength - TAIL_BYTES);
  const joined = new Uint8Array(tail.byteLength + chunk.byteLength);
  joined.set(tail);
  joined.set(chunk, tail.byteLength);
  return joined.slice(Math.max(0, joined.byteLength - TAIL_BYTES));
}

export function relaySse(body: ReadableStream<Uint8Array>, opts: RelayOptions): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  // The upstream's own events (an error quoting its credential) pass through with our keys scrubbed.
  const scrubber = streamScrubber();
  const errorEvent = opts.errorEvent ?? sseErrorEvent;
  // The last reads, by reference (no copy per chunk): the usage chunk is among them at the end.
  let recent: Uint8Array[] = [];
  let tail: Uint8Array = new Uint8Array(0);
  let ended = false;
  const end = (outcome: RelayOutcome) => {
    if (ended) return;
    ended = true;
    opts.watchdog?.stop();
    opts.onEnd(outcome);
  };
  // Keep-alives go out only between events: never inside one the upstream is halfway through.
  let betweenEvents = true;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        opts.watchdog?.keepAlive(opts.pingMs ?? 0, () => {
          if (ended || !betweenEvents) return;
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
          } catch (err) {
            const reason: unknown = opts.abort.signal.reason;
            if (reason instanceof StreamEnded) {
              // Ended by the gateway (shutdown, a withdrawn key): the stream's last event says why.
              controller.enqueue(reason instanceof ShuttingDown ? errorEvent(reason.message) : errorEvent(reason.message, reason.status, reason.type));
              controller.close();
              end({ status: 200, error: reason.logAs });
              return;
            }
            if (opts.abort.signal.aborted) {
              end({ status: 499, error: "client_closed" });
              controller.close();
              return;
            }
            controller.enqueue(errorEvent(`the upstream connection failed mid-stream: ${networkErrorText(err)}`));
            controller.close();
            end({ status: 200, error: "upstream_failed" });
            return;
          }
          if (result.done) {
            const held = scrubber.end();
            if (held.byteLength) {
              tail = keepTail(tail, held);
              recent.push(held);
              opts.completion?.see(held);
              controller.enqueue(held);
            }
            const complete = opts.completion ? opts.completion.complete : ENDS_WITH_DONE.test(new TextDecoder().decode(tail));
            if (!complete) controller.enqueue(errorEvent("the upstream closed the stream before it was complete"));
            controller.close();
            end(complete ? { status: 200, lastText: Buffer.concat(recent).toString("utf8") } : { status: 200, error: "upstream_incomplete" });
            return;
          }
          const out = scrubber.push(result.value);
          if (out.byteLength === 0) continue; // held back (maybe the start of a key): read on, a pull must enqueue
          tail = keepTail(tail, out);
          recent = recent.length < 3 ? [...recent, out] : [recent[1]!, recent[2]!, out];
          opts.completion?.see(out);
          betweenEvents = tail.byteLength >= 2 && tail[tail.byteLength - 1] === 0x0a && tail[tail.byteLength - 2] === 0x0a;
          controller.enqueue(out);
          opts.watchdog?.sent();
          return;
        }
      },
      cancel() {
        opts.abort.abort();
        reader.cancel().catch(() => {});
        end({ status: 499, error: "client_closed" });
      },
    },
    { highWaterMark: 0 },
  );
}
