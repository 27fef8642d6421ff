/**
 * Upstream failures → ApiError with the status and type an Anthropic client acts on.
 * An UpstreamError also remembers what the retry loop needs: what happened
 * upstream, whether a retry could help, and how long the upstream asked us to wait.
 */
import { ApiError, networkErrorText, type AnthropicErrorType } from "../http/errors";
import { upstreamErrorMessage } from "../dialects/sse-reader";
import { MAX_REST_MS, fingerprint, redact } from "./keys";

export type FailureKind =
  /** The upstream answered with an error status. */
  | "status"
  /** No connection, connection reset, DNS failure, … */
  | "network"
  /** Connect, first-byte, idle or total timeout. */
  | "timeout";

export class UpstreamError extends ApiError {
  constructor(
    status: number,
    message: string,
    readonly kind: FailureKind,
    opts: {
      type?: AnthropicErrorType;
      headers?: Record<string, string>;
      retryable?: boolean;
      upstreamStatus?: number;
      retryAfterMs?: number;
      badKey?: boolean;
    } = {},
  ) {
    super(status, message, opts);
    this.name = "UpstreamError";
    this.upstreamStatus = opts.upstreamStatus;
    this.retryAfterMs = opts.retryAfterMs;
    this.badKey = opts.badKey ?? false;
  }
  /** The upstream's own HTTP status, for `kind: "status"`. */
  readonly upstreamStatus: number | undefined;
  /** What the upstream asked for in retry-after-ms / retry-after. */
  readonly retryAfterMs: number | undefined;
  /** The upstream rejected the key itself (401/403, or a 400 worded as a bad key). */
  readonly badKey: boolean;

  /** Worth another attempt (same or another key) by the gateway: connection errors, timeouts, 408, 409, 429, 5xx. */
  get transient(): boolean {
    if (this.kind !== "status") return true;
    const s = this.upstreamStatus ?? 0;
    return s === 408 || s === 409 || s === 429 || s >= 500;
  }
}

/** xAI answers a bad key with 400, not 401: recognise it by its wording. */
export function isBadKeyMessage(message: string): boolean {
  return /api[ -]?key/i.test(message) && /(incorrect|invalid|no such|not valid|unauthori[sz]ed|revoked|expired)/i.test(message);
}

/**
 * The longest rest the upstream can ask for: a `retry-after: 1e308` (or a date years
 * ahead) would otherwise bench a key for ever. Past it, the key is simply tried again.
 */
/** The longest rest the upstream may ask for: a key's rest is capped there too (keys.ts). */
export const MAX_RETRY_AFTER_MS = MAX_REST_MS;

/** `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date) → milliseconds, at most MAX_RETRY_AFTER_MS. */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = readRetryAfter(headers, now);
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

function readRetryAfter(headers: Headers, now: number): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const ra = headers.get("retry-after");
  if (ra === null || ra.trim() === "") return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(ra);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** retry-after headers for the client, from milliseconds. */
export function retryAfterHeaders(ms: number | undefined): Record<string, string> {
  if (ms === undefined) return {};
  return { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))), "retry-after-ms": String(Math.ceil(ms)) };
}

export function fromUpstreamStatus(status: number, bodyText: string, headers: Headers): UpstreamError {
  let message: string | undefined;
  try {
    message = upstreamErrorMessage(JSON.parse(bodyText));
  } catch {
    message = bodyText.trim().slice(0, 1000) || undefined;
  }
  message ??= `the upstream answered HTTP ${status}`;
  const retryAfterMs = parseRetryAfter(headers);
  const base = { upstreamStatus: status, retryAfterMs };
  if (((status === 400 || status === 401) && isBadKeyMessage(message)) || status === 401) {
    return new UpstreamError(401, message, "status", { ...base, type: "authentication_error", retryable: false, badKey: true });
  }
  if (status === 403) return new UpstreamError(403, message, "status", { ...base, retryable: false, badKey: true });
  if (status === 429) return new UpstreamError(429, message, "status", { ...base, headers: retryAfterHeaders(retryAfterMs) });
  if (status === 408 || status === 504) return new UpstreamError(504, message, "status", { ...base, type: "timeout_error" });
  if (status >= 500) {
    return new UpstreamError(529, message, "status", { ...base, type: "overloaded_error", headers: retryAfterHeaders(retryAfterMs) });
  }
  if (status === 409) return new UpstreamError(409, message, "status", base);
  if (status === 422) return new UpstreamError(400, message, "status", { ...base, retryable: false });
  if (status >= 400 && status < 500) return new UpstreamError(status, message, "status", { ...base, retryable: false });
  return new UpstreamError(502, message, "status", { ...base, type: "api_error" });
}

/** The upstream answered with a redirect, which is never followed (the prompt would go elsewhere). */
export function redirected(status: number): UpstreamError {
  return new UpstreamError(502, `the upstream answered with a redirect (HTTP ${status}), which grok2api does not follow — check upstream.base_url`, "status", {
    type: "api_error",
    retryable: false,
    upstreamStatus: status,
  });
}

export function fromNetworkError(err: unknown): UpstreamError {
  return new UpstreamError(502, `could not reach the upstream: ${networkErrorText(err)}`, "network", { type: "api_error" });
}

export function timeoutError(what: string): UpstreamError {
  return new UpstreamError(504, `the upstream timed out: ${what}`, "timeout", { type: "timeout_error" });
}

/** The caller's signal aborted: the client went away. Only the access log sees it. */
export function clientClosed(): ApiError {
  return new ApiError(499, "the client closed the request", { type: "api_error" });
}

/**
 * The pool's keys were refused by the upstream. Not the client's fault, so not a 401:
 * a 403 stays a 403 (permission_error), anything else is a 502; a retry will not help.
 */
export function keysRejected(size: number, key: string | undefined, last: UpstreamError | undefined): UpstreamError {
  const which = size === 1 ? "the configured upstream key" : `every configured upstream key (${size})`;
  const tried = key ? ` (last tried: ${fingerprint(key)})` : "";
  const detail = last ? `: ${key ? redact(last.message, key) : last.message}` : "";
  const forbidden = last?.upstreamStatus === 403;
  return new UpstreamError(
    forbidden ? 403 : 502,
    `the upstream rejected ${which}${tried}${detail} — check XAI_API_KEY / upstream.api_keys`,
    "status",
    { type: forbidden ? "permission_error" : "api_error", retryable: false, upstreamStatus: last?.upstreamStatus, badKey: true },
  );
}

/** Every key of the pool is resting after a 429 for longer than the gateway may wait. */
export function allKeysCooling(size: number, waitMs: number, last: UpstreamError | undefined): UpstreamError {
  const message = last?.upstreamStatus === 429 ? last.message : `all ${size} upstream key${size === 1 ? " is" : "s are"} rate limited`;
  return new UpstreamError(429, message, "status", { headers: retryAfterHeaders(waitMs), upstreamStatus: 429, retryAfterMs: waitMs });
}
