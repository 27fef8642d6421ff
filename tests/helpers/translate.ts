/** Runs upstream SSE bytes through the real decoder and stream translator, the way exchange/pump.ts does. */
import type { StreamEvent } from "../../src/anthropic/events";
import { createChunkDecoder } from "../../src/dialects/sse-reader";
import { StreamTranslator, type StreamOptions } from "../../src/dialects/chat/stream";

export const enc = new TextEncoder();

/** A translator for a request that enabled thinking (the tests of how reasoning is shown), unless `opts` says otherwise. */
export function newTranslator(opts: Partial<StreamOptions> = {}) {
  return new StreamTranslator({ messageId: "msg_test", model: "claude-test", inputTokensEstimate: 10, thinking: true, ...opts });
}

/** All events for the given wire pieces: message_start … message_stop. Throws what the translator throws. */
export function translatePieces(pieces: Uint8Array[], opts: Partial<StreamOptions> = {}): StreamEvent[] {
  const decoder = createChunkDecoder();
  const t = newTranslator(opts);
  const events = [...t.start()];
  const feed = (items: ReturnType<typeof decoder.push>) => {
    for (const item of items) {
      if (t.stopped) return;
      if (item.kind === "chunk") events.push(...t.push(item.chunk));
      else if (item.kind === "error") throw new Error(`decoder error: ${item.message}`);
    }
  };
  for (const p of pieces) feed(decoder.push(p));
  feed(decoder.end());
  events.push(...t.finish());
  return events;
}

/** Translate whole chunks (no SSE layer). */
export function translateChunks(chunks: unknown[], opts: Partial<StreamOptions> = {}): StreamEvent[] {
  const t = newTranslator(opts);
  const events = [...t.start()];
  for (const c of chunks) {
    if (t.stopped) break;
    events.push(...t.push(c as never));
  }
  events.push(...t.finish());
  return events;
}
