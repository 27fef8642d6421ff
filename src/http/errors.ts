/**
 * Error types and the two wire envelopes (Anthropic and OpenAI).
 * Everything that fails on the way to the client becomes an ApiError.
 */

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "conflict_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "timeout_error"
  | "overloaded_error";

const TYPE_BY_STATUS: Record<number, AnthropicErrorType> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  409: "conflict_error",
  413: "request_too_large",
  422: "invalid_request_error",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

export function errorTypeForStatus(status: number): AnthropicErrorType {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: AnthropicErrorType;
  /** Extra response headers, e.g. retry-after. */
  readonly headers: Record<string, string>;
  /** Whether a client retry could help; undefined leaves the SDK's own rule in force. */
  readonly retryable: boolean | undefined;
  /** Anthropic's `error.details` (e.g. `{error_code: "file_not_downloadable"}`, which the SDK turns into its own error class). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    status: number,
    message: string,
    opts: { type?: AnthropicErrorType; headers?: Record<string, string>; retryable?: boolean; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.type = opts.type ?? errorTypeForStatus(status);
    this.headers = opts.headers ?? {};
    this.retryable = opts.retryable;
    this.details = opts.details;
  }
}

/** An ApiError as it crosses between threads: a worker's structured clone keeps the fields, not the class. */
export interface ApiErrorData {
  status: number;
  type: AnthropicErrorType;
  message: string;
  headers: Record<string, string>;
  retryable: boolean | undefined;
  details: Record<string, unknown> | undefined;
}

export const apiErrorData = (e: ApiError): ApiErrorData => ({
  status: e.status,
  type: e.type,
  message: e.message,
  headers: e.headers,
  retryable: e.retryable,
  details: e.details,
});

/** The ApiError an ApiErrorData was made from. */
export const apiErrorFrom = (d: ApiErrorData): ApiError =>
  new ApiError(d.status, d.message, {
    type: d.type,
    headers: d.headers,
    ...(d.retryable !== undefined ? { retryable: d.retryable } : {}),
    ...(d.details ? { details: d.details } : {}),
  });

export const invalidRequest = (message: string) => new ApiError(400, message, { retryable: false });

export function anthropicErrorBody(type: string, message: string, requestId?: string, details?: Record<string, unknown>) {
  return { type: "error" as const, error: { type, message, ...(details ? { details } : {}) }, ...(requestId ? { request_id: requestId } : {}) };
}

/** OpenAI's error `type` field for a status. */
export function openaiErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

export function openaiErrorBody(status: number, message: string, code: string | null = null) {
  return { error: { message, type: openaiErrorType(status), param: null, code } };
}

/** Headers that go with any error response. */
export function errorHeaders(err: ApiError): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json", ...err.headers };
  if (err.retryable !== undefined) h["x-should-retry"] = String(err.retryable);
  return h;
}

/** Hints meant for the runtime's own users, never for our clients. */
const RUNTIME_HINTS = [/\s*For more information, pass `verbose: true` in the second argument to fetch\(\)\.?/g, /\s*Is the computer able to access the url\?/g];

/** A message as a client may read it: without hints addressed to the runtime's users. */
export function publicMessage(message: string): string {
  let out = message;
  for (const re of RUNTIME_HINTS) out = out.replace(re, "");
  return out;
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: "the connection was refused",
  ECONNRESET: "the connection was closed unexpectedly",
  EPIPE: "the connection was closed unexpectedly",
  ENOTFOUND: "the host name could not be resolved",
  EAI_AGAIN: "the host name could not be resolved",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  FailedToOpenSocket: "no connection could be opened",
  ConnectionClosed: "the connection was closed unexpectedly",
  ConnectionRefused: "the connection was refused",
};

/** What went wrong with a connection, in our words (the runtime's say "pass verbose: true"…). */
export function networkErrorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") {
    if (NETWORK_WORDS[code]) return NETWORK_WORDS[code]!;
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|TLS|SSL/i.test(code)) return "its TLS certificate could not be verified";
  }
  const message = err instanceof Error ? err.message : String(err);
  return publicMessage(message.replace(/^[A-Z_]{4,}: /, "")).replace(/\.$/, "");
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(500, "Internal error in grok2api; see the server log.", { type: "api_error" });
}
