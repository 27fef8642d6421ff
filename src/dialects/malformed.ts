/**
 * An upstream answer (status 200) whose body is not what its dialect promises: truncated or
 * empty JSON, `null`, fields of the wrong type. The route answers 502 `api_error` with the
 * plain message, never a 500.
 */
export class MalformedUpstream extends Error {
  override readonly name = "MalformedUpstream";
}

/** A streamed tool call that cannot become a tool_use block (no name, arguments beyond repair). */
export class ToolArgumentsError extends MalformedUpstream {}

export { isRecord } from "../is-record";

/** Larger than any real token count: an upstream number past it is not believed. */
const MAX_TOKENS = 1e12;

/**
 * A token count the upstream sent, untrusted: a number that cannot be a count (negative,
 * not finite, absurdly large) is dropped (undefined: the caller falls back to its estimate),
 * a fraction is rounded down. Absent is fine. With `strict`, a value that is not a number at
 * all (a string, an object) makes the answer malformed; without, it is dropped too (a stream
 * whose text the client already has must not be lost over its bookkeeping).
 */
export function count(v: unknown, what: string, strict = true): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number") {
    if (strict) throw new MalformedUpstream(`the upstream sent a ${what} that is not a number`);
    return undefined;
  }
  return Number.isFinite(v) && v >= 0 && v <= MAX_TOKENS ? Math.floor(v) : undefined;
}
