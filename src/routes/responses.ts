/**
 * POST /v1/responses (also /v1/v1/responses): the OpenAI Responses face, for the
 * `openai` SDK's `responses.*`, the Codex CLI and the Agents SDK. The request goes
 * to the upstream's Responses API with the mapped model, the upstream key and what
 * xAI rejects adjusted (named in `grok2api-adjusted-params`); the answer comes back
 * as the upstream sent it — a stream event by event, as it arrives. Only an upstream
 * that speaks the Responses API can serve it (xAI's; see upstream/dialect.ts).
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { readJsonBody } from "../http/body";
import { abortWhenClientGoes } from "../http/client-gone";
import { logged, type RequestContext } from "../http/context";
import { explainModelError } from "../models/errors";
import { ApiError, invalidRequest } from "../http/errors";
import { validateClientResponsesRequest } from "../openai/responses-inbound";
import { responsesCompletion, responsesErrorEvent } from "../openai/responses-stream";
import { fitResponsesRequest, unsupportedResponsesField } from "../translate/responses-params";

import { upstreamLogFields, type UpstreamResult } from "../upstream/client";
import { relaySse } from "./relay";

/** Client headers that mean something to xAI and go along. */
const FORWARDED_HEADERS = ["x-grok-conv-id"];

function forwardedHeaders(request: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const v = request.headers.get(name);
    if (v) out[name] = v;
  }
  return out;
}

/** Token counts of a non-streamed answer, for the access log. */
function usageOf(bytes: ArrayBuffer): { input_tokens?: number; output_tokens?: number } {
  try {
    const u = (JSON.parse(new TextDecoder().decode(bytes)) as { usage?: { input_tokens?: unknown; output_tokens?: unknown } }).usage;
    const num = (v: unknown) => (typeof v === "number" ? v : undefined);
    return { input_tokens: num(u?.input_tokens), output_tokens: num(u?.output_tokens) };
  } catch {
    return {};
  }
}

/**
 * The upstream's 404: the model is unknown to it, or (an upstream wrongly taken to speak the
 * Responses API) it has no `/responses` at all. Name both, and what to change.
 */
function explainNotFound(err: ApiError, requested: string, upstreamModel: string): ApiError {
  const explained = explainModelError(err, requested, upstreamModel);
  if (explained === err) return err;
  return new ApiError(
    404,
    `${explained.message}; or the upstream has no Responses API (then set [upstream] api = "chat", env ` +
      "GROK2API_UPSTREAM_API=chat, and use /v1/chat/completions)",
    { type: "not_found_error", retryable: false },
  );
}

/** The upstream is a Chat Completions server: say so, and what to change. */
function noResponsesApi(baseUrl: string): ApiError {
  return new ApiError(
    404,
    `POST /v1/responses is not available: the configured upstream (${upstreamHost(baseUrl)}) speaks only ` +
      "Chat Completions ([upstream] api resolves to \"chat\"). Use /v1/chat/completions with this upstream, or, if it " +
      'does serve the Responses API (POST /responses), set [upstream] api = "responses" (env GROK2API_UPSTREAM_API=responses); ' +
      "xAI's hosts, api.x.ai and *.x.ai, need nothing.",
    { type: "not_found_error", retryable: false },
  );
}

export async function handleResponses(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const key = deps.authenticate(request.headers);
  if (deps.upstream.api !== "responses") throw noResponsesApi(deps.config.upstream.baseUrl);
  const v = validateClientResponsesRequest(await readJsonBody(request, deps.config.maxBodyBytes));
  if (!v.ok) throw invalidRequest(v.message);
  const unsupported = unsupportedResponsesField(v.value);
  if (unsupported) throw invalidRequest(unsupported);
  const requested = v.value.model;
  const upstreamModel = deps.resolveModel(requested);
  const stream = v.value.stream === true;
  Object.assign(rc.entry, { model: requested, upstream_model: upstreamModel, stream });

  const { body, adjusted } = fitResponsesRequest(v.value, { model: upstreamModel, caps: deps.caps.get(upstreamModel) });
  if (adjusted.length) deps.logger.warn("parameters adjusted for the model", { request_id: rc.id, model: upstreamModel, adjusted });

  const { abort, release: done } = abortWhenClientGoes(request);

  let result: UpstreamResult;
  try {
    result = await deps.upstream.send({
      path: "/responses",
      body,
      key,
      signal: abort.signal,
      headers: forwardedHeaders(request),
      requestId: rc.id,
    });
  } catch (err) {
    done();
    throw err instanceof ApiError ? explainNotFound(err, requested, upstreamModel) : err;
  }
  const { response: res, watchdog } = result;
  Object.assign(rc.entry, upstreamLogFields(result, upstreamModel));

  const headers: Record<string, string> = {
    "content-type": res.headers.get("content-type") ?? (stream ? "text/event-stream" : "application/json"),
  };
  if (adjusted.length) headers["grok2api-adjusted-params"] = adjusted.join(", ");

  if (!stream) {
    let bytes: ArrayBuffer;
    try {
      bytes = await res.arrayBuffer();
    } catch (err) {
      if (request.signal.aborted) throw new ApiError(499, "the client closed the request", { type: "invalid_request_error" });
      throw new ApiError(502, `the upstream connection failed: ${(err as Error).message}`, { type: "api_error" });
    } finally {
      watchdog.stop();
      done();
    }
    Object.assign(rc.entry, usageOf(bytes));
    return new Response(bytes, { status: res.status, headers });
  }

  if (!res.body) {
    watchdog.stop();
    done();
    throw new ApiError(502, "the upstream sent an empty response", { type: "api_error" });
  }
  rc.deferred = true;
  const relayed = relaySse(res.body, {
    abort,
    watchdog,
    pingMs: deps.config.resilience.pingIntervalMs,
    completion: responsesCompletion(),
    errorEvent: responsesErrorEvent,
    onEnd: ({ status, error }) => {
      done();
      rc.finish(status, error);
    },
  });
  return new Response(relayed, { headers: { ...headers, "cache-control": "no-cache", connection: "keep-alive" } });
}

export const responsesRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => handleResponses(deps, request, rc));
  return new Elysia({ name: "routes/responses" })
    .post("/v1/responses", handler, { parse: "none" })
    .post("/v1/v1/responses", handler, { parse: "none" });
};

/** The upstream's host, to name it in an error (never its path, user info or query). */
export function upstreamHost(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return "the configured upstream";
  }
}
