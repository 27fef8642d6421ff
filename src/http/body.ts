/**
 * Reading a JSON request body safely: size-limited without holding an oversized
 * body in memory, strict UTF-8, and JSON errors turned into 400s.
 */
import { ApiError, invalidRequest } from "./errors";
import { JsonSliceError, parseJsonSliced } from "./json-sliced";
import { LARGE_BODY_BYTES, Slicer } from "./slicer";

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
    // The rest of the body is not read: this connection cannot carry another request.
    headers: { connection: "close" },
  });
}

/**
 * How far past the limit a body is still read (and thrown away) before the 413 goes
 * out: a client that is still sending when the answer comes (Node's fetch, the
 * Anthropic SDK) sees a broken pipe instead of the answer and retries. Beyond this,
 * the 413 goes out at once.
 */
export const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
export const drainLimit = (limit: number) => limit + Math.min(limit, MAX_DRAIN_BYTES);

/** How long a client may take to send its body, unless the configuration says otherwise (`body_timeout`). */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

export function bodyTimedOut(ms: number): ApiError {
  return new ApiError(408, `the request body was not received within ${Math.round(ms / 100) / 10} s`, {
    type: "timeout_error",
    headers: { connection: "close" },
  });
}

const TIMED_OUT = Symbol("timed out");

/**
 * All of a byte stream, or null as soon as it passes `limit` bytes (the rest is not
 * read: the stream is cancelled). With `drainTo`, bytes past the limit are read and
 * thrown away up to that many in all, so the sender can finish and read the answer.
 * With `timeoutMs`, a stream not finished in that time is cancelled and the result is
 * the string "timeout". With `expected` (a declared length within the limit), each chunk
 * is copied into place as it arrives; otherwise the chunks are joined at the end. Either way
 * the event loop gets a turn every slice of work (slicer.ts): from a fast sender, every read
 * is answered at once, and a loop of reads and copies never let /health in (one copy of 30 MB
 * alone held it for tens of milliseconds).
 */
export async function readAllLimited(
  body: ReadableStream<Uint8Array>,
  limit: number,
  opts: { drainTo?: number; timeoutMs?: number; expected?: number } = {},
): Promise<Uint8Array | null | "timeout"> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout =
    opts.timeoutMs && opts.timeoutMs > 0
      ? new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), opts.timeoutMs)))
      : null;
  const read = () => (timeout ? Promise.race([reader.read(), timeout]) : reader.read());
  // Filled in place while the stream keeps to the expected length; the chunks past it (or all of them) in `parts`.
  let filled = opts.expected !== undefined && opts.expected > 0 && opts.expected <= limit ? new Uint8Array(opts.expected) : undefined;
  let at = 0;
  const parts: Uint8Array[] = [];
  let total = 0;
  const slicer = new Slicer();
  try {
    for (;;) {
      await slicer.pause();
      const r = await read();
      if (r === TIMED_OUT) {
        await reader.cancel().catch(() => {});
        return "timeout";
      }
      if (r.done) break;
      total += r.value.byteLength;
      if (total > limit) {
        if (total > (opts.drainTo ?? limit)) {
          await reader.cancel().catch(() => {});
          return null;
        }
        parts.length = 0; // draining: keep nothing
        filled = undefined;
        continue;
      }
      if (filled && at + r.value.byteLength <= filled.byteLength) {
        await copySliced(filled, r.value, at, slicer);
        at += r.value.byteLength;
        continue;
      }
      if (filled) {
        parts.push(filled.subarray(0, at)); // longer than expected: joined at the end
        filled = undefined;
      }
      parts.push(r.value);
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (total > limit) return null;
  if (filled) return at === filled.byteLength ? filled : filled.subarray(0, at);
  return joinSliced(parts, total, slicer);
}

/** Bytes copied between two chances to pause. */
const COPY_BYTES = 1024 * 1024;

/** `to.set(from, at)`, a megabyte at a time, pausing as the slicer says (a fast sender's chunks can be tens of megabytes). */
async function copySliced(to: Uint8Array, from: Uint8Array, at: number, slicer: Slicer): Promise<void> {
  for (let done = 0; done < from.byteLength; done += COPY_BYTES) {
    if (done > 0) await slicer.pause();
    to.set(from.subarray(done, done + COPY_BYTES), at + done);
  }
}

async function joinSliced(parts: readonly Uint8Array[], total: number, slicer: Slicer): Promise<Uint8Array> {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    await slicer.pause();
    await copySliced(out, p, at, slicer);
    at += p.byteLength;
  }
  return out;
}

