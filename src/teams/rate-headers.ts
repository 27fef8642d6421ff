/**
 * Rate-limit response headers. A virtual key's own rpm / tpm limits as they stand after its
 * request; where the key has no such limit (or the request was made with a static key), the
 * upstream's own `x-ratelimit-*` figures passed on. Anthropic's names on /v1/messages
 * (`anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`, reset in RFC 3339), OpenAI's on
 * the OpenAI faces (`x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, reset as a duration
 * such as "17s"). xAI sends limit and remaining, no reset (reference: batches-files-mcp.md §5). Pure.
 */

export interface LimitWindow {
  limit: number;
  remaining: number;
  /** When the window resets, ms since the epoch (the gateway's own limits). */
  resetMs?: number;
  /** The upstream's own reset figure, passed on as it came (OpenAI faces only). */
  resetText?: string;
}

export interface RateLimits {
  requests?: LimitWindow;
  tokens?: LimitWindow;
}

export type Face = "anthropic" | "openai";

const KINDS = ["requests", "tokens"] as const;

/** A count the upstream sent: digits only (anything else is not passed on). */
function count(v: string | null): number | undefined {
  if (v === null) return undefined;
  const t = v.trim();
  return /^\d{1,15}$/.test(t) ? Number(t) : undefined;
}

/** A reset figure safe to pass on (a duration or a date; short, no control characters). */
const safeReset = (v: string | null): string | undefined => (v !== null && /^[0-9A-Za-z.:+\- ]{1,40}$/.test(v.trim()) ? v.trim() : undefined);

/** The upstream's `x-ratelimit-*` figures, if it sent any. */
export function upstreamLimits(headers: Headers): RateLimits | undefined {
  let out: RateLimits | undefined;
  for (const kind of KINDS) {
    const limit = count(headers.get(`x-ratelimit-limit-${kind}`));
    const remaining = count(headers.get(`x-ratelimit-remaining-${kind}`));
    if (limit === undefined || remaining === undefined) continue;
    const resetText = safeReset(headers.get(`x-ratelimit-reset-${kind}`));
    (out ??= {})[kind] = { limit, remaining, ...(resetText ? { resetText } : {}) };
  }
  return out;
}

/** RFC 3339 to the second, as Anthropic writes it: 2025-08-21T12:40:59Z. */
const rfc3339 = (ms: number) => new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** A duration as OpenAI writes it: "17s", "1m0s". */
function duration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

/**
 * The headers for a response: per kind (requests, tokens), the key's own limit when it has one,
 * else the upstream's. Empty when neither says anything.
 */
export function rateLimitHeaders(own: RateLimits | undefined, upstream: RateLimits | undefined, face: Face, nowMs: number): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const kind of KINDS) {
    const w = own?.[kind] ?? upstream?.[kind];
    if (!w) continue;
    const remaining = String(Math.max(0, Math.min(w.remaining, w.limit)));
    if (face === "anthropic") {
      out.push([`anthropic-ratelimit-${kind}-limit`, String(w.limit)], [`anthropic-ratelimit-${kind}-remaining`, remaining]);
      if (w.resetMs !== undefined) out.push([`anthropic-ratelimit-${kind}-reset`, rfc3339(w.resetMs)]);
    } else {
      out.push([`x-ratelimit-limit-${kind}`, String(w.limit)], [`x-ratelimit-remaining-${kind}`, remaining]);
      const reset = w.resetMs !== undefined ? duration(w.resetMs - nowMs) : w.resetText;
      if (reset !== undefined) out.push([`x-ratelimit-reset-${kind}`, reset]);
    }
  }
  return out;
}
