/**
 * POST /v1/messages (also /v1/v1/messages): authenticate, validate, translate for the
 * upstream's dialect (chat completions or Responses, see translate/dialect.ts), call the
 * upstream, translate back — as JSON or as an SSE stream.
 */
import { Elysia } from "elysia";
import { MessageAccumulator } from "../anthropic/accumulate";
import type { MessagesRequest } from "../anthropic/schema";
import { clientToolKinds, hasComputerTool, type ClientToolKind } from "../anthropic/client-tools";
import { webSearchSpec } from "../anthropic/server-tools";
import { validateMessagesRequest } from "../anthropic/validate";
import type { AppDeps } from "../deps";
import { readJsonBody } from "../http/body";
import { abortWhenClientGoes } from "../http/client-gone";
import { logged, type RequestContext } from "../http/context";
import { ApiError, invalidRequest } from "../http/errors";
import { redactSecrets } from "../redact";
import { conversationId } from "../translate/conversation";
import { dialectFor, type Dialect, type RequestOptions, type UpstreamApi } from "../translate/dialect";
import type { FileAccess } from "../documents/resolver";
import { fileAccess } from "../files/access";
import { newMessageId } from "../translate/ids";
import type { SearchOptions } from "../translate/responses/search";
import { inspectPrompt } from "../translate/usage";
import { UpstreamError } from "../upstream/errors";
import { upstreamLogFields, type UpstreamResult } from "../upstream/client";
import { explainModelError } from "../models/errors";
import type { RouteRule } from "../models/routing";
import { asAnswerFailure } from "./answer-failure";
import { pump } from "./pump";
import { findRestored, keepReasoning, reasoningScope } from "../reasoning/replay";
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
  /** The request enabled thinking: only then does the answer carry thinking blocks. */
  thinking: boolean;
  /** Whose turns the reasoning store keeps this answer's reasoning for. */
  reasoningScope: string;
  /** The request's Anthropic-defined client tools, for normalising their calls. */
  clientTools: ReadonlyMap<string, ClientToolKind> | undefined;
}

/** A Messages request checked, its documents read and its model routed: what is left is admission and the upstream. */
export interface PreparedMessages {
  req: MessagesRequest;
  /** The routed upstream model, and the rule that chose it. */
  model: string;
  rule: RouteRule;
  thinking: boolean;
  promptTokens: number;
}

/**
 * Validation, documents and routing, as /v1/messages does them before admission; message
 * batches run each of their requests through it when the batch is created. Throws the
 * ApiError a client would get (400 naming the field, 404 for a file it does not have).
 */
export async function prepareMessages(deps: AppDeps, raw: unknown, signal: AbortSignal | undefined, files: FileAccess | undefined): Promise<PreparedMessages> {
  const v = validateMessagesRequest<MessagesRequest>(raw);
  if (!v.ok) throw invalidRequest(v.message);
  // PDFs, URL documents and uploaded files become text first (async, may fetch); the translation after is pure.
  const req = await deps.documents.resolve(v.value, signal, files);

  const prompt = inspectPrompt(req);
  // Anthropic sends thinking blocks only when the request enables thinking; Grok reasons anyway.
  const thinking = req.thinking?.type === "enabled" || req.thinking?.type === "adaptive";
  const { model, rule } = deps.route({
    model: req.model,
    inputTokens: prompt.tokens,
    thinking,
    images: prompt.images > 0,
    computerUse: hasComputerTool(req.tools), // screenshots: a model that sees, as for images
  });
  return { req, model, rule, thinking, promptTokens: prompt.tokens };
}

/** The body for one target's dialect and model (throws the 400 of a request that dialect cannot serve). */
export function translateRequest(
  deps: AppDeps,
  req: MessagesRequest,
  api: UpstreamApi,
  model: string,
  o: Omit<RequestOptions, "model" | "caps" | "xSearch">,
) {
  const dialect = dialectFor(api);
  return { dialect, ...dialect.request(req, { ...o, model, caps: deps.caps.get(model), xSearch: deps.config.serverTools?.xSearch ?? false }) };
}

