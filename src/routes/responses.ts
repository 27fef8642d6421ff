/**
 * POST /v1/responses: the OpenAI Responses face, for the
 * `openai` SDK's `responses.*`, the Codex CLI and the Agents SDK. The request goes
 * to the upstream's Responses API with the mapped model, the upstream key and what
 * xAI rejects adjusted (named in `grok2api-adjusted-params`); the answer comes back
 * as the upstream sent it — a stream event by event, as it arrives. Only an upstream
 * that speaks the Responses API can serve it (`[upstream] api`, see translate/dialect.ts).
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { readJsonBodySized } from "../http/body";
import { LARGE_BODY_BYTES, Slicer } from "../http/slicer";
import { logged, type RequestContext } from "../http/context";
import { explainModelError } from "../models/errors";
import { checkModelName } from "../models/name";
import { ApiError, invalidRequest } from "../http/errors";
import { ticksOf } from "../models/pricing";
import { upstreamErrorMessage } from "../openai/sse-reader";
import { validateClientResponsesRequest } from "../openai/responses-inbound";
import { responsesCompletion, responsesErrorEvent } from "../openai/responses-stream";
import { fitResponsesRequest, unsupportedResponsesField } from "../translate/responses-params";
import { proxyToUpstream, type LoggedUsage } from "./openai-proxy";

/** Token counts and cost of a Responses usage object, for the access log (input without the cached tokens). */
function usageOf(usage: unknown): LoggedUsage {
  if (typeof usage !== "object" || usage === null) return {};
  const u = usage as { input_tokens?: unknown; output_tokens?: unknown; input_tokens_details?: { cached_tokens?: unknown } };
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
  const input = num(u.input_tokens);
  const cachedRaw = num(u.input_tokens_details?.cached_tokens);
  const cached = cachedRaw !== undefined && input !== undefined && cachedRaw <= input ? cachedRaw : undefined;
  return {
    input_tokens: input === undefined ? undefined : input - (cached ?? 0),
    output_tokens: num(u.output_tokens),
    cached_tokens: cached,
    cost_ticks: ticksOf(u),
  };
}

/**
 * A non-streamed answer, checked: a JSON response object, as the upstream promised with its
 * 200. Anything else (an HTML page, an event stream, an error object) is the upstream's fault:
 * a 502 rather than a success passed on.
 */
function checkResponse(bytes: Uint8Array): { text: string } & LoggedUsage {
  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const what = /^\s*(data:|event:|:)/.test(text) ? "an event stream" : text.trim() ? "text that is not JSON" : "an empty body";
    throw new ApiError(502, `the upstream answered 200 with ${what} instead of a response`, { type: "api_error" });
  }
  const o = body as { object?: unknown; output?: unknown; usage?: unknown } | null;
  if (typeof o !== "object" || o === null || Array.isArray(o) || !Array.isArray(o.output)) {
    const reported = upstreamErrorMessage(body);
    throw new ApiError(502, reported ? `the upstream reported an error: ${reported}` : "the upstream answered 200 with JSON that is not a response", {
      type: "api_error",
    });
  }
  return { text, ...usageOf(o.usage) };
}

/** Usage of a relayed stream, from its final `response.completed` / `response.incomplete` event when the last reads hold it whole. */
function usageOfStream(lastText: string): LoggedUsage {
  const at = Math.max(lastText.lastIndexOf("event: response.completed\n"), lastText.lastIndexOf("event: response.incomplete\n"));
  if (at === -1) return {};
  const start = lastText.indexOf("data:", at);
  const end = lastText.indexOf("\n", start);
  if (start === -1 || end === -1) return {};
  try {
    return usageOf((JSON.parse(lastText.slice(start + 5, end)) as { response?: { usage?: unknown } }).response?.usage);
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
  const key = await deps.authenticate(request.headers, rc);
  if (deps.upstream.api !== "responses") throw noResponsesApi(deps.config.upstream.baseUrl);
  const { value, bytes } = await readJsonBodySized(request, deps.config.maxBodyBytes);
  const v = validateClientResponsesRequest(value);
  if (!v.ok) throw invalidRequest(v.message);
  const unsupported = unsupportedResponsesField(v.value);
  if (unsupported) throw invalidRequest(unsupported);
  const requested = checkModelName(v.value.model);
  const upstreamModel = deps.resolveModel(requested);
  const stream = v.value.stream === true;
  Object.assign(rc.entry, { model: requested, upstream_model: upstreamModel, stream });
  await deps.admit(rc, upstreamModel);

  const { body, adjusted } = fitResponsesRequest(v.value, { model: upstreamModel, caps: deps.caps.get(upstreamModel) });
  if (adjusted.length) deps.logger.warn("parameters adjusted for the model", { request_id: rc.id, model: upstreamModel, adjusted });

  return proxyToUpstream({
    deps,
    request,
    rc,
    key,
    path: "/responses",
    body,
    stream,
    adjusted,
    explain: (err) => explainNotFound(err, requested, upstreamModel),
    check: checkResponse,
    usageOfStream,
    relay: { completion: responsesCompletion(), errorEvent: responsesErrorEvent },
    ...(bytes >= LARGE_BODY_BYTES ? { slicer: new Slicer() } : {}),
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
