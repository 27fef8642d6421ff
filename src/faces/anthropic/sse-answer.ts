/**
 * The Anthropic SSE answer: one write and one flush per batch of events (all that one
 * upstream read produced), backpressure from the client, `event: ping` while the upstream
 * is silent, and `event: error` when the upstream fails after the 200. When the client goes,
 * nothing more is written; `run` reads the upstream on (within the drain policy: its usage is
 * what the request is charged), and the stream ends as 499.
 */
import { encodeEvent, PING_FRAME, type StreamEvent } from "../../anthropic/events";
import type { ClientWatch } from "../../exchange/client-watch";
import { ApiError, toApiError } from "../../http/errors";
import type { Logger } from "../../http/log";
import type { Secrets } from "../../redact";
import type { Watchdog } from "../../upstream/watchdog";

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
};

/** A direct stream's flush() answers a number, or a promise while the client drains. */
const flushed = (f: number | Promise<number>): Promise<void> | undefined =>
  typeof f === "number" ? undefined : f.then(() => undefined);

export interface SseAnswerOptions {
  /** The first events (message_start). */
  start: StreamEvent[];
  /** Feeds the rest through `write` until the message is over; throws when the upstream fails. */
  run(write: (events: StreamEvent[]) => Promise<void> | undefined): Promise<void>;
  watchdog: Watchdog;
  pingMs: number;
  /** The client's side: gone when it went away (the upstream is then drained, then stopped). */
  client: ClientWatch;
  /** What an error event may not show (an upstream's error text may quote the credential it was sent). */
  secrets: Secrets;
  logger: Logger;
  requestId: string;
  /** Runs before the error event goes out (the request charged and committed, as before a last event). */
  beforeError?: () => void | Promise<void>;
  /** Called once at the end with the status and error for the access log. */
  onEnd(status: number, error: string | undefined): void;
}

export function sseAnswer(o: SseAnswerOptions): Response {
  const { watchdog } = o;
  const stream = new ReadableStream({
    type: "direct",
    async pull(controller: ReadableStreamDirectController) {
      let writing = false; // waiting for the client to drain: no ping may slip in between
      let closed = false;
      // A write waiting for a client that went never completes: its leaving ends the wait.
      const gone = new Promise<void>((resolve) => o.client.onGone(resolve));
      const write = (events: StreamEvent[]): Promise<void> | undefined => {
        if (o.client.isGone) return undefined; // nothing more reaches the client; the upstream is read on
        let frames = "";
        for (const e of events) frames += encodeEvent(e);
        watchdog.sent();
        const w = controller.write(frames);
        const pending = typeof w === "number" ? flushed(controller.flush()) : w.then(() => flushed(controller.flush()));
        if (!pending) return undefined;
        writing = true;
        return Promise.race([pending, gone]).finally(() => {
          writing = false;
          watchdog.sent();
        });
      };
      // Keep-alive: clients with idle watchdogs keep waiting while the upstream thinks in silence.
      watchdog.keepAlive(o.pingMs, () => {
        if (writing || closed) return;
        try {
          controller.write(PING_FRAME);
          controller.flush();
        } catch {
          // the client is gone; the abort path ends the stream
        }
      });
      let status = 200;
      let error: string | undefined;
      try {
        await write(o.start);
        await o.run(write);
        if (o.client.isGone) {
          error = "client_closed";
          status = 499;
        }
      } catch (err) {
        if (!o.client.isGone) {
          const e = toApiError(err);
          if (!(err instanceof ApiError)) o.logger.warn("stream failed", { request_id: o.requestId, error: String(err) });
          error = e.type;
          try {
            await o.beforeError?.();
          } catch (err) {
            o.logger.warn("recording the failed stream failed", { request_id: o.requestId, error: String(err) });
          }
          try {
            await write([{ type: "error", error: { type: e.type, message: o.secrets.text(e.message) } }]);
          } catch {
            // client already gone
          }
        } else {
          error = "client_closed";
          status = 499;
        }
      } finally {
        closed = true;
        try {
          o.onEnd(status, error);
        } catch (err) {
          o.logger.warn("ending the stream's bookkeeping failed", { request_id: o.requestId, error: String(err) });
        }
        try {
          controller.close();
        } catch {
          // already closed
        }
      }
    },
    cancel() {
      o.client.gone();
    },
  });
  return new Response(stream, { headers: SSE_HEADERS });
}
