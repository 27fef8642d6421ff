/**
 * POST /v1/messages (also /v1/v1/messages): authenticate, validate, translate for the
 * upstream's dialect (chat completions or Responses, see dialects/index.ts), call the
 * upstream, translate back — as JSON or as an SSE stream.
 */
import { Elysia } from "elysia";
import { MessageAccumulator } from "../../anthropic/accumulate";
import type { MessagesRequest, Usage } from "../../anthropic/schema";
import { clientToolKinds, hasComputerTool } from "../../anthropic/client-tools";
import { webSearchSpec } from "../../anthropic/server-tools";
import { validateMessagesRequest, validateMessagesRequestSliced } from "../../anthropic/validate";
import type { AppDeps } from "../../deps";
import { logged, type RequestContext } from "../../http/context";
import { ApiError, invalidRequest } from "../../http/errors";
import { redactSecrets } from "../../redact";
import { conversationId } from "../../dialects/conversation";
import { dialectFor, type Dialect, type RequestOptions, type StreamOptions, type UpstreamApi } from "../../dialects";
import type { FileAccess } from "../../documents/resolver";
import { fileAccess } from "../../files/access";
import { newMessageId } from "../../dialects/ids";
import type { SearchOptions } from "../../dialects/responses/search";
import { inspectPrompt, inspectPromptSliced, type PromptSize } from "../../dialects/usage";
import { LARGE_BODY_BYTES, Slicer } from "../../http/slicer";
import { explainModelError } from "../../models/errors";
import { asAnswerFailure } from "../../exchange/answer-failure";
import { pump } from "../../exchange/pump";
import { findRestored, keepReasoning, reasoningScope } from "../../reasoning/replay";
import { sseAnswer } from "./sse-answer";
import { charge } from "../../exchange/charge";
import { Exchange } from "../../exchange/exchange";
import { routeAndAdmit, type RouteRequest, type Routed } from "../../route/route-and-admit";

/** xAI could not use replayed reasoning (another key's, damaged, or stale): worth one retry without it. */
const UNUSABLE_REASONING = /could not (decrypt|decode)/i;

/** What the answer's translation needs, once the upstream has answered. */
interface Answer {
  deps: AppDeps;
  req: MessagesRequest;
  rc: RequestContext;
  ex: Exchange;
  dialect: Dialect<unknown>;
  opts: StreamOptions;
  learn(promptTokens: number | undefined): void;
  /** Whose turns the reasoning store keeps this answer's reasoning for. */
  reasoningScope: string;
}

/** A Messages request validated, with what routing and admission need to know about it. */
export interface CheckedMessages {
  value: MessagesRequest;
  /** Its prompt's estimated tokens, before documents are read. */
  promptTokens: number;
  /** The request enabled thinking (Anthropic sends thinking blocks only then; Grok reasons anyway). */
  thinking: boolean;
  route: RouteRequest;
  /** Its own secrets (MCP servers' tokens): no error or relayed text may show them. */
  secrets: string[];
}

/**
 * The first steps of /v1/messages, before routing and admission: validation (400 naming the
 * field) and the facts routing judges by. Message batches run each of their requests through
 * these steps (and routeRequest, readDocuments, translateRequest) when the batch is created.
 */
export function checkMessages(raw: unknown): CheckedMessages {
  const v = validateMessagesRequest(raw);
  if (!v.ok) throw invalidRequest(v.message);
  return checked(v.value, inspectPrompt(v.value));
}

/** checkMessages for a large body: validated and measured in slices (it never holds the event loop long). */
export async function checkMessagesSliced(raw: unknown, slicer: Slicer): Promise<CheckedMessages> {
  const v = await validateMessagesRequestSliced(raw, slicer);
  if (!v.ok) throw invalidRequest(v.message);
  return checked(v.value, await inspectPromptSliced(v.value, slicer));
}

function checked(value: MessagesRequest, facts: PromptSize): CheckedMessages {
  const secrets = (value.mcp_servers ?? []).flatMap((s) => (typeof s.authorization_token === "string" ? [s.authorization_token] : []));
  const thinking = value.thinking?.type === "enabled" || value.thinking?.type === "adaptive";
  return {
    value,
    promptTokens: facts.tokens,
    thinking,
    secrets,
    route: {
      model: value.model,
      inputTokens: facts.tokens,
      thinking,
      images: facts.images > 0,
      computerUse: hasComputerTool(value.tools), // screenshots: a model that sees, as for images
      stream: value.stream === true,
      need: { inputTokens: facts.tokens, maxOutputTokens: value.max_tokens },
    },
  };
}

/** After admission: PDFs, URL documents and uploaded files (`files`: the caller's) become text (async, may fetch); the translation after is pure. */
export async function readDocuments(
  deps: AppDeps,
  c: CheckedMessages,
  signal: AbortSignal | undefined,
  files: FileAccess | undefined,
): Promise<{ req: MessagesRequest; promptTokens: number }> {
  const req = await deps.documents.resolve(c.value, signal, files);
  return { req, promptTokens: req === c.value ? c.promptTokens : inspectPrompt(req).tokens };
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
  return { dialect, ...dialect.request(req, { ...o, ...translateOptions(deps, model) }) };
}

