/**
 * POST /v1/messages (also /v1/v1/messages): authenticate, validate, translate,
 * call the upstream, translate back — as JSON or as an SSE stream.
 */
import { Elysia } from "elysia";
import { MessageAccumulator } from "../anthropic/accumulate";
import { encodeEvent, PING_FRAME, type StreamEvent } from "../anthropic/events";
import type { MessagesRequest } from "../anthropic/schema";
import { validateMessagesRequest } from "../anthropic/validate";
import type { AppDeps } from "../deps";
import { readJsonBody } from "../http/body";
import { abortWhenClientGoes } from "../http/client-gone";
import { logged, type RequestContext } from "../http/context";
import { ApiError, invalidRequest, toApiError } from "../http/errors";
import type { ChatCompletion } from "../openai/schema";
import { redactSecrets } from "../redact";
import { newMessageId } from "../translate/ids";
import { toChatRequest } from "../translate/request";
import { toAnthropicMessage, UnparseableToolArguments } from "../translate/response";
import { conversationId } from "../translate/conversation";
import { StreamTranslator } from "../translate/stream";
import { inspectPrompt } from "../translate/usage";
import { upstreamLogFields, type UpstreamResult } from "../upstream/client";
import { pump } from "./pump";

/** A direct stream's flush() answers a number, or a promise while the client drains. */
const flushed = (f: number | Promise<number>): Promise<void> | undefined =>
  typeof f === "number" ? undefined : f.then(() => undefined);

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
};

/** A 404 for a model says which name it was mapped from and where to change that. */
export function explainModelError(err: ApiError, requested: string, upstreamModel: string): ApiError {
  if (err.status !== 404) return err;
  const via = requested === upstreamModel ? `"${upstreamModel}"` : `"${upstreamModel}" (mapped from "${requested}")`;
  return new ApiError(404, `${err.message} — the upstream does not serve model ${via}; change model_map in the grok2api config file`, {
    type: "not_found_error",
    retryable: false,
  });
}

