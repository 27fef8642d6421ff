/**
 * The seam between the route and the upstream's API dialect. Each dialect bundles its
 * path, its request translator, its non-streaming and streaming translators and its SSE
 * event decoder, so the route chooses none of them: it asks for the dialect of the target
 * that answered and uses what it gets.
 */
import type { ClientToolKind } from "../anthropic/client-tools";
import type { StreamEvent } from "../anthropic/events";
import type { AnthropicMessage, MessagesRequest, Usage } from "../anthropic/schema";
import { refuseServerTools } from "../anthropic/server-tools";
import type { ModelCaps } from "../models/capabilities";
import { ticksOf } from "../models/pricing";
import type { ChatCompletion } from "./chat/wire";
import { createChunkDecoder, createEventDecoder, type EventDecoder } from "./sse-reader";
import { toChatRequest } from "./chat/request";
import { checkChatCompletion, toAnthropicMessage } from "./chat/response";
import { StreamTranslator } from "./chat/stream";
import { fromResponsesJson } from "./responses/response";
import { toResponsesRequest } from "./responses/request";
import type { SearchOptions } from "./responses/search";
import { ResponsesStreamTranslator, type KeptReasoning } from "./responses/stream";
import type { StoredReasoning } from "./turn-digest";
import type { ResponsesEvent } from "./responses/wire";

export type UpstreamApi = "chat" | "responses";

export interface RequestOptions {
  model: string;
  caps: ModelCaps;
  stream: boolean;
  /** The conversation's id (Claude Code session), for the upstream's prompt cache. */
  cacheKey?: string;
  /** Leave out encrypted reasoning (the upstream could not decrypt it). */
  withoutEncryptedReasoning?: boolean;
  /** `[server_tools] x_search` (Responses only). */
  xSearch?: boolean;
  /** What the reasoning store kept for assistant turns, by their ordinal (Responses only: chat completions take no reasoning back). */
  restored?: ReadonlyMap<number, readonly StoredReasoning[]>;
}

export interface TranslatedRequest {
  body: { model: string };
  warnings: string[];
  /** Reasoning items replayed with their encrypted content (Responses only), from signatures and the store. */
  replayedReasoning: number;
  /** Of those, the ones the reasoning store gave back. */
  restoredReasoning: number;
}

export interface MessageOptions {
  id: string;
  model: string;
  inputTokensEstimate: number;
  /** The request offered web search (Responses only). */
  search?: SearchOptions;
  /** The request enabled thinking (`thinking.type` enabled or adaptive): only then are thinking blocks sent. */
  thinking: boolean;
  /** The request's Anthropic-defined client tools, name → kind: their calls' input is normalised (anthropic/client-tools.ts). */
  clientTools?: ReadonlyMap<string, ClientToolKind>;
}

export interface StreamOptions extends MessageOptions {
  stopSequences?: string[];
}

/** What the pump drives: upstream events in, Anthropic events out. */
export interface StreamTranslatorLike<E> {
  start(): StreamEvent[];
  push(e: E): StreamEvent[];
  finish(): StreamEvent[];
  /** A stop sequence matched: stop reading. */
  readonly stopped: boolean;
  /** The upstream said the message is over (a stream that ends without it was cut). */
  readonly complete: boolean;
  /** The upstream reported the usage (else `usage`, after finish(), is the gateway's estimate). */
  readonly usageReported: boolean;
  readonly upstreamPromptTokens: number | undefined;
  /** What the upstream said the request cost (`usage.cost_in_usd_ticks`), after finish(). */
  readonly upstreamCostTicks: number | undefined;
  readonly usage: Usage | null;
  /** The answer's encrypted reasoning and the digest of the turn the client received, after finish() (Responses only). */
  readonly reasoning?: KeptReasoning;
}

export interface Dialect<E = unknown> {
  api: UpstreamApi;
  /** Path under the base URL. */
  path: string;
  /** It takes Grok's encrypted reasoning back (the reasoning store is consulted for it). */
  replaysReasoning: boolean;
  request(req: MessagesRequest, opts: RequestOptions): TranslatedRequest;
  /** A non-streaming answer's parsed JSON → message (throws MalformedUpstream on a wrong shape). */
  message(
    json: unknown,
    opts: MessageOptions,
  ): { message: AnthropicMessage; promptTokens: number | undefined; costTicks: number | undefined; reasoning?: KeptReasoning };
  stream(opts: StreamOptions): StreamTranslatorLike<E>;
  decoder(): EventDecoder<E>;
}

export const chatDialect: Dialect<import("./chat/wire").ChatChunk> = {
  api: "chat",
  path: "/chat/completions",
  replaysReasoning: false,
  request: (req, o) => {
    refuseServerTools(req.tools, "chat", req.mcp_servers); // server tools exist only on the Responses upstream: a 400, not a silent drop
    return { ...toChatRequest(req, o), replayedReasoning: 0, restoredReasoning: 0 };
  },
  message(json, o) {
    const c: ChatCompletion = checkChatCompletion(json);
    return { message: toAnthropicMessage(c, { ...o }), promptTokens: c.usage?.prompt_tokens, costTicks: ticksOf(c.usage) };
  },
  stream: (o) =>
    new StreamTranslator({
      messageId: o.id,
      model: o.model,
      inputTokensEstimate: o.inputTokensEstimate,
      stopSequences: o.stopSequences,
      thinking: o.thinking,
      clientTools: o.clientTools,
    }),
  decoder: createChunkDecoder,
};

export const responsesDialect: Dialect<ResponsesEvent> = {
  api: "responses",
  path: "/responses",
  replaysReasoning: true,
  request: (req, o) => toResponsesRequest(req, o),
  message: (json, o) => fromResponsesJson(json, o),
  stream: (o) =>
    new ResponsesStreamTranslator({
      messageId: o.id,
      model: o.model,
      inputTokensEstimate: o.inputTokensEstimate,
      stopSequences: o.stopSequences,
      search: o.search,
      thinking: o.thinking,
      clientTools: o.clientTools,
    }),
  // Responses streams name every event; `error` events (and `type:"error"` data) are the upstream's failures.
  decoder: () => createEventDecoder<ResponsesEvent>((name, data) => name === "error" || data.type === "error"),
};

export function dialectFor(api: UpstreamApi): Dialect<any> {
  return api === "responses" ? responsesDialect : chatDialect;
}

/** `auto`: Responses for xAI's own hosts (`api.x.ai`, `*.x.ai`), chat completions for any other server. */
export function resolveApi(api: "auto" | UpstreamApi | undefined, baseUrl: string): UpstreamApi {
  if (api === "chat" || api === "responses") return api;
  let host = "";
  try {
    host = new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return "chat";
  }
  return host === "api.x.ai" || host.endsWith(".x.ai") ? "responses" : "chat";
}
