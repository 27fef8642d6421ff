/**
 * Incremental reader of the upstream's SSE stream: bytes in (any split, even
 * inside a UTF-8 sequence or a line), parsed chat-completion chunks out.
 * Pure: no I/O; the caller feeds it what it reads.
 */
import { createParser } from "eventsource-parser";
import type { ChatChunk } from "./chat/wire";
import { isRecord } from "../is-record";

export type UpstreamItem<T = ChatChunk> =
  | { kind: "chunk"; chunk: T }
  | { kind: "done" }
  | { kind: "error"; message: string; status?: number };

export interface EventDecoder<T> {
  push(bytes: Uint8Array): UpstreamItem<T>[];
  end(): UpstreamItem<T>[];
}

export type ChunkDecoder = EventDecoder<ChatChunk>;

/** Whether a parsed event is the upstream reporting an error, by its SSE event name and its data. */
export type ErrorTest = (eventName: string | undefined, data: Record<string, unknown>) => boolean;

/** Upper bound for one SSE event (a single chunk can carry a whole tool call). */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/** Upstream error payloads: xAI `{"code","error":"…"}`, OpenAI `{"error":{"message"}}`. */
export function upstreamErrorMessage(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const e = body.error;
  if (typeof e === "string") return e;
  if (isRecord(e) && typeof e.message === "string") return e.message;
  const m = body.message;
  return typeof m === "string" ? m : undefined;
}

/** Chat completions: an `error` event, or an object with `error` and no `choices`. */
const chatError: ErrorTest = (name, data) => name === "error" || (data.error !== undefined && data.choices === undefined);

export function createChunkDecoder(): ChunkDecoder {
  return createEventDecoder<ChatChunk>(chatError);
}

/** SSE bytes → parsed JSON events of one dialect; `[DONE]`, errors and bad JSON as their own items. */
export function createEventDecoder<T>(isError: ErrorTest): EventDecoder<T> {
  const decoder = new TextDecoder();
  let out: UpstreamItem<T>[] = [];
  const parser = createParser({
    maxBufferSize: MAX_EVENT_BYTES,
    onEvent(ev) {
      const data = ev.data;
      if (data === "[DONE]") {
        out.push({ kind: "done" });
        return;
      }
      if (!data) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        out.push({ kind: "error", message: "the upstream sent a stream event that is not valid JSON" });
        return;
      }
      if (!isRecord(parsed)) {
        out.push({ kind: "error", message: "the upstream sent a stream event that is not a JSON object" });
        return;
      }
      if (isError(ev.event, parsed)) {
        out.push({ kind: "error", message: upstreamErrorMessage(parsed) ?? "the upstream reported an error mid-stream" });
        return;
      }
      // Unchecked here: each dialect's translator checks what it reads (chat/check.ts, the Responses translator field by field).
      out.push({ kind: "chunk", chunk: parsed as T });
    },
    onError(err) {
      // Unknown fields and bad `retry:` lines are harmless; an event too large to hold is not.
      if (err.type === "max-buffer-size-exceeded") {
        out.push({ kind: "error", message: "the upstream sent a stream event larger than 16 MB" });
      }
    },
  });
  const drain = () => {
    const items = out;
    out = [];
    return items;
  };
  return {
    push(bytes) {
      parser.feed(decoder.decode(bytes, { stream: true }));
      return drain();
    },
    end() {
      const rest = decoder.decode();
      if (rest) parser.feed(rest);
      parser.reset({ consume: true });
      return drain();
    },
  };
}