/** What a translation takes from the configuration for a model. */
function translateOptions(deps: AppDeps, model: string): Pick<RequestOptions, "model" | "caps" | "xSearch"> {
  return { model, caps: deps.caps.get(model), xSearch: deps.config.serverTools?.xSearch ?? false };
}

export async function handleMessages(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const clientKey = await deps.authenticate(request.headers, rc);
  const { value: raw, bytes } = await deps.readBodySized(request);
  // A large request is checked in slices and translated on the translation thread: it never holds the event loop long.
  const slicer = bytes >= LARGE_BODY_BYTES ? new Slicer() : undefined;
  const checked = slicer ? await checkMessagesSliced(raw, slicer) : checkMessages(raw);
  if (checked.secrets.length) rc.secrets = rc.secrets.with(checked.secrets);
  const { thinking } = checked;
  const wantStream = checked.route.stream;
  const routed = await routeAndAdmit(deps, rc, checked.route);
  const { req, promptTokens } = await readDocuments(deps, checked, request.signal, fileAccess(deps, request.headers, rc, clientKey));
  // Stop sequences are watched here, so the upstream can be stopped as soon as one appears.
  const upstreamStream = wantStream || (req.stop_sequences?.some((s) => s.length > 0) ?? false);

  const a = await callUpstream({ deps, request, rc, req, routed, stream: upstreamStream, clientKey, promptTokens, thinking, slicer });
  if (!upstreamStream) return answerJson(a);
  return wantStream ? answerStream(a) : answerJsonFromStream(a);
}

interface Call {
  deps: AppDeps;
  request: Request;
  rc: RequestContext;
  req: MessagesRequest;
  routed: Routed;
  /** Ask the upstream for a stream. */
  stream: boolean;
  clientKey: string | undefined;
  promptTokens: number;
  thinking: boolean;
  /** Set for a large request: its first translation runs on the translation thread. */
  slicer: Slicer | undefined;
}

/**
 * Translates for each target's dialect and opens the exchange (keys, retries, fallbacks in
 * the upstream client). xAI's 400 about replayed reasoning it cannot decrypt is retried once
 * without the encrypted content.
 */
async function callUpstream(c: Call): Promise<Answer> {
  const { deps, request, rc, req, routed } = c;
  // Every turn of a Claude Code session goes to the same xAI prompt cache.
  const convId = conversationId(request.headers.get("x-claude-code-session-id"), req.metadata?.user_id);
  let withoutEncryptedReasoning = false;
  // Turns sent back without their reasoning (no thinking asked, or thinking blocks dropped): what the store kept.
  const scope = reasoningScope(rc.key?.id, c.clientKey);
  const primary = dialectFor(deps.upstream.api);
  const restored = deps.reasoning && primary.replaysReasoning ? await findRestored(deps.reasoning, scope, req.messages, c.slicer) : undefined;
  // Each target gets the body of its own dialect; a fallback may name another model.
  const options = () => ({ stream: c.stream, cacheKey: convId, withoutEncryptedReasoning, restored });
  const translate = (api: UpstreamApi, model: string) => translateRequest(deps, req, api, model, options());
  // Validates and logs once, before anything is sent: a large request on the translation thread, its body
  // back as bytes sent as they are. (A fallback's or a retry's body is made at once, here.)
  const first = c.slicer
    ? {
        dialect: primary,
        ...(await deps.translation.request(req, deps.upstream.api, { ...options(), ...translateOptions(deps, routed.model) }, c.slicer)),
      }
    : translate(deps.upstream.api, routed.model);
  for (const w of first.warnings) deps.logger.warn(w, { request_id: rc.id });
  if (deps.logger.enabled("debug")) deps.logger.debug("upstream request", { request_id: rc.id, body: redactSecrets(first.body) });

  const inputTokens = deps.tokens.measure(req, routed.model, c.promptTokens);
  const ex = await Exchange.open(deps, rc, request, {
    build: (api, model = routed.model) => {
      // The primary's body is the one already translated (unless the retry changed the request).
      if (api === first.dialect.api && model === routed.model && !withoutEncryptedReasoning) return { path: first.dialect.path, body: first.body };
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
    headers: convId ? { "x-grok-conv-id": convId } : undefined,
    explain: (err) => explainModelError(err, { requested: req.model, model: routed.model, rule: routed.rule }, deps.catalog.current),
    retryOnce: (err) => {
      if (!(err.upstreamStatus === 400 && UNUSABLE_REASONING.test(err.message) && first.replayedReasoning > 0)) return false;
      deps.logger.warn("upstream could not use the replayed reasoning: retrying without its encrypted content", {
        request_id: rc.id,
        items: first.replayedReasoning,
        error: err.message,
      });
      withoutEncryptedReasoning = true;
      return true;
    },
    inputEstimate: inputTokens.estimate,
  });
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
    ex,
    dialect: dialectFor(ex.api),
    opts: {
      id: newMessageId(),
      model: req.model,
      inputTokensEstimate: inputTokens.estimate,
      stopSequences: req.stop_sequences,
      search: searchOptions(req),
      thinking: c.thinking,
      clientTools: clientToolKinds(req.tools),
    },
    learn: (n) => inputTokens.learn(n),
    reasoningScope: scope,
  };
}

