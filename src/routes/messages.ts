/**
 * POST /v1/messages (also /v1/v1/messages): authenticate, validate, translate for the
 * upstream's dialect (chat completions or Responses, see translate/dialect.ts), call the
 * upstream, translate back — as JSON or as an SSE stream.
 */
import { Elysia } from "elysia";
import { MessageAccumulator } from "../anthropic/accumulate";
import type { MessagesRequest } from "../anthropic/schema";
import { webSearchSpec } from "../anthropic/server-tools";
import { validateMessagesRequest, validateMessagesRequestSliced } from "../anthropic/validate";
import type { AppDeps } from "../deps";
import { readJsonBodySized } from "../http/body";
import { LARGE_BODY_BYTES, Slicer } from "../http/slicer";
import { abortWhenClientGoes } from "../http/client-gone";
import { logged, type RequestContext } from "../http/context";
import { ApiError, invalidRequest } from "../http/errors";
import { redactSecrets } from "../redact";
import { conversationId } from "../translate/conversation";
import { dialectFor, type Dialect, type UpstreamApi } from "../translate/dialect";
import { newMessageId } from "../translate/ids";
import { MalformedUpstream } from "../translate/malformed";
import { FailedResponse } from "../translate/responses/response";
import type { SearchOptions } from "../translate/responses/search";
import { inspectPrompt, inspectPromptSliced } from "../translate/usage";
import { UpstreamError } from "../upstream/errors";
import { upstreamLogFields, type UpstreamResult } from "../upstream/client";
import { explainModelError } from "../models/errors";
import { checkModelName } from "../models/name";
import { pump } from "./pump";
import { sseAnswer } from "./sse-answer";
import { readUpstreamJson } from "./upstream-json";

/** xAI could not use replayed reasoning (another key's, damaged, or stale): worth one retry without it. */
const UNUSABLE_REASONING = /could not (decrypt|decode)/i;

interface Exchange {
  deps: AppDeps;
  req: MessagesRequest;
  rc: RequestContext;
  result: UpstreamResult;
  dialect: Dialect<unknown>;
  messageId: string;
  inputTokensEstimate: number;
  learn(promptTokens: number | undefined): void;
  release(): void;
  abort: AbortController;
  clientSignal: AbortSignal;
  search: SearchOptions | undefined;
}

export async function handleMessages(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const clientKey = await deps.authenticate(request.headers, rc);
  const { value: raw, bytes } = await readJsonBodySized(request, deps.config.maxBodyBytes);
  // A large request is checked and translated in slices and on the translation thread: it never holds the event loop long.
  const slicer = bytes >= LARGE_BODY_BYTES ? new Slicer() : undefined;
  const v = slicer ? await validateMessagesRequestSliced<MessagesRequest>(raw, slicer) : validateMessagesRequest<MessagesRequest>(raw);
  if (!v.ok) throw invalidRequest(v.message);
  checkModelName(v.value.model);
  // PDFs and URL documents become text first (async, may fetch); the translation after is pure.
  const req = await deps.documents.resolve(v.value, request.signal);

  const prompt = slicer ? await inspectPromptSliced(req, slicer) : inspectPrompt(req);
  const { model, rule } = deps.route({
    model: req.model,
    inputTokens: prompt.tokens,
    thinking: req.thinking !== undefined && req.thinking.type !== "disabled",
    images: prompt.images > 0,
  });
  const wantStream = req.stream === true;
  // Stop sequences are watched here, so the upstream can be stopped as soon as one appears.
  const upstreamStream = wantStream || (req.stop_sequences?.some((s) => s.length > 0) ?? false);
  Object.assign(rc.entry, { model: req.model, upstream_model: model, route: rule, stream: wantStream });
  await deps.admit(rc, model);

  const x = await callUpstream({ deps, request, rc, req, model, stream: upstreamStream, clientKey, promptTokens: prompt.tokens, slicer });
  if (!upstreamStream) return answerJson(x);
  return wantStream ? answerStream(x) : answerJsonFromStream(x);
}

