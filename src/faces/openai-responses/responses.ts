/**
 * POST /v1/responses: the OpenAI Responses face, for the
 * `openai` SDK's `responses.*`, the Codex CLI and the Agents SDK. The request is routed
 * as on the other faces (model map, Claude-style names by role, images to the vision
 * model) and goes to the upstream's Responses API with the upstream key and what
 * xAI rejects adjusted (named in `grok2api-adjusted-params`); the answer comes back
 * as the upstream sent it — a stream event by event, as it arrives. Only a target
 * that speaks the Responses API can serve it (`[upstream] api`, see dialects/index.ts):
 * chat-only targets are skipped, and with none that speaks it the answer is a 404 saying so.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";
import { LARGE_BODY_BYTES, Slicer } from "../../http/slicer";
import { logged, type RequestContext } from "../../http/context";
import { explainModelError, type RoutedModel } from "../../models/errors";
import type { Lineup } from "../../models/lineup";
import { ApiError, invalidRequest } from "../../http/errors";
import { upstreamErrorMessage } from "../../dialects/sse-reader";
import { responsesRouteFacts, responsesRouteFactsSliced, validateClientResponsesRequest } from "./inbound";
import { fitResponsesRequest, unsupportedResponsesField } from "./fit";
import { forwardedHeaders, preparedBody, proxyToUpstream } from "../openai/proxy";
import { responsesStreamError } from "../openai/errors";
import { routeAndAdmit } from "../../route/route-and-admit";
import { isRecord } from "../../is-record";
import type { WatchedUsage } from "../../exchange/sse-frames";
import { responsesStreamWatch, responsesUsageOf } from "../../dialects/responses/stream-watch";

/**
 * A non-streamed answer, checked: a JSON response object, as the upstream promised with its
 * 200. Anything else (an HTML page, an event stream, an error object) is the upstream's fault:
 * a 502 rather than a success passed on.
 */
function checkResponse(bytes: Uint8Array): { text: string; usage: WatchedUsage } {
  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const what = /^\s*(data:|event:|:)/.test(text) ? "an event stream" : text.trim() ? "text that is not JSON" : "an empty body";
    throw new ApiError(502, `the upstream answered 200 with ${what} instead of a response`, { type: "api_error" });
  }
  if (!isRecord(body) || !Array.isArray(body.output)) {
    const reported = upstreamErrorMessage(body);
    throw new ApiError(502, reported ? `the upstream reported an error: ${reported}` : "the upstream answered 200 with JSON that is not a response", {
      type: "api_error",
    });
  }
  return { text, usage: responsesUsageOf(body.usage) };
}

/**
 * The upstream's 404: the model is unknown to it, or (an upstream wrongly taken to speak the
 * Responses API) it has no `/responses` at all. Name both, and what to change.
 */
function explainNotFound(err: ApiError, routed: RoutedModel, lineup: Lineup | undefined): ApiError {
  const explained = explainModelError(err, routed, lineup);
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
  const key = await deps.authenticate(request.headers, rc);
  // The primary or a fallback must speak the Responses API; a chat-only target is never sent POST /responses.
  if (!deps.upstream.speaks("responses")) throw noResponsesApi(deps.config.upstream.baseUrl);
  const { value, bytes } = await deps.readBodySized(request);
  const v = validateClientResponsesRequest(value);
  if (!v.ok) throw invalidRequest(v.message);
  const unsupported = unsupportedResponsesField(v.value);
  if (unsupported) throw invalidRequest(unsupported);
  const requested = v.value.model;
  // A large body is written in slices before the call (a PreparedBody), never all at once.
  const slicer = bytes >= LARGE_BODY_BYTES ? new Slicer() : undefined;
  const stream = v.value.stream === true;
  // Routed and admitted as the other faces are: the model map, Claude-style names by role, images to the vision model.
  const facts = slicer ? await responsesRouteFactsSliced(v.value, slicer) : responsesRouteFacts(v.value);
  const maxOutput = v.value.max_output_tokens;
  const { model: upstreamModel, rule } = await routeAndAdmit(deps, rc, {
    model: requested,
    ...facts,
    stream,
    need: { inputTokens: facts.inputTokens, maxOutputTokens: typeof maxOutput === "number" ? maxOutput : undefined },
  });

  const fit = (model: string) => fitResponsesRequest(v.value, { model, caps: deps.caps.get(model) });
  const { body, adjusted } = fit(upstreamModel);
  if (adjusted.length) deps.logger.warn("parameters adjusted for the model", { request_id: rc.id, model: upstreamModel, adjusted });

  const primary = slicer ? await preparedBody(body, slicer) : body;
  return proxyToUpstream({
    deps,
    request,
    rc,
    stream,
    adjusted,
    spec: {
      // A chat-only target (the primary or a fallback) is skipped; a fallback's own model gets its own fitting.
      build: (api, model) =>
        api !== "responses"
          ? { refused: noResponsesApi(deps.config.upstream.baseUrl) }
          : { path: "/responses", body: model === undefined || model === upstreamModel ? primary : fit(model).body },
      key,
      headers: forwardedHeaders(request),
      explain: (err) => explainNotFound(err, { requested, model: upstreamModel, rule }, deps.catalog.current),
      inputEstimate: facts.inputTokens,
    },
    face: { check: checkResponse, watch: responsesStreamWatch, errorEvent: responsesStreamError },
  });
}

export const responsesRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => handleResponses(deps, request, rc), deps.price);
  return new Elysia({ name: "routes/responses" })
    .post("/v1/responses", handler, { parse: "none" });
};

/** The upstream's host, to name it in an error (never its path, user info or query). */
export function upstreamHost(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return "the configured upstream";
  }
}