/** What the answer's translation needs to know about the request's web search tool. */
function searchOptions(req: MessagesRequest): SearchOptions | undefined {
  const spec = webSearchSpec(req.tools);
  return spec ? { webSearch: true, ...(spec.maxUses !== undefined ? { maxUses: spec.maxUses } : {}) } : undefined;
}

/** The usage of an answer, charged (exact when the upstream reported it, else the estimate). */
function chargeUsage(a: Answer, usage: Usage, costTicks: number | undefined, reported: boolean): void {
  charge(a.rc, {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cachedTokens: usage.cache_read_input_tokens,
    costTicks,
    estimated: !reported,
  });
}

/** A non-streaming upstream answer → one JSON message. */
async function answerJson(a: Answer): Promise<Response> {
  try {
    const json = await a.ex.readJson();
    const { message, promptTokens, costTicks, reasoning } = a.dialect.message(json, a.opts);
    a.learn(promptTokens);
    chargeUsage(a, message.usage, costTicks, promptTokens !== undefined);
    a.ex.onSettle(() => keepReasoning(a.deps.reasoning, a.reasoningScope, reasoning));
    await a.ex.settle();
    return Response.json(message);
  } catch (err) {
    throw asAnswerFailure(err); // the status a stream's event: error would carry for the same failure
  } finally {
    a.ex.close();
  }
}

function translatorFor(a: Answer) {
  const body = a.ex.body();
  const translator = a.dialect.stream(a.opts);
  /** Charged from what the translator saw: the upstream's usage, or (cut short, client gone) the estimate. */
  const chargeSeen = () => {
    if (!translator.usage) {
      // Bookkeeping only: a call the upstream left half-made must not stop the request from being logged and closed.
      try {
        translator.finish();
      } catch {
        // no usage beyond the estimate
      }
    }
    a.learn(translator.upstreamPromptTokens);
    if (translator.usage) chargeUsage(a, translator.usage, translator.upstreamCostTicks, translator.usageReported);
  };
  a.ex.onSettle(() => keepReasoning(a.deps.reasoning, a.reasoningScope, translator.reasoning));
  return { body, translator, chargeSeen };
}

/** A non-streaming answer served from an upstream stream (stop sequences are watched on it). */
async function answerJsonFromStream(a: Answer): Promise<Response> {
  const { body, translator, chargeSeen } = translatorFor(a);
  const acc = new MessageAccumulator();
  acc.applyAll(translator.start());
  try {
    await pump({ body, translator, decoder: a.dialect.decoder(), client: a.ex.client, watchdog: a.ex.result.watchdog, sink: (events) => void acc.applyAll(events) });
    chargeSeen();
    await a.ex.settle();
  } finally {
    a.ex.close();
    chargeSeen(); // a failed request too: what it used is in its log line (and the ledger)
  }
  return Response.json(acc.message);
}

/** The answer as Anthropic SSE, event by event as the upstream sends. */
function answerStream(a: Answer): Response {
  const { body, translator, chargeSeen } = translatorFor(a);
  const { ex, rc } = a;
  rc.deferred = true;
  rc.endOnShutdown(ex.client.abort); // a shutdown aborts with ShuttingDown, sent as the stream's event: error
  return sseAnswer({
    start: translator.start(),
    run: (write) =>
      pump({
        body,
        translator,
        decoder: a.dialect.decoder(),
        client: ex.client,
        watchdog: ex.result.watchdog,
        sink: (events) => {
          rc.firstToken();
          // The last events: the request is charged and settled first (the reasoning kept), so the
          // client's next turn finds it and a client that got the whole answer was charged for it.
          if (events.at(-1)?.type === "message_stop") {
            chargeSeen();
            const settled = ex.settle();
            if (settled) return settled.then(() => write(events));
          }
          return write(events);
        },
      }),
    watchdog: ex.result.watchdog,
    pingMs: a.deps.config.resilience.pingIntervalMs,
    client: ex.client,
    secrets: rc.secrets,
    logger: a.deps.logger,
    requestId: rc.id,
    beforeError() {
      chargeSeen();
      return ex.settleFailure();
    },
    onEnd(status, error) {
      ex.close();
      chargeSeen();
      rc.finish(status, error);
    },
  });
}

export const messagesRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => handleMessages(deps, request, rc), deps.price);
  return new Elysia({ name: "routes/messages" })
    .post("/v1/messages", handler, { parse: "none" });
};
