/**
 * POST /v1/chat/completions: the OpenAI face.
 * The request is routed and admitted as on every face (src/route/route-and-admit.ts) and goes
 * upstream as sent, with the routed model, the upstream key and the parameters the model
 * rejects removed; the answer comes back as the upstream sent it — a stream frame by frame, as
 * it arrives. A stream always asks the upstream for its usage (what the request is charged);
 * a client that did not ask for it does not get the usage chunk.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";
import { LARGE_BODY_BYTES, Slicer } from "../../http/slicer";
import { logged, type RequestContext } from "../../http/context";
import { ApiError, invalidRequest } from "../../http/errors";
import { explainModelError } from "../../models/errors";
import { validateClientChatRequest } from "./inbound";
import { upstreamErrorMessage } from "../../dialects/sse-reader";
import { routeAndAdmit } from "../../route/route-and-admit";
import { chatInputFacts, fitChatRequest } from "./fit";
import { chatStreamWatch, chatUsageOf } from "../../dialects/chat/stream-watch";
import type { WatchedUsage } from "../../exchange/sse-frames";
import { forwardedHeaders, preparedBody, proxyToUpstream, type ModelBody } from "../openai/proxy";
import { openaiStreamError } from "../openai/errors";
import { isRecord } from "../../is-record";

/**
 * A non-streamed answer, checked: JSON with a `choices` list, as the upstream promised
 * with its 200. Anything else (an HTML page, an SSE body, `[DONE]` alone, an error
 * object) is the upstream's fault, answered 502 rather than passed on as a success.
 */
export function checkCompletion(bytes: Uint8Array): { text: string; usage: WatchedUsage } {
  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const what = /^\s*(data:|event:|:)/.test(text) ? "an event stream" : text.trim() ? "text that is not JSON" : "an empty body";
    throw new ApiError(502, `the upstream answered 200 with ${what} instead of a chat completion`, { type: "api_error" });
  }
  if (!isRecord(body) || !Array.isArray(body.choices)) {
    const reported = upstreamErrorMessage(body);
    throw new ApiError(
      502,
      reported ? `the upstream reported an error: ${reported}` : "the upstream answered 200 with JSON that is not a chat completion",
      { type: "api_error" },
    );
  }
  return { text, usage: chatUsageOf(body.usage) };
}

export async function handleChatCompletions(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const key = await deps.authenticate(request.headers, rc);
  const { value, bytes } = await deps.readBodySized(request);
  const v = validateClientChatRequest(value);
  if (!v.ok) throw invalidRequest(v.message);
  const requested = v.value.model;
  // A large body is written in slices before the call (a PreparedBody), never all at once.
  const slicer = bytes >= LARGE_BODY_BYTES ? new Slicer() : undefined;
  const stream = v.value.stream === true;
  const facts = chatInputFacts(v.value.messages);
  const maxOutput = v.value.max_completion_tokens ?? v.value.max_tokens;
  const routed = await routeAndAdmit(deps, rc, {
    model: requested,
    inputTokens: facts.inputTokens,
    thinking: false,
    images: facts.images,
    stream,
    need: { inputTokens: facts.inputTokens, maxOutputTokens: typeof maxOutput === "number" ? maxOutput : undefined },
  });

  const fit = (model: string) => fitChatRequest(v.value, { model, caps: deps.caps.get(model) });
  const { body, adjusted } = fit(routed.model);
  if (adjusted.length) deps.logger.warn("parameters adjusted for the model", { request_id: rc.id, model: routed.model, adjusted });
  // The usage is what the request is charged: always asked for; the client gets its chunk only if it asked.
  const clientAskedUsage = v.value.stream_options?.include_usage === true;
  const withUsage = <B extends ModelBody>(b: B): B =>
    stream ? { ...b, stream_options: { ...(typeof b.stream_options === "object" && b.stream_options ? b.stream_options : {}), include_usage: true } } : b;

  const primary = slicer ? await preparedBody(withUsage(body), slicer) : withUsage(body);
  return proxyToUpstream({
    deps,
    request,
    rc,
    stream,
    adjusted,
    spec: {
      build: (_api, model) => ({
        path: "/chat/completions",
        body: model === undefined || model === routed.model ? primary : withUsage(fit(model).body),
      }),
      key,
      headers: forwardedHeaders(request),
      explain: (err) => explainModelError(err, { requested, model: routed.model, rule: routed.rule }, deps.catalog.current),
      inputEstimate: facts.inputTokens,
    },
    face: { check: checkCompletion, watch: () => chatStreamWatch({ clientAskedUsage }), errorEvent: openaiStreamError },
  });
}

export const chatCompletionsRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => handleChatCompletions(deps, request, rc), deps.price);
  return new Elysia({ name: "routes/chat-completions" })
    .post("/v1/chat/completions", handler, { parse: "none" });
};
