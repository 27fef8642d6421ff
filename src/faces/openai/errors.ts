/** The error events of the OpenAI faces' streams, for a failure after the 200 (messages scrubbed of secrets by the caller). */
import { openaiErrorBody, publicMessage } from "../../http/errors";

const enc = new TextEncoder();

/** A chat-completions stream's error: a data event the `openai` SDK throws on; the blank lines first end any half-sent event. */
export function openaiStreamError(message: string, status = 502, code = "upstream_error"): Uint8Array {
  return enc.encode(`\n\ndata: ${JSON.stringify(openaiErrorBody(status, publicMessage(message), code))}\n\n`);
}

/**
 * A Responses stream's `error` event: the `openai` SDK throws on its `error` field,
 * and a client that reads only the event type (Codex) sees a stream that failed
 * before `response.completed`.
 */
export function responsesStreamError(raw: string, status = 502, code = "upstream_error"): Uint8Array {
  const message = publicMessage(raw);
  const { error } = openaiErrorBody(status, message, code);
  const data = { type: "error", code, message, param: null, error };
  return enc.encode(`\n\nevent: error\ndata: ${JSON.stringify(data)}\n\n`);
}
