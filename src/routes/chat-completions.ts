/**
 * POST /v1/chat/completions: the OpenAI face.
 * The request goes upstream as sent, with the mapped model, the upstream key and
 * the parameters the model rejects removed; the answer comes back as the
 * upstream sent it — a stream chunk by chunk, as it arrives.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { readJsonBody } from "../http/body";
import { logged, type RequestContext } from "../http/context";
import { ApiError, invalidRequest } from "../http/errors";
import { validateClientChatRequest } from "../openai/inbound";
import { fitChatRequest } from "../translate/chat-params";
import { explainModelError } from "../models/errors";
import { imagesInChat } from "../models/images";
import { ticksOf } from "../models/pricing";
import { upstreamErrorMessage } from "../openai/sse-reader";
import { proxyToUpstream, type LoggedUsage } from "./openai-proxy";

function usageOf(usage: unknown): LoggedUsage {
  type U = { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } };
  const u = (typeof usage === "object" && usage !== null ? usage : undefined) as U | undefined;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
  const cached = num(u?.prompt_tokens_details?.cached_tokens);
  const prompt = num(u?.prompt_tokens);
  return {
    input_tokens: prompt === undefined ? undefined : Math.max(0, prompt - (cached ?? 0)),
    output_tokens: num(u?.completion_tokens),
    cached_tokens: cached,
    cost_ticks: ticksOf(u),
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
  const v = validateClientChatRequest(await readJsonBody(request, deps.config.maxBodyBytes));
  if (!v.ok) throw invalidRequest(v.message);
  const requested = v.value.model;
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
  });
}

export const chatCompletionsRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => handleChatCompletions(deps, request, rc), deps.price);
  return new Elysia({ name: "routes/chat-completions" })
    .post("/v1/chat/completions", handler, { parse: "none" });
};