interface Call {
  deps: AppDeps;
  request: Request;
  rc: RequestContext;
  req: MessagesRequest;
  /** The routed upstream model. */
  model: string;
  /** Ask the upstream for a stream. */
  stream: boolean;
  clientKey: string | undefined;
  promptTokens: number;
  /** Set for a large request: its first translation runs on the translation thread. */
  slicer: Slicer | undefined;
}

/**
 * Translates for each target's dialect and calls the upstream (keys, retries, fallbacks in
 * the client). xAI's 400 about replayed reasoning it cannot decrypt is retried once without
 * the encrypted content.
 */
async function callUpstream(c: Call): Promise<Exchange> {
  const { deps, request, rc, req } = c;
  // Every turn of a Claude Code session goes to the same xAI prompt cache.
  const convId = conversationId(request.headers.get("x-claude-code-session-id"), req.metadata?.user_id);
  let withoutEncryptedReasoning = false;
  const xSearch = deps.config.serverTools?.xSearch ?? false;
  // Each target gets the body of its own dialect; a fallback may name another model.
  const options = (model: string) => ({ model, caps: deps.caps.get(model), stream: c.stream, cacheKey: convId, withoutEncryptedReasoning, xSearch });
  const translate = (api: UpstreamApi, model: string) => {
    const dialect = dialectFor(api);
    return { dialect, ...dialect.request(req, options(model)) };
  };
  // Validates and logs once, before anything is sent. (A fallback's or a retry's body is made at once, here.)
  const first = c.slicer
    ? { dialect: dialectFor(deps.upstream.api), ...(await deps.translation.request(req, deps.upstream.api, options(c.model), c.slicer)) }
    : translate(deps.upstream.api, c.model);
  for (const w of first.warnings) deps.logger.warn(w, { request_id: rc.id });
  if (deps.logger.enabled("debug")) deps.logger.debug("upstream request", { request_id: rc.id, body: redactSecrets(first.body) });

  // The client going away stops the upstream at once, before the first byte or mid-stream.
  const { abort, release } = abortWhenClientGoes(request);
  const inputTokens = deps.tokens.measure(req, c.model, c.promptTokens);
  const send = () =>
    deps.upstream.send({
      path: first.dialect.path,
      build: (api, model = c.model) => {
        // The primary's body is the one already translated (unless the retry changed the request).
        const t = api === first.dialect.api && model === c.model && !withoutEncryptedReasoning ? first : translate(api, model);
        return { path: t.dialect.path, body: t.body };
      },
      key: c.clientKey,
      signal: abort.signal,
      requestId: rc.id,
      headers: convId ? { "x-grok-conv-id": convId } : undefined,
    });
  let result: UpstreamResult;
  try {
    try {
      result = await send();
    } catch (err) {
      if (!(err instanceof UpstreamError && err.upstreamStatus === 400 && UNUSABLE_REASONING.test(err.message) && first.replayedReasoning > 0)) throw err;
      deps.logger.warn("upstream could not use the replayed reasoning: retrying without its encrypted content", {
        request_id: rc.id,
        items: first.replayedReasoning,
        error: err.message,
      });
      withoutEncryptedReasoning = true;
      result = await send();
    }
  } catch (err) {
    release();
    if (request.signal.aborted) rc.finish(499, "client_closed");
    throw err instanceof ApiError ? explainModelError(err, req.model, c.model) : err;
  }
  Object.assign(rc.entry, upstreamLogFields(result, c.model));
  return {
    deps,
    req,
    rc,
    result,
    dialect: dialectFor(result.api),
    messageId: newMessageId(),
    inputTokensEstimate: inputTokens.estimate,
    learn: (n) => inputTokens.learn(n),
    release,
    abort,
    clientSignal: request.signal,
    search: searchOptions(req),
  };
}

/** What the answer's translation needs to know about the request's web search tool. */
function searchOptions(req: MessagesRequest): SearchOptions | undefined {
  const spec = webSearchSpec(req.tools);
  return spec ? { webSearch: true, ...(spec.maxUses !== undefined ? { maxUses: spec.maxUses } : {}) } : undefined;
}

