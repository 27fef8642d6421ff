/**
 * How an upstream answer that fails after its 200 reaches the client: one status and type for
 * one failure, whether the client asked for JSON, got JSON read from a stream (stop sequences),
 * or is being streamed to (`event: error` on /v1/messages, the OpenAI faces' error events).
 * Before the 200 the upstream's own status decides (src/upstream/errors.ts fromUpstreamStatus);
 * after it the upstream has no status left to give, and every such failure is the gateway's
 * upstream failing it: 502 `api_error`. Timeouts stay 504 `timeout_error` (the watchdog's
 * ApiError), and so does any other ApiError already decided (too large, shutting down).
 */
import { ApiError, networkErrorText } from "../http/errors";
import { MalformedUpstream } from "../dialects/malformed";
import { FailedResponse } from "../dialects/responses/response";
import { ResponsesStreamFailed } from "../dialects/responses/stream";
import { assertNever } from "../assert-never";

export type AnswerFailure =
  /** The connection failed while the answer was being read. */
  | { kind: "connection"; cause: unknown }
  /** The body ended before the answer was complete. */
  | { kind: "incomplete" }
  /** The upstream said it failed (an error event, `response.failed`, an error object). */
  | { kind: "reported"; message: string }
  /** The answer is not the shape its dialect promises. */
  | { kind: "malformed"; message: string };

function wording(f: AnswerFailure): string {
  switch (f.kind) {
    case "connection":
      return `the upstream connection failed: ${networkErrorText(f.cause)}`;
    case "incomplete":
      return "the upstream closed the stream before it was complete";
    case "reported":
      return `the upstream reported an error: ${f.message}`;
    case "malformed":
      return f.message;
    default:
      return assertNever(f, "answer failure");
  }
}

/** The one mapping: a failure after the 200 → the error the client gets, streamed or not. */
export function answerFailure(f: AnswerFailure): ApiError {
  if (f.kind === "connection" && f.cause instanceof ApiError) return f.cause; // a timeout aborting the read
  return new ApiError(502, wording(f), { type: "api_error" });
}

/** What a translator or reader threw, as that error (anything it does not know passes through unchanged). */
export function asAnswerFailure(err: unknown): unknown {
  if (err instanceof MalformedUpstream) return answerFailure({ kind: "malformed", message: err.message });
  if (err instanceof FailedResponse || err instanceof ResponsesStreamFailed) return answerFailure({ kind: "reported", message: err.message });
  return err;
}
