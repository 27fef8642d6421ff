/**
 * The translation thread (started by translation.ts from bundled source): a large Messages
 * request, as JSON, → the upstream's request body, as JSON — parsing, the conversation walk
 * and the serialization happen here, never on the thread that serves requests.
 * In: `{ id, parts, api, opts }` (the request's UTF-8 JSON in parts). Out: `{ id, result }` where
 * result is `{ payload, model, warnings, replayedReasoning, restoredReasoning }` or `{ refused: ApiErrorData }`.
 */
import type { MessagesRequest } from "../anthropic/schema";
import { ApiError, apiErrorData } from "../http/errors";
import { dialectFor, type RequestOptions, type UpstreamApi } from "../dialects";

declare const self: Worker;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function joined(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

self.onmessage = (e: MessageEvent<{ id: number; parts: Uint8Array[]; api: UpstreamApi; opts: RequestOptions }>) => {
  const { id, parts, api, opts } = e.data;
  try {
    const req = JSON.parse(decoder.decode(joined(parts))) as MessagesRequest;
    const t = dialectFor(api).request(req, opts);
    const payload = encoder.encode(JSON.stringify(t.body));
    const result = { payload, model: t.body.model, warnings: t.warnings, replayedReasoning: t.replayedReasoning, restoredReasoning: t.restoredReasoning };
    self.postMessage({ id, result }, [payload.buffer]);
  } catch (err) {
    if (err instanceof ApiError) self.postMessage({ id, result: { refused: apiErrorData(err) } });
    else if (err instanceof RangeError) {
      const tooDeep = new ApiError(400, "request body is nested too deeply", { type: "invalid_request_error" });
      self.postMessage({ id, result: { refused: apiErrorData(tooDeep) } });
    } else self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
