/**
 * Non-streaming Responses JSON → Anthropic message. Pure; a body of the wrong shape throws MalformedUpstream.
 * Server-side calls xAI ran become their Anthropic blocks in place: searches (search.ts), code
 * interpreter runs (code-interpreter.ts), remote MCP calls (mcp-calls.ts).
 */
import { normaliseCall, type ClientToolKind } from "../../anthropic/client-tools";
import type { AnthropicMessage, ResponseBlock } from "../../anthropic/schema";
import { toolUseId } from "../ids";
import { isRecord, MalformedUpstream } from "../malformed";
import { parseToolArguments } from "../tool-args";
import { estimateTextTokens } from "../usage";
import { failureMessage, reasoningSignature, responsesStopReason, summaryText } from "./items";
import { InlineCitations, type CiteUnit } from "./citations";
import { annotationTitles, citation, SearchPresenter, serverToolUsage, type SearchOptions } from "./search";
import { callCode, codeExecutionBlocks } from "./code-interpreter";
import { mcpBlocks } from "./mcp-calls";
import { responsesUsage } from "./usage";
import type { KeptReasoning } from "./stream";
import { digestBlock, TurnDigest, type StoredReasoning } from "../turn-digest";

export interface ResponsesMessageOptions {
  id: string;
  /** The model name the client asked for. */
  model: string;
  inputTokensEstimate: number;
  /** The request offered web search (see search.ts). */
  search?: SearchOptions;
  /** The request enabled thinking: reasoning is shown as signed thinking blocks (else never). */
  thinking?: boolean;
  /** The request's Anthropic-defined client tools: their calls' input is normalised. */
  clientTools?: ReadonlyMap<string, ClientToolKind>;
}

export interface TranslatedMessage {
  message: AnthropicMessage;
  /** The prompt tokens the upstream counted, to learn from. */
  promptTokens: number | undefined;
  /** What the upstream said the request cost, if it did. */
  costTicks: number | undefined;
  /** The answer's encrypted reasoning and the digest of the turn the client receives, for the reasoning store. */
  reasoning?: KeptReasoning;
}

/** The upstream failed the response (status "failed"): its words, as a 502. */
export class FailedResponse extends Error {}