/**
 * A body of a declared length within the limit: HTTP framing ends it there, so Bun reads
 * it natively, in one piece, without a JavaScript stream reader and its promise per chunk.
 * It races the body timeout (408; the answer closes the connection, which ends the read).
 */
async function readDeclared(request: Request, timeoutMs: number): Promise<Uint8Array> {
  const reading = request.bytes();
  if (!(timeoutMs > 0)) return reading;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs)));
  try {
    const r = await Promise.race([reading, timedOut]);
    if (r === TIMED_OUT) {
      reading.catch(() => {});
      throw bodyTimedOut(timeoutMs);
    }
    return r;
  } finally {
    clearTimeout(timer);
  }
}

/** The whole body, or a 413 past `limit` bytes (408 past `timeoutMs`). */
export async function readLimited(request: Request, limit: number, timeoutMs: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  const drainTo = drainLimit(limit);
  if (declared !== null) {
    const n = Number(declared);
    // Too large to be worth reading even to throw away: answer at once.
    if (Number.isFinite(n) && n > drainTo) throw tooLarge(limit);
  }
  if (!request.body) return new Uint8Array(0);
  // A large body is read chunk by chunk: Bun's one-piece read holds the event loop while megabytes arrive.
  if (declared !== null && Number(declared) <= limit && Number(declared) < LARGE_BODY_BYTES) return readDeclared(request, timeoutMs);
  const expected = declared !== null && Number(declared) <= limit ? Number(declared) : undefined;
  const bytes = await readAllLimited(request.body, limit, { drainTo, timeoutMs, expected });
  if (bytes === "timeout") throw bodyTimedOut(timeoutMs);
  if (bytes === null) throw tooLarge(limit);
  return bytes;
}

/** The body parsed as JSON, or an ApiError (400 / 408 / 413): at most `limit` bytes, sent within `timeoutMs`. */
export async function readJsonBody(request: Request, limit: number, timeoutMs = DEFAULT_BODY_TIMEOUT_MS): Promise<unknown> {
  return (await readJsonBodySized(request, limit, timeoutMs)).value;
}

/**
 * The body parsed as JSON, and its size in bytes. A large body (LARGE_BODY_BYTES) is checked
 * and parsed in slices (json-sliced.ts), so that it does not hold the event loop meanwhile.
 */
export async function readJsonBodySized(request: Request, limit: number, timeoutMs = DEFAULT_BODY_TIMEOUT_MS): Promise<{ value: unknown; bytes: number }> {
  const bytes = await readLimited(request, limit, timeoutMs);
  if (bytes.byteLength > limit) throw tooLarge(limit);
  if (bytes.byteLength === 0) throw invalidRequest("request body is empty: expected a JSON object");
  if (bytes.byteLength >= LARGE_BODY_BYTES) return { value: await parseLarge(bytes), bytes: bytes.byteLength };
  if (!withinDepth(bytes, MAX_JSON_DEPTH)) throw tooDeep();
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw notUtf8();
  }
  try {
    return { value: JSON.parse(text), bytes: bytes.byteLength };
  } catch (e) {
    if (e instanceof RangeError) throw invalidRequest("request body is nested too deeply");
    throw invalidRequest(`request body is not valid JSON: ${(e as Error).message}`);
  }
}

const tooDeep = () => invalidRequest(`request body is nested too deeply (more than ${MAX_JSON_DEPTH} levels of arrays and objects)`);
const notUtf8 = () => invalidRequest("request body is not valid UTF-8");

async function parseLarge(bytes: Uint8Array): Promise<unknown> {
  try {
    return await parseJsonSliced(bytes, MAX_JSON_DEPTH, new Slicer());
  } catch (e) {
    if (!(e instanceof JsonSliceError)) throw e;
    if (e.kind === "depth") throw tooDeep();
    if (e.kind === "utf8") throw notUtf8();
    throw invalidRequest(`request body is not valid JSON: ${e.message}`);
  }
}