export async function handleMessages(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const clientKey = deps.authenticate(request.headers);
  const raw = await readJsonBody(request, deps.config.maxBodyBytes);
  const v = validateMessagesRequest<MessagesRequest>(raw);
  if (!v.ok) throw invalidRequest(v.message);
  // PDFs and URL documents become text first (async, may fetch); the translation after is pure.
  const req = await deps.documents.resolve(v.value, request.signal);

  const prompt = inspectPrompt(req);
  const { model: upstreamModel, rule } = deps.route({
    model: req.model,
    inputTokens: prompt.tokens,
    thinking: req.thinking !== undefined && req.thinking.type !== "disabled",
    images: prompt.images > 0,
  });
  const wantStream = req.stream === true;
  // Stop sequences are watched here, so the upstream can be stopped as soon as one appears.
  const upstreamStream = wantStream || (req.stop_sequences?.some((s) => s.length > 0) ?? false);
  Object.assign(rc.entry, { model: req.model, upstream_model: upstreamModel, route: rule, stream: wantStream });

  // A fallback may name another model: translate again for its capabilities.
  const translate = (model: string) => toChatRequest(req, { model, caps: deps.caps.get(model), stream: upstreamStream });
  const { body, warnings } = translate(upstreamModel);
  for (const w of warnings) deps.logger.warn(w, { request_id: rc.id });
  if (deps.logger.enabled("debug")) deps.logger.debug("upstream request", { request_id: rc.id, body: redactSecrets(body) });

  // The client going away stops the upstream at once, before the first byte or mid-stream.
  const { abort, release } = abortWhenClientGoes(request);

  const inputTokens = deps.tokens.measure(req, upstreamModel, prompt.tokens);
  const inputTokensEstimate = inputTokens.estimate;
  // Every turn of a Claude Code session goes to the same xAI prompt cache.
  const convId = conversationId(request.headers.get("x-claude-code-session-id"), req.metadata?.user_id);
  let result: UpstreamResult;
  try {
    result = await deps.upstream.send({
      path: "/chat/completions",
      body,
      bodyFor: (model) => translate(model).body,
      key: clientKey,
      signal: abort.signal,
      requestId: rc.id,
      headers: convId ? { "x-grok-conv-id": convId } : undefined,
    });
  } catch (err) {
    release();
    if (request.signal.aborted) rc.finish(499, "client_closed");
    throw err instanceof ApiError ? explainModelError(err, req.model, upstreamModel) : err;
  }
  const { response: res, watchdog } = result;
  Object.assign(rc.entry, upstreamLogFields(result, upstreamModel));

  const messageId = newMessageId();
  if (!upstreamStream) {
    try {
      const completion = (await res.json()) as ChatCompletion;
      const message = toAnthropicMessage(completion, { id: messageId, model: req.model, inputTokensEstimate });
      inputTokens.learn(completion.usage?.prompt_tokens);
      Object.assign(rc.entry, { input_tokens: message.usage.input_tokens, output_tokens: message.usage.output_tokens });
      return Response.json(message);
    } catch (err) {
      if (err instanceof UnparseableToolArguments) throw new ApiError(502, err.message, { type: "api_error" });
      if (err instanceof SyntaxError) throw new ApiError(502, "the upstream sent a response that is not valid JSON", { type: "api_error" });
      throw err;
    } finally {
      watchdog.stop();
      release();
    }
  }

  const translator = new StreamTranslator({
    messageId,
    model: req.model,
    inputTokensEstimate,
    stopSequences: req.stop_sequences,
  });
  const upstreamBody = res.body;
  if (!upstreamBody) {
    watchdog.stop();
    throw new ApiError(502, "the upstream sent an empty response", { type: "api_error" });
  }

  const recordUsage = () => {
    inputTokens.learn(translator.upstreamPromptTokens);
    if (translator.usage) {
      Object.assign(rc.entry, {
        input_tokens: translator.usage.input_tokens,
        output_tokens: translator.usage.output_tokens,
      });
    }
  };

  if (!wantStream) {
    // Non-streaming answer served from an upstream stream (stop sequences).
    const acc = new MessageAccumulator();
    acc.applyAll(translator.start());
    try {
      await pump({ body: upstreamBody, translator, abort, watchdog, sink: (events) => void acc.applyAll(events) });
    } finally {
      watchdog.stop();
      release();
    }
    recordUsage();
    return Response.json(acc.message);
  }

  rc.deferred = true;
  rc.endOnShutdown(abort); // a shutdown aborts with ShuttingDown, sent as the stream's event: error
  const stream = new ReadableStream({
    type: "direct",
    async pull(controller: ReadableStreamDirectController) {
      // One write and one flush per batch of events (all that one upstream read produced);
      // a promise only when the client is slow to drain (backpressure).
      let writing = false; // waiting for the client to drain: no ping may slip in between
      let closed = false;
      const write = (events: StreamEvent[]): Promise<void> | undefined => {
        let frames = "";
        for (const e of events) frames += encodeEvent(e);
        watchdog.sent();
        const w = controller.write(frames);
        const pending = typeof w === "number" ? flushed(controller.flush()) : w.then(() => flushed(controller.flush()));
        if (!pending) return undefined;
        writing = true;
        return pending.finally(() => {
          writing = false;
          watchdog.sent();
        });
      };
      // Keep-alive: clients with idle watchdogs keep waiting while the upstream thinks in silence.
      watchdog.keepAlive(deps.config.resilience.pingIntervalMs, () => {
        if (writing || closed) return;
        try {
          controller.write(PING_FRAME);
          controller.flush();
        } catch {
          // the client is gone; the abort path ends the stream
        }
      });
      let status = 200;
      let error: string | undefined;
      try {
        await write(translator.start());
        const sink = (events: StreamEvent[]) => {
          rc.firstToken();
          return write(events);
        };
        await pump({ body: upstreamBody, translator, abort, watchdog, sink });
      } catch (err) {
        if (!request.signal.aborted) {
          const e = toApiError(err);
          if (!(err instanceof ApiError)) deps.logger.warn("stream failed", { request_id: rc.id, error: String(err) });
          error = e.type;
          try {
            await write([{ type: "error", error: { type: e.type, message: e.message } }]);
          } catch {
            // client already gone
          }
        } else {
          error = "client_closed";
          status = 499;
        }
      } finally {
        closed = true;
        watchdog.stop();
        release();
        recordUsage();
        rc.finish(status, error);
        try {
          controller.close();
        } catch {
          // already closed
        }
      }
    },
    cancel() {
      abort.abort();
    },
  });
  return new Response(stream, { headers: SSE_HEADERS });
}

export const messagesRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => handleMessages(deps, request, rc));
  return new Elysia({ name: "routes/messages" })
    .post("/v1/messages", handler, { parse: "none" });
};
