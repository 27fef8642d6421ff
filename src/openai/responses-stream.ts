/**
 * What the relay needs to know of a Responses API stream, without parsing it:
 * whether it is complete, and how to tell the client it failed. xAI's Responses
 * streams have `event:` lines and no `data: [DONE]`: a stream is complete once it
 * has sent `response.completed`, `response.incomplete` or `response.failed` (or the
 * upstream's own `error` event, which the client has then seen). Pure.
 */
import { openaiErrorBody, publicMessage } from "../http/errors";
import { scrubText } from "../redact";

const enc = new TextEncoder();

/** Event lines that end a Responses stream; the leading newline keeps a model's text (JSON-escaped) from matching. */
const TERMINAL = ["response.completed", "response.incomplete", "response.failed", "error"].flatMap((name) =>
  ["\n", "\r"].map((eol) => Buffer.from(`\nevent: ${name}${eol}`)),
);
const OVERLAP = Math.max(...TERMINAL.map((m) => m.byteLength)) - 1;

export interface CompletionCheck {
  /** Every chunk of the stream, in order. */
  see(chunk: Uint8Array): void;
  readonly complete: boolean;
}

/** Scans the bytes for a terminal event line, across chunk boundaries, until it finds one. */
export function responsesCompletion(): CompletionCheck {
  let complete = false;
  let tail = Buffer.alloc(0);
  const found = (buf: Buffer) => TERMINAL.some((m) => buf.indexOf(m) !== -1);
  return {
    see(chunk) {
      if (complete || chunk.byteLength === 0) return;
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      // A marker split between the previous chunk and this one.
      const seam = Buffer.concat([tail, buf.subarray(0, OVERLAP)]);
      if (found(seam) || found(buf)) {
        complete = true;
        return;
      }
      tail =
        buf.byteLength >= OVERLAP
          ? Buffer.from(buf.subarray(buf.byteLength - OVERLAP))
          : Buffer.from(Buffer.concat([tail, buf]).subarray(-OVERLAP));
    },
    get complete() {
      return complete;
    },
  };
}

/**
 * A Responses stream's `error` event: the `openai` SDK throws on its `error` field,
 * and a client that reads only the event type (Codex) sees a stream that failed
 * before `response.completed`. The blank lines first end any half-sent event.
 */
export function responsesErrorEvent(raw: string, status = 502, code = "upstream_error"): Uint8Array {
  const message = scrubText(publicMessage(raw));
  const { error } = openaiErrorBody(status, message, code);
  const data = { type: "error", code, message, param: null, error };
  return enc.encode(`\n\nevent: error\ndata: ${JSON.stringify(data)}\n\n`);
}