export function fromResponsesJson(json: unknown, opts: ResponsesMessageOptions): TranslatedMessage {
  if (!isRecord(json)) throw new MalformedUpstream("the upstream sent a response that is not a JSON object");
  if (json.status === "failed") throw new FailedResponse(failureMessage(json));
  const output = json.output;
  if (!Array.isArray(output)) throw new MalformedUpstream("the upstream sent a response without an output list");
  const content: ResponseBlock[] = [];
  let chars = 0;
  let refused = false;
  const titles = new Map<string, string>();
  for (const item of output) if (isRecord(item) && item.type === "message") annotationTitles(item, titles);
  const searches = new SearchPresenter(opts.search?.maxUses, titles);
  /** Encrypted reasoning met, with the content index it came before. */
  const kept: Array<{ before: number; e: string; i?: string }> = [];
  for (const item of output) {
    if (!isRecord(item)) continue;
    if (searches.item(item, content)) {
      if (searches.paused) break;
      continue;
    }
    searches.flush(content);
    if (item.type === "reasoning") {
      const text = summaryText(item);
      chars += text.length; // written by the model, shown or not
      if (typeof item.encrypted_content === "string" && item.encrypted_content) {
        kept.push({ before: content.length, e: item.encrypted_content, ...(typeof item.id === "string" && item.id ? { i: item.id } : {}) });
      }
      if (!opts.thinking || (!text && typeof item.encrypted_content !== "string")) continue;
      content.push({ type: "thinking", thinking: text, signature: reasoningSignature(item, text) });
    } else if (item.type === "message") {
      if (!Array.isArray(item.content)) continue;
      let text = "";
      for (const part of item.content) {
        if (!isRecord(part)) continue;
        if (part.type === "output_text" && typeof part.text === "string") text += part.text;
        else if (part.type === "refusal" && typeof part.refusal === "string") {
          text += part.refusal;
          refused = true;
        }
      }
      if (text && opts.search?.webSearch) {
        const cites = new InlineCitations();
        const id = typeof item.id === "string" ? item.id : "";
        appendUnits(content, [...cites.push(text), ...cites.finish()], id, titles);
        chars += text.length;
      } else if (text) {
        const last = content.at(-1);
        if (last?.type === "text" && !last.citations) last.text += text;
        else content.push({ type: "text", text });
        chars += text.length;
      }
    } else if (item.type === "function_call") {
      if (typeof item.name !== "string" || !item.name) throw new MalformedUpstream("the upstream returned a tool call without a tool name");
      if (typeof item.call_id !== "string") throw new MalformedUpstream(`the upstream returned a call of tool "${item.name}" without a call id`);
      const args = parseToolArguments(typeof item.arguments === "string" ? item.arguments : "");
      if (!args.ok) {
        throw new MalformedUpstream(`the upstream returned arguments for tool "${item.name}" that are not valid JSON and could not be repaired`);
      }
      content.push({ type: "tool_use", id: toolUseId(item.call_id), name: item.name, input: normaliseCall(opts.clientTools, item.name, args.input) });
      chars += args.json.length;
    } else if (item.type === "code_interpreter_call") {
      const blocks = codeExecutionBlocks(item, content.length);
      content.push(...blocks);
      chars += callCode(item).length; // the code is the model's writing
    } else if (item.type === "mcp_call") {
      content.push(...mcpBlocks(item, content.length));
      chars += typeof item.arguments === "string" ? item.arguments.length : 0;
    }
    // image_generation_call, …: the upstream ran them; nothing for the client.
  }
  searches.flush(content);
  const emittedToolUse = content.some((b) => b.type === "tool_use");
  const { usage, promptTokens, costTicks } = responsesUsage(json.usage, { input: opts.inputTokensEstimate, output: estimateTextTokens(chars) });
  const serverTools = serverToolUsage(json.usage, searches.searches);
  if (serverTools) usage.server_tool_use = serverTools;
  return {
    message: {
      id: opts.id,
      type: "message",
      role: "assistant",
      model: opts.model,
      content,
      stop_reason: searches.paused ? "pause_turn" : responsesStopReason(json.status, json.incomplete_details, emittedToolUse, refused),
      stop_sequence: null,
      usage,
    },
    promptTokens,
    costTicks,
    ...(kept.length ? { reasoning: keptReasoning(content, kept) } : {}),
  };
}

/** The kept items placed in the turn the client receives (their element positions), and its digest. */
function keptReasoning(content: readonly ResponseBlock[], kept: ReadonlyArray<{ before: number; e: string; i?: string }>): KeptReasoning {
  const d = new TurnDigest();
  const items: StoredReasoning[] = [];
  let k = 0;
  for (let c = 0; c <= content.length; c++) {
    for (; k < kept.length && kept[k]!.before === c; k++) {
      const { e, i } = kept[k]!;
      items.push({ at: d.position, e, ...(i ? { i } : {}) });
    }
    if (c < content.length) digestBlock(d, content[c]!);
  }
  return { digest: d.digest(), items };
}

/** Text pieces → text blocks: plain text joins the plain block before it, each cited passage is a block of its own. */
export function appendUnits(content: ResponseBlock[], units: CiteUnit[], messageId: string, titles?: ReadonlyMap<string, string>): void {
  for (const u of units) {
    const last = content.at(-1);
    if (u.kind === "text") {
      if (last?.type === "text" && !last.citations) last.text += u.text;
      else content.push({ type: "text", text: u.text });
    } else if (u.kind === "cited") {
      content.push({ type: "text", text: u.text, citations: [citation(u.link, u.text, messageId, titles)] });
    } else if (last?.type === "text" && last.citations) {
      last.citations.push(citation(u.link, last.text, messageId, titles));
    } else {
      content.push({ type: "text", text: "", citations: [citation(u.link, "", messageId, titles)] });
    }
  }
}