export async function handleMessages(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const clientKey = await deps.authenticate(request.headers, rc);
  const raw = await readJsonBody(request, deps.config.maxBodyBytes);
  const { req, model, rule, thinking, promptTokens } = await prepareMessages(deps, raw, request.signal, fileAccess(deps, request.headers, rc, clientKey));
  const wantStream = req.stream === true;
  // Stop sequences are watched here, so the upstream can be stopped as soon as one appears.
  const upstreamStream = wantStream || (req.stop_sequences?.some((s) => s.length > 0) ?? false);
  Object.assign(rc.entry, { model: req.model, upstream_model: model, route: rule, stream: wantStream });
  await deps.admit(rc, model);

  const x = await callUpstream({ deps, request, rc, req, model, rule, stream: upstreamStream, clientKey, promptTokens, thinking });
  if (!upstreamStream) return answerJson(x);
  return wantStream ? answerStream(x) : answerJsonFromStream(x);
}

interface Call {
  deps: AppDeps;
  request: Request;
  rc: RequestContext;
  req: MessagesRequest;
  /** The routed upstream model, and the rule that chose it. */
  model: string;
  rule: RouteRule;
  /** Ask the upstream for a stream. */
  stream: boolean;
  clientKey: string | undefined;
  promptTokens: number;
  thinking: boolean;
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
  // Turns sent back without their reasoning (no thinking asked, or thinking blocks dropped): what the store kept.
  const scope = reasoningScope(rc.key?.id, c.clientKey);
  const restored = deps.reasoning && deps.upstream.api === "responses" ? await findRestored(deps.reasoning, scope, req.messages) : undefined;
  // Each target gets the body of its own dialect; a fallback may name another model.
  const translate = (api: UpstreamApi, model: string) =>
    translateRequest(deps, req, api, model, { stream: c.stream, cacheKey: convId, withoutEncryptedReasoning, restored });
  const first = translate(deps.upstream.api, c.model); // validates and logs once, before anything is sent
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
        if (api === first.dialect.api && model === c.model && !withoutEncryptedReasoning) return { path: first.dialect.path, body: first.body };
        try {
          const t = translate(api, model);
          return { path: t.dialect.path, body: t.body };
        } catch (err) {
          // A fallback whose dialect cannot serve the request (web search on chat completions) is skipped.
          if (err instanceof ApiError && err.status === 400) return { refused: err };
          throw err;
        }
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
    throw err instanceof ApiError ? explainModelError(err, { requested: req.model, model: c.model, rule: c.rule }, deps.catalog.current) : err;
  }
  Object.assign(rc.entry, upstreamLogFields(result, c.model));
  if (first.replayedReasoning > 0 && !withoutEncryptedReasoning) {
    // How much of Grok's reasoning went back, and whence: the client's thinking signatures, the store, or both.
    const fromStore = first.restoredReasoning;
    const from = fromStore === 0 ? "signature" : fromStore === first.replayedReasoning ? "store" : "signature+store";
    Object.assign(rc.entry, { reasoning_restored: first.replayedReasoning, reasoning_from: from });
  }
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
    thinking: c.thinking,
    reasoningScope: scope,
    clientTools: clientToolKinds(req.tools),
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
    const { message, promptTokens, costTicks, reasoning } = x.dialect.message(json, {
      id: x.messageId,
      model: x.req.model,
      inputTokensEstimate: x.inputTokensEstimate,
      search: x.search,
      thinking: x.thinking,
      clientTools: x.clientTools,
    });
    x.learn(promptTokens);
    await keepReasoning(x.deps.reasoning, x.reasoningScope, reasoning);
    Object.assign(x.rc.entry, {
      input_tokens: message.usage.input_tokens,
      output_tokens: message.usage.output_tokens,
      cached_tokens: message.usage.cache_read_input_tokens,
      cost_ticks: costTicks,
    });
    return Response.json(message);
  } catch (err) {
    throw asAnswerFailure(err); // the status a stream's event: error would carry for the same failure
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
    thinking: x.thinking,
    clientTools: x.clientTools,
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
    await keepReasoning(x.deps.reasoning, x.reasoningScope, translator.reasoning);
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
          // The last events: the reasoning is kept before they go, so the client's next turn finds it.
          if (events.at(-1)?.type === "message_stop") {
            const kept = keepReasoning(x.deps.reasoning, x.reasoningScope, translator.reasoning);
            if (kept) return kept.then(() => write(events));
          }
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
