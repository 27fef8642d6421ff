/**
 * Reading a JSON request body safely: size-limited without holding an oversized
 * body in memory, strict UTF-8, and JSON errors turned into 400s.
 */
import { ApiError, invalidRequest } from "./errors";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Deepest nesting of arrays and objects accepted. JSON.parse copes with far more,
 * but JSON.stringify and any recursive walk further on would overflow the stack
 * (a 500), so such bodies are refused up front. Real requests stay far below this.
 */
export const MAX_JSON_DEPTH = 256;

/** Whether the JSON text's nesting stays within `limit` (brackets inside strings do not count). */
export function withinDepth(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0, n = bytes.length; i < n; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return false;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return true;
}

export function tooLarge(limit: number): ApiError {
  const size = limit >= 1024 * 1024 ? `${Math.round(limit / (1024 * 1024))} MB` : `${Math.round(limit / 1024)} KB`;
  return new ApiError(413, `request body is larger than the ${size} limit`, {
    type: "request_too_large",
    retryable: false,
  });
}

/**
 * All of a byte stream, or null as soon as it passes `limit` bytes (the rest is not
 * read: the stream is cancelled).
 */
export async function readAllLimited(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    const n = Number(declared);
    if (Number.isFinite(n) && n > limit) throw tooLarge(limit);
    if (Number.isFinite(n)) return new Uint8Array(await request.arrayBuffer());
  }
  if (!request.body) return new Uint8Array(0);
  // Chunked: count as we go and stop reading at the limit.
  const bytes = await readAllLimited(request.body, limit);
  if (bytes === null) throw tooLarge(limit);
  return bytes;
}

/** The body parsed as JSON, or an ApiError (400 / 413). */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const bytes = await readLimited(request, limit);
  if (bytes.byteLength > limit) throw tooLarge(limit);
  if (bytes.byteLength === 0) throw invalidRequest("request body is empty: expected a JSON object");
  if (!withinDepth(bytes, MAX_JSON_DEPTH)) {
    throw invalidRequest(`request body is nested too deeply (more than ${MAX_JSON_DEPTH} levels of arrays and objects)`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalidRequest("request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError) throw invalidRequest("request body is nested too deeply");
    throw invalidRequest(`request body is not valid JSON: ${(e as Error).message}`);
  }
}
