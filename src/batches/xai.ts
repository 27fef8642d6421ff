/**
 * xAI's Batch API, as the gateway uses it (reference §1.2; the paths are not in xAI's
 * OpenAPI spec: they come from xai-ts's hand-written resource, confirmed by vercel and
 * LiteLLM). A batch is created empty and filled by `add requests` calls; it has no status
 * field, only counters; results come back as chat completions whatever was sent.
 */
import { ApiError } from "../http/errors";
import type { UpstreamClient } from "../upstream/client";
import type { UpstreamApi } from "../dialects";

export interface XaiBatchState {
  num_requests: number;
  num_pending: number;
  num_success: number;
  num_error: number;
  num_cancelled: number;
}

export interface XaiBatch {
  batch_id: string;
  state: XaiBatchState;
  cancel_time: string | null;
  cancel_by_xai_message: string | null;
}

export interface XaiBatchRequest {
  batch_request_id: string;
  batch_request: { responses: unknown } | { chat_get_completion: unknown };
}

/** A request's `batch_request`: its body under the name of the endpoint of its dialect. */
export function batchRequestOf(api: UpstreamApi, body: unknown): XaiBatchRequest["batch_request"] {
  return api === "responses" ? { responses: body } : { chat_get_completion: body };
}

/** One result, in whichever of the shapes the sources show (reference §1.2 "BatchResult"). */
export interface XaiResult {
  batch_request_id: string;
  /** The chat completion, when the request succeeded. */
  completion: unknown | undefined;
  /** What went wrong, when it did not; `code` 1 is gRPC's CANCELLED. */
  error: { code: number | undefined; message: string } | undefined;
}

/** Largest add-requests call (xAI takes at most 25 MB). */
export const MAX_ADD_BYTES = 20 * 1024 * 1024;
/** Requests per add-requests call. */
export const MAX_ADD_REQUESTS = 1000;

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);

function parseBatch(json: unknown): XaiBatch {
  const b = json as Record<string, unknown> | null;
  if (!b || typeof b.batch_id !== "string") throw new ApiError(502, "xAI's Batch API answered without a batch_id", { type: "api_error" });
  const s = (b.state ?? {}) as Record<string, unknown>;
  return {
    batch_id: b.batch_id,
    state: {
      num_requests: num(s.num_requests),
      num_pending: num(s.num_pending),
      num_success: num(s.num_success),
      num_error: num(s.num_error),
      num_cancelled: num(s.num_cancelled),
    },
    cancel_time: typeof b.cancel_time === "string" && b.cancel_time ? b.cancel_time : null,
    cancel_by_xai_message: typeof b.cancel_by_xai_message === "string" && b.cancel_by_xai_message ? b.cancel_by_xai_message : null,
  };
}

/** A result line in any of its known shapes; undefined when it names no request. */
export function parseResult(raw: unknown): XaiResult | undefined {
  const r = raw as Record<string, unknown> | null;
  if (!r || typeof r.batch_request_id !== "string") return undefined;
  const br = (r.batch_result ?? {}) as Record<string, unknown>;
  const response = br.response as Record<string, unknown> | undefined;
  let completion: unknown;
  if (response && typeof response === "object") {
    // Named after the endpoint (`chat_get_completion`, maybe `responses`): take the one value there is.
    completion = response.chat_get_completion ?? Object.values(response).find((v) => v && typeof v === "object");
  }
  let error: XaiResult["error"];
  const e = br.error ?? r.error_message;
  if (typeof e === "string" && e) error = { code: undefined, message: e };
  else if (e && typeof e === "object") {
    const o = e as { code?: unknown; message?: unknown };
    const code = typeof o.code === "number" ? o.code : undefined;
    const message = typeof o.message === "string" ? o.message : "";
    // `{code: 0, message: ""}` beside a response is gRPC's OK.
    if (code !== 0 || message) error = { code, message: message || `error code ${code}` };
  }
  if (completion && !error) return { batch_request_id: r.batch_request_id, completion, error: undefined };
  return { batch_request_id: r.batch_request_id, completion: undefined, error: error ?? { code: undefined, message: "xAI returned neither a response nor an error" } };
}

export class XaiBatches {
  constructor(
    private readonly client: UpstreamClient,
    private readonly key: string | undefined,
  ) {}

  private async json(path: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    const res = await this.client.post({ path, body, key: this.key, signal });
    const text = await res.text();
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw new ApiError(502, `xAI's Batch API answered ${path} with something that is not JSON`, { type: "api_error" });
    }
  }

  async create(name: string, signal: AbortSignal): Promise<XaiBatch> {
    return parseBatch(await this.json("/batches", { name }, signal));
  }

  async add(batchId: string, requests: XaiBatchRequest[], signal: AbortSignal): Promise<void> {
    await this.json(`/batches/${encodeURIComponent(batchId)}/requests`, { batch_requests: requests }, signal);
  }

  async get(batchId: string, signal: AbortSignal): Promise<XaiBatch> {
    return parseBatch(await this.json(`/batches/${encodeURIComponent(batchId)}`, undefined, signal));
  }

  /** `:cancel`, with a colon, no body. */
  async cancel(batchId: string, signal: AbortSignal): Promise<XaiBatch> {
    return parseBatch(await this.json(`/batches/${encodeURIComponent(batchId)}:cancel`, {}, signal));
  }

  /** Every result, page by page. */
  async *results(batchId: string, signal: AbortSignal): AsyncGenerator<XaiResult> {
    let token: string | undefined;
    for (let pages = 0; pages < 100_000; pages++) {
      const q = new URLSearchParams({ limit: "1000" });
      if (token) q.set("pagination_token", token);
      const page = (await this.json(`/batches/${encodeURIComponent(batchId)}/results?${q}`, undefined, signal)) as { results?: unknown; pagination_token?: unknown };
      const list = Array.isArray(page.results) ? page.results : [];
      for (const raw of list) {
        const r = parseResult(raw);
        if (r) yield r;
      }
      const next = typeof page.pagination_token === "string" && page.pagination_token ? page.pagination_token : undefined;
      if (!next || list.length === 0 || next === token) return;
      token = next;
    }
  }
}
