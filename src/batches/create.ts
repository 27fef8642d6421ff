/**
 * A batch's requests checked when it is created, each exactly as /v1/messages would check it
 * (the same validation, model routing, documents and translation: routes/messages.ts and
 * route/route-and-admit.ts; admission is the batch's, once per model, in service.ts), plus
 * the batch's own rules: `custom_id` well formed and unique, no `stream`, no fast mode, the
 * count cap. The first problem refuses the whole batch, by the custom_id and field.
 */
import type { AppDeps } from "../deps";
import type { FileAccess } from "../documents/resolver";
import { ApiError, invalidRequest } from "../http/errors";
import type { AdmissionNeed } from "../deps";
import { routeRequest } from "../route/route-and-admit";
import { checkMessages, readDocuments, translateRequest } from "../faces/anthropic/messages";
import type { UpstreamApi } from "../dialects";
import { Slicer } from "../http/slicer";
import { CUSTOM_ID } from "./wire";
import { batchRequestOf } from "./xai";

export interface NewRequest {
  custom_id: string;
  model: string;
  upstream_model: string;
  /** The request as validated, documents read: what runs later. */
  params: string;
  /** For xAI's Batch API: the request in the upstream's dialect, as the `batch_request` JSON xAI takes. */
  upstreamBody: string | null;
  /** What it may cost (its input estimate and the output it allows), for the batch's admission. */
  need: Exclude<AdmissionNeed, "count">;
}

export interface BatchLimits {
  maxRequests: number;
  /** The dialect to translate to for xAI's Batch API; undefined: the batch runs here. */
  xaiApi: UpstreamApi | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** An error about request `i` of the batch: a 400 naming its place, its field and its custom_id (a 5xx stays what it is). */
function about(i: number, customId: string, e: unknown): unknown {
  if (!(e instanceof ApiError) || e.status >= 500 || e.status === 413) return e;
  const field = /^[a-z_]+(\[\d+\]|\.[a-z_]+)*:/i.test(e.message) ? `.${e.message}` : `: ${e.message}`;
  return new ApiError(400, `requests[${i}].params${field} (custom_id ${JSON.stringify(customId)})`, {
    retryable: false,
    ...(e.details ? { details: e.details } : {}),
  });
}

export async function validateBatch(deps: AppDeps, body: unknown, limits: BatchLimits, files: FileAccess | undefined, signal: AbortSignal): Promise<NewRequest[]> {
  if (!isObject(body)) throw invalidRequest("request body must be a JSON object");
  const requests = body.requests;
  if (requests === undefined) throw invalidRequest("requests: Field required");
  if (!Array.isArray(requests)) throw invalidRequest("requests: expected an array of {custom_id, params}");
  if (requests.length === 0) throw invalidRequest("requests: must contain at least 1 item");
  if (requests.length > limits.maxRequests) {
    throw new ApiError(413, `requests: a batch may hold at most ${limits.maxRequests} requests (got ${requests.length})`, { type: "request_too_large", retryable: false });
  }
  // A batch may hold 100,000 requests: the work below gives the event loop a turn every few milliseconds.
  const slicer = new Slicer();
  // The cheap checks of every request first: a batch with a bad custom_id is refused before any document is read.
  const seen = new Map<string, number>();
  for (let i = 0; i < requests.length; i++) {
    if (i % 256 === 0) await slicer.pause();
    const r = requests[i];
    if (!isObject(r)) throw invalidRequest(`requests[${i}]: expected an object {custom_id, params}`);
    const id = r.custom_id;
    if (id === undefined) throw invalidRequest(`requests[${i}].custom_id: Field required`);
    if (typeof id !== "string" || !CUSTOM_ID.test(id)) {
      throw invalidRequest(`requests[${i}].custom_id: ${JSON.stringify(id)} must be 1 to 64 letters, digits, "_" or "-"`);
    }
    const before = seen.get(id);
    if (before !== undefined) throw invalidRequest(`requests[${i}].custom_id: ${JSON.stringify(id)} is already used by requests[${before}]; each custom_id must be unique in a batch`);
    seen.set(id, i);
    if (r.params === undefined) throw invalidRequest(`requests[${i}].params: Field required (custom_id ${JSON.stringify(id)})`);
    if (!isObject(r.params)) throw invalidRequest(`requests[${i}].params: expected an object, a Messages request (custom_id ${JSON.stringify(id)})`);
    if (r.params.stream === true) throw invalidRequest(`requests[${i}].params.stream: streaming is not available in a batch (custom_id ${JSON.stringify(id)})`);
    if (r.params.speed !== undefined) throw invalidRequest(`requests[${i}].params.speed: fast mode is not available in a batch (custom_id ${JSON.stringify(id)})`);
  }
  const out: NewRequest[] = [];
  for (let i = 0; i < requests.length; i++) {
    await slicer.pause();
    const { custom_id, params } = requests[i] as { custom_id: string; params: Record<string, unknown> };
    try {
      const { stream: _stream, ...rest } = params;
      const checked = checkMessages(rest);
      const routed = routeRequest(deps, checked.route);
      const { req } = await readDocuments(deps, checked, signal, files);
      // The translation of the dialect that will serve it: what it cannot take is a 400 now, not an error later.
      const api = limits.xaiApi ?? deps.upstream.api;
      const t = translateRequest(deps, req, api, routed.model, { stream: false });
      out.push({
        custom_id,
        model: req.model,
        upstream_model: routed.model,
        params: JSON.stringify(req),
        upstreamBody: limits.xaiApi ? JSON.stringify(batchRequestOf(limits.xaiApi, t.body)) : null,
        need: { inputTokens: checked.promptTokens, maxOutputTokens: Math.min(req.max_tokens, routed.caps.maxOutput) },
      });
    } catch (e) {
      throw about(i, custom_id, e);
    }
  }
  return out;
}
