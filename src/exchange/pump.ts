/**
 * Reads the upstream's SSE body, feeds the stream translator, and hands the
 * resulting Anthropic events to a sink — the client's SSE stream, or an
 * accumulator for a non-streaming answer. Throws an ApiError when the upstream
 * fails mid-way (answer-failure.ts: the status a JSON answer would get); the caller
 * decides how to tell the client.
 */
import type { StreamEvent } from "../anthropic/events";
import type { ClientWatch } from "./client-watch";
import { ApiError } from "../http/errors";
import type { EventDecoder } from "../dialects/sse-reader";
import type { StreamTranslatorLike } from "../dialects";
import { answerFailure, asAnswerFailure } from "./answer-failure";

export interface PumpOptions<E> {
  body: ReadableStream<Uint8Array>;
  translator: StreamTranslatorLike<E>;
  /** The dialect's SSE decoder: bytes in, parsed upstream events out. */
  decoder: EventDecoder<E>;
  /** The client's side: stops the upstream (stop sequence matched, failure), and counts what is read once the client is gone. */
  client: ClientWatch;
  /** Receives events; may return a promise to apply backpressure. */
  sink: (events: StreamEvent[]) => void | Promise<void>;
  /** Told of every chunk read, to time the upstream's silences. */
  watchdog?: { touch(): void };
}

export async function pump<E>({ body, translator, decoder, client, sink, watchdog }: PumpOptions<E>): Promise<void> {
  const reader = body.getReader();
  let sawDone = false;
  let clean = false;
  try {
    read: for (;;) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      watchdog?.touch(); // time spent in the sink (a slow client) is not upstream silence
      try {
        result = await reader.read();
      } catch (err) {
        // An idle or total timeout aborts the read with its own ApiError (504 timeout_error).
        if (err instanceof ApiError) throw err;
        if (client.abort.signal.aborted) throw err;
        throw answerFailure({ kind: "connection", cause: err });
      }
      watchdog?.touch();
      if (!result.done) client.read(result.value.byteLength); // past the drain's bound once the client is gone: stopped
      const items = result.done ? decoder.end() : decoder.push(result.value);
      const events: StreamEvent[] = [];
      for (const item of items) {
        if (item.kind === "chunk") {
          try {
            for (const e of translator.push(item.chunk)) events.push(e);
          } catch (err) {
            if (events.length) await sink(events);
            throw asAnswerFailure(err);
          }
          if (translator.stopped) break;
        } else if (item.kind === "done") {
          sawDone = true; // keep reading to the end, so the connection can be reused
        } else {
          if (events.length) await sink(events);
          throw answerFailure({ kind: "reported", message: item.message });
        }
      }
      if (events.length) {
        const pending = sink(events);
        if (pending) await pending; // no promise to wait for unless the client is slow
      }
      if (translator.stopped) break read;
      if (result.done) {
        if (!sawDone && !translator.complete) {
          throw answerFailure({ kind: "incomplete" });
        }
        clean = true;
        break read;
      }
    }
  } finally {
    // Stop the upstream if it is still sending (stop sequence, error, client gone).
    if (!clean) client.stop();
    reader.releaseLock();
  }
  let final: StreamEvent[];
  try {
    final = translator.finish();
  } catch (err) {
    throw asAnswerFailure(err);
  }
  await sink(final);
}
