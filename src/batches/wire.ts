/** Anthropic's Message Batches objects, from the gateway's records. Pure. */
import type { BatchRecord } from "./records";

/** Where the SDK fetches results from (relative: the client's own base URL is put before it). */
export const resultsPath = (id: string) => `/v1/messages/batches/${id}/results`;

export function messageBatch(b: BatchRecord) {
  return {
    id: b.id,
    type: "message_batch" as const,
    processing_status: b.status,
    request_counts: {
      processing: b.processing,
      succeeded: b.succeeded,
      errored: b.errored,
      canceled: b.canceled,
      expired: b.expired,
    },
    created_at: b.created_at,
    expires_at: b.expires_at,
    ended_at: b.ended_at,
    cancel_initiated_at: b.cancel_initiated_at,
    archived_at: b.archived_at,
    results_url: b.status === "ended" && !b.archived_at ? resultsPath(b.id) : null,
  };
}

export type AnthropicErrorBody = { type: "error"; error: { type: string; message: string }; request_id: string | null };

/** An `errored` result: Anthropic's error envelope, as its API would have answered the request. */
export function erroredResult(type: string, message: string, requestId: string | null = null) {
  return { type: "errored" as const, error: { type: "error" as const, error: { type, message }, request_id: requestId } };
}

/** `custom_id` as Anthropic takes it: 1 to 64 letters, digits, `_` and `-`. */
export const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
