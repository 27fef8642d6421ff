/**
 * POST /v1/chat/completions: the OpenAI face.
 * The request goes upstream as sent, with the mapped model, the upstream key and
 * the parameters the model rejects removed; the answer comes back as the
 * upstream sent it — a stream chunk by chunk, as it arrives.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { readJsonBodySized } from "../http/body";
import { LARGE_BODY_BYTES, Slicer } from "../http/slicer";
import { logged, type RequestContext } from "../http/context";
import { ApiError, invalidRequest } from "../http/errors";
import { validateClientChatRequest } from "../openai/inbound";
import { fitChatRequest } from "../translate/chat-params";
import { explainModelError } from "../models/errors";
import { imagesInChat } from "../models/images";
import { checkModelName } from "../models/name";
import { ticksOf } from "../models/pricing";
import type { ChatUsage } from "../openai/schema";
import { upstreamErrorMessage } from "../openai/sse-reader";
import { count, isRecord } from "../translate/malformed";
import { toAnthropicUsage } from "../translate/usage";
import { proxyToUpstream, type LoggedUsage } from "./openai-proxy";

function usageOf(usage: unknown): LoggedUsage {
  if (!isRecord(usage)) return {};
  // Counted as /v1/messages counts them (translate/usage.ts): input without the cached tokens, and
  // output with the reasoning once (xAI's completion_tokens leaves reasoning out). A count the
  // upstream did not send (or that cannot be one) stays out of the log.
  const u = toAnthropicUsage(usage as ChatUsage, { input: 0, output: 0 });
  const has = (v: unknown) => count(v, "", false) !== undefined;
  return {
    input_tokens: has(usage.prompt_tokens) ? u.input_tokens : undefined,
    output_tokens: has(usage.completion_tokens) ? u.output_tokens : undefined,
    cached_tokens: isRecord(usage.prompt_tokens_details) && has(usage.prompt_tokens_details.cached_tokens) ? u.cache_read_input_tokens : undefined,
    cost_ticks: ticksOf(usage),
  };
}

/** Token counts of a relayed stream, from its last usage chunk (`stream_options.include_usage`), if any. */
function usageOfStream(lastText: string): LoggedUsage {
  const at = lastText.lastIndexOf('"usage":{');
  if (at === -1) return {};
  const start = lastText.lastIndexOf("data:", at);
  const end = lastText.indexOf("\n", at);
  if (start === -1) return {};
  try {
    return usageOf((JSON.parse(lastText.slice(start + 5, end === -1 ? undefined : end)) as { usage?: unknown }).usage);
  } catch {
    return {};
  }
}

/**
 * A non-streamed answer, checked: JSON with a `choices` list, as the upstream promised
 * with its 200. Anything else (an HTML page, an SSE body, `[DONE]` alone, an error
 * object) is the upstream's fault, answered 502 rather than passed on as a success.
 */
export function checkCompletion(bytes: Uint8Array): { text: string } & LoggedUsage {
  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const what = /^\s*(data:|event:|:)/.test(text) ? "an event stream" : text.trim() ? "text that is not JSON" : "an empty body";
    throw new ApiError(502, `the upstream answered 200 with ${what} instead of a chat completion`, { type: "api_error" });
  }
  const o = body as { choices?: unknown; usage?: unknown } | null;
  if (typeof o !== "object" || o === null || Array.isArray(o) || !Array.isArray(o.choices)) {
    const reported = upstreamErrorMessage(body);
    throw new ApiError(
      502,
      reported ? `the upstream reported an error: ${reported}` : "the upstream answered 200 with JSON that is not a chat completion",
      { type: "api_error" },
    );
  }
  return { text, ...usageOf(o.usage) };
}

export async function handleChatCompletions(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const key = await deps.authenticate(request.headers, rc);
  const { value, bytes } = await readJsonBodySized(request, deps.config.maxBodyBytes);
  const v = validateClientChatRequest(value);
  if (!v.ok) throw invalidRequest(v.message);
  const requested = checkModelName(v.value.model);
  const upstreamModel = deps.route({ model: requested, inputTokens: 0, thinking: false, images: imagesInChat(v.value.messages) }).model;
  const stream = v.value.stream === true;
  Object.assign(rc.entry, { model: requested, upstream_model: upstreamModel, stream });
  await deps.admit(rc, upstreamModel);

  const { body, adjusted } = fitChatRequest(v.value, { model: upstreamModel, caps: deps.caps.get(upstreamModel) });
  if (adjusted.length) deps.logger.warn("parameters adjusted for the model", { request_id: rc.id, model: upstreamModel, adjusted });

  return proxyToUpstream({
    deps,
    request,
    rc,
    key,
    path: "/chat/completions",
    body,
    stream,
    adjusted,
    explain: (err) => explainModelError(err, requested, upstreamModel),
    check: checkCompletion,
    usageOfStream,
    ...(bytes >= LARGE_BODY_BYTES ? { slicer: new Slicer() } : {}),
  });
}

export const chatCompletionsRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => handleChatCompletions(deps, request, rc), deps.price);
  return new Elysia({ name: "routes/chat-completions" })
    .post("/v1/chat/completions", handler, { parse: "none" });
};