/** A non-streaming upstream answer → one JSON message. */
async function answerJson(x: Exchange): Promise<Response> {
  try {
    const json = await readUpstreamJson(x.result.response, x.deps.config.maxResponseBytes);
    const { message, promptTokens, costTicks } = x.dialect.message(json, {
      id: x.messageId,
      model: x.req.model,
      inputTokensEstimate: x.inputTokensEstimate,
      search: x.search,
    });
    x.learn(promptTokens);
    Object.assign(x.rc.entry, {
      input_tokens: message.usage.input_tokens,
      output_tokens: message.usage.output_tokens,
      cached_tokens: message.usage.cache_read_input_tokens,
      cost_ticks: costTicks,
    });
    return Response.json(message);
  } catch (err) {
    if (err instanceof MalformedUpstream) throw new ApiError(502, err.message, { type: "api_error" });
    if (err instanceof FailedResponse) throw new ApiError(502, `the upstream failed the response: ${err.message}`, { type: "api_error" });
    throw err;
  } finally {
    x.result.watchdog.stop();
    x.release();
  }
}

function translatorFor(x: Exchange) {
  const body = x.result.response.body;
  if (!body) {
    x.result.watchdog.stop();
    x.release();
    throw new ApiError(502, "the upstream sent an empty response", { type: "api_error" });
  }
  const translator = x.dialect.stream({
    id: x.messageId,
    model: x.req.model,
    inputTokensEstimate: x.inputTokensEstimate,
    stopSequences: x.req.stop_sequences,
    search: x.search,
  });
  const recordUsage = () => {
    if (!translator.usage) {
      // Cut short (client gone, failure): what was used, estimated. Bookkeeping only: a call the
      // upstream left half-made must not stop the request from being logged and closed.
      try {
        translator.finish();
      } catch {
        // no usage beyond the estimate
      }
    }
    x.learn(translator.upstreamPromptTokens);
    if (translator.usage) {
      Object.assign(x.rc.entry, {
        input_tokens: translator.usage.input_tokens,
        output_tokens: translator.usage.output_tokens,
        cached_tokens: translator.usage.cache_read_input_tokens,
        cost_ticks: translator.upstreamCostTicks,
      });
    }
  };
  return { body, translator, recordUsage };
}

/** A non-streaming answer served from an upstream stream (stop sequences are watched on it). */
async function answerJsonFromStream(x: Exchange): Promise<Response> {
  const { body, translator, recordUsage } = translatorFor(x);
  const acc = new MessageAccumulator();
  acc.applyAll(translator.start());
  try {
    await pump({ body, translator, decoder: x.dialect.decoder(), abort: x.abort, watchdog: x.result.watchdog, sink: (events) => void acc.applyAll(events) });
  } finally {
    x.result.watchdog.stop();
    x.release();
    recordUsage(); // a failed request too: what it used is in its log line (and the ledger)
  }
  return Response.json(acc.message);
}

/** The answer as Anthropic SSE, event by event as the upstream sends. */
function answerStream(x: Exchange): Response {
  const { body, translator, recordUsage } = translatorFor(x);
  const { watchdog } = x.result;
  x.rc.deferred = true;
  x.rc.endOnShutdown(x.abort); // a shutdown aborts with ShuttingDown, sent as the stream's event: error
  return sseAnswer({
    start: translator.start(),
    run: (write) =>
      pump({
        body,
        translator,
        decoder: x.dialect.decoder(),
        abort: x.abort,
        watchdog,
        sink: (events) => {
          x.rc.firstToken();
          return write(events);
        },
      }),
    watchdog,
    pingMs: x.deps.config.resilience.pingIntervalMs,
    abort: x.abort,
    clientSignal: x.clientSignal,
    logger: x.deps.logger,
    requestId: x.rc.id,
    onEnd(status, error) {
      watchdog.stop();
      x.release();
      recordUsage();
      x.rc.finish(status, error);
    },
  });
}

export const messagesRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => handleMessages(deps, request, rc), deps.price);
  return new Elysia({ name: "routes/messages" })
    .post("/v1/messages", handler, { parse: "none" });
};
