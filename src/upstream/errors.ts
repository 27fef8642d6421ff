/** Upstream failures → ApiError with the status and type an Anthropic client acts on. */
import { ApiError } from "../http/errors";
import { upstreamErrorMessage } from "../openai/sse-reader";

/** xAI answers a bad key with 400, not 401: recognise it by its wording. */
export function isBadKeyMessage(message: string): boolean {
  return /api[ -]?key/i.test(message) && /(incorrect|invalid|no such|not valid|unauthori[sz]ed|revoked|expired)/i.test(message);
}

function retryAfterHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  const ra = headers.get("retry-after");
  if (ra) out["retry-after"] = ra;
  const ms = headers.get("retry-after-ms");
  if (ms) out["retry-after-ms"] = ms;
  return out;
}

export function fromUpstreamStatus(status: number, bodyText: string, headers: Headers): ApiError {
  let message: string | undefined;
  try {
    message = upstreamErrorMessage(JSON.parse(bodyText));
  } catch {
    message = bodyText.trim().slice(0, 1000) || undefined;
  }
  message ??= `the upstream answered HTTP ${status}`;
  if ((status === 400 || status === 401) && isBadKeyMessage(message)) {
    return new ApiError(401, message, { type: "authentication_error", retryable: false });
  }
  if (status === 429) return new ApiError(429, message, { headers: retryAfterHeaders(headers) });
  if (status === 408 || status === 504) return new ApiError(504, message, { type: "timeout_error" });
  if (status >= 500) return new ApiError(529, message, { type: "overloaded_error", headers: retryAfterHeaders(headers) });
  if (status === 422) return new ApiError(400, message, { retryable: false });
  if (status === 401 || status === 403 || status === 404 || status === 400 || status === 413) {
    return new ApiError(status, message, { retryable: false });
  }
  return new ApiError(status >= 400 && status < 600 ? status : 502, message, { type: status >= 500 ? "api_error" : undefined });
}

export function fromNetworkError(err: unknown): ApiError {
  const detail = err instanceof Error ? err.message : String(err);
  return new ApiError(502, `could not reach the upstream: ${detail}`, { type: "api_error" });
}
