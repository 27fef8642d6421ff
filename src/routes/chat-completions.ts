/**
 * POST /v1/chat/completions (also /v1/v1/chat/completions): the OpenAI face.
 * The request goes upstream as sent, with the mapped model, the upstream key and
 * the parameters the model rejects removed; the answer comes back as the
 * upstream sent it — a stream chunk by chunk, as it arrives.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { readJsonBody } from "../http/body";
import { abortWhenClientGoes } from "../http/client-gone";
import { logged, type RequestContext } from "../http/context";
import { ApiError, invalidRequest } from "../http/errors";
import { validateClientChatRequest } from "../openai/inbound";
import { fitChatRequest } from "../translate/chat-params";
import { explainModelError } from "./messages";
import { relaySse } from "./relay";
import { upstreamLogFields, type UpstreamResult } from "../upstream/client";

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
    const u = (JSON.parse(new TextDecoder().decode(bytes)) as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } })
      .usage;
    const num = (v: unknown) => (typeof v === "number" ? v : undefined);
    return { input_tokens: num(u?.prompt_tokens), output_tokens: num(u?.completion_tokens) };
  } catch {
    return {};
  }
}

export async function handleChatCompletions(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const key = deps.authenticate(request.headers);
  const v = validateClientChatRequest(await readJsonBody(request, deps.config.maxBodyBytes));
  if (!v.ok) throw invalidRequest(v.message);
  const requested = v.value.model;
  const upstreamModel = deps.resolveModel(requested);
  const stream = v.value.stream === true;
  Object.assign(rc.entry, { model: requested, upstream_model: upstreamModel, stream });

  const { body, adjusted } = fitChatRequest(v.value, { model: upstreamModel, caps: deps.caps.get(upstreamModel) });
  if (adjusted.length) deps.logger.warn("parameters adjusted for the model", { request_id: rc.id, model: upstreamModel, adjusted });

  const { abort, release: done } = abortWhenClientGoes(request);

  let result: UpstreamResult;
  try {
    result = await deps.upstream.send({
      path: "/chat/completions",
      body,
      key,
      signal: abort.signal,
      headers: forwardedHeaders(request),
      requestId: rc.id,
    });
  } catch (err) {
    done();
    throw err instanceof ApiError ? explainModelError(err, requested, upstreamModel) : err;
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
  rc.endOnShutdown(abort);
  const relayed = relaySse(res.body, {
    abort,
    watchdog,
    pingMs: deps.config.resilience.pingIntervalMs,
    onEnd: ({ status, error }) => {
      done();
      rc.finish(status, error);
    },
  });
  return new Response(relayed, { headers: { ...headers, "cache-control": "no-cache", connection: "keep-alive" } });
}

export const chatCompletionsRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => handleChatCompletions(deps, request, rc));
  return new Elysia({ name: "routes/chat-completions" })
    .post("/v1/chat/completions", handler, { parse: "none" });
};
