/**
 * xAI Responses stream events → Anthropic stream events. A pure state machine, like the
 * chat dialect's StreamTranslator: the caller feeds decoded events, writes what comes back.
 *
 * - reasoning summary deltas → `thinking_delta` as they arrive, only when the request enabled
 *   thinking (Anthropic never sends a block the request did not ask for); the block is signed
 *   when the reasoning item is done (its `encrypted_content` comes only on `output_item.done`),
 *   with our signature carrying it for the next turn. Shown or not, every encrypted reasoning
 *   item is kept with the digest of the turn as the client receives it (`reasoning`, after
 *   finish()), for the reasoning store (dialects/turn-digest.ts);
 * - output text (and refusal text) → `text` blocks, watched for stop sequences;
 * - a `function_call` → one `tool_use` block when its item is done (arguments gathered from
 *   one delta or many, checked and repaired), id from the exact xAI `call_id`;
 * - server-side searches → `server_tool_use` + `web_search_tool_result` when their item is done
 *   (search.ts); code interpreter runs → `server_tool_use` + `code_execution_tool_result`
 *   (code-interpreter.ts) and remote MCP calls → `mcp_tool_use` + `mcp_tool_result` (mcp-calls.ts),
 *   each whole when its item is done (xAI's progress and argument events for them are not needed);
 *   with web search offered, the answer's inline links become cited text blocks as
 *   they stream (citations.ts: only the line being written is held back, because xAI's
 *   annotations come after all the text, too late to put Anthropic's `citations_delta` first);
 * - `response.completed` / `response.incomplete` end the message; `response.failed` throws
 *   ResponsesStreamFailed; unknown events and item types are skipped.
 */
import { normaliseCall, type ClientToolKind } from "../../anthropic/client-tools";
import { messageStart, type BlockDelta, type BlockStart, type StreamEvent } from "../../anthropic/events";
import type { ResponseBlock, StopReason, Usage } from "../../anthropic/schema";
import { isRecord, ToolArgumentsError } from "../malformed";
import { toolUseId } from "../ids";
import { StopSequenceWatcher } from "../stop-sequences";
import { parseToolArguments } from "../tool-args";
import { estimateTextTokens } from "../usage";
import { failureMessage, reasoningSignature, responsesStopReason } from "./items";
import { InlineCitations, type CiteUnit } from "./citations";
import { citation, SearchPresenter, serverToolUsage, type SearchOptions } from "./search";
import { codeExecutionBlocks } from "./code-interpreter";
import { mcpBlocks } from "./mcp-calls";
import { responsesUsage } from "./usage";
import type { ResponsesEvent } from "./wire";
import { TurnDigest, type StoredReasoning } from "../turn-digest";

export interface ResponsesStreamOptions {
  messageId: string;
  model: string;
  inputTokensEstimate: number;
  stopSequences?: string[];
  /** The request offered web search (see search.ts). */
  search?: SearchOptions;
  /** The request enabled thinking: reasoning is shown as signed thinking blocks (else never). */
  thinking?: boolean;
  /** The request's Anthropic-defined client tools: their calls' input is normalised. */
  clientTools?: ReadonlyMap<string, ClientToolKind>;
}

/** A turn's encrypted reasoning and the digest of the turn as the client received it (see turn-digest.ts). */
export interface KeptReasoning {
  digest: string;
  items: StoredReasoning[];
}

/** Item types that belong to a server-side search (held search blocks wait for them). */
const isSearchItem = (item: Record<string, unknown>) =>
  item.type === "web_search_call" ||
  item.type === "custom_tool_call" ||
  item.type === "x_search_call" ||
  (item.type === "reasoning" && typeof item.id === "string" && item.id.startsWith("tco_"));

/** The upstream said the response failed (`response.failed`), after the 200. */
export class ResponsesStreamFailed extends Error {}

interface Call {
  callId: string;
  name: string;
  args: string;
}

export class ResponsesStreamTranslator {
  private nextIndex = 0;
  private open: { kind: "text" | "thinking" | "cited"; index: number; item?: string } | null = null;
  private readonly searches: SearchPresenter;
  /** The message item being read for inline citations (web search offered), and its id. */
  private cites: InlineCitations | null = null;
  private messageItem = "";
  private citedPassage = "";
  private thinkingText = "";
  private summaryIndex = 0;
  private readonly watcher: StopSequenceWatcher;
  private readonly calls = new Map<string, Call>();
  private toolsEmitted = 0;
  private rawUsage: unknown = undefined;
  private status: unknown = undefined;
  private incomplete: unknown = undefined;
  private ended = false;
  private matched: string | null = null;
  /** The model refused (refusal text instead of output text). */
  private refused = false;
  private outputChars = 0;
  private finished = false;
  /** The turn as the client receives it, and the reasoning items met so far (where they go in it). */
  private readonly turn = new TurnDigest();
  private readonly kept: StoredReasoning[] = [];
  /** The answer's encrypted reasoning with the turn's digest, after finish(); undefined when it had none. */
  reasoning: KeptReasoning | undefined;
  stopReason: StopReason | null = null;
  usage: Usage | null = null;
  /** The prompt tokens the upstream reported, after finish(). */
  upstreamPromptTokens: number | undefined;
  /** What the upstream said the request cost, after finish(). */
  upstreamCostTicks: number | undefined;

  constructor(private readonly opts: ResponsesStreamOptions) {
    this.watcher = new StopSequenceWatcher(opts.stopSequences);
    this.searches = new SearchPresenter(opts.search?.maxUses);
  }

  /** A stop sequence matched, or max_uses was passed: stop reading. */
  get stopped(): boolean {
    return this.matched !== null || this.searches.paused;
  }

  /** The upstream reported the usage (in `response.completed` / `response.incomplete`). */
  get usageReported(): boolean {
    return this.rawUsage !== undefined && this.rawUsage !== null;
  }

  /** The response reached `response.completed` or `response.incomplete` (a stream without it was cut short). */
  get complete(): boolean {
    return this.ended;
  }

  start(): StreamEvent[] {
    return [messageStart(this.opts.messageId, this.opts.model, this.opts.inputTokensEstimate)];
  }


  push(e: ResponsesEvent): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (this.stopped || this.finished || !isRecord(e)) return out;
    switch (e.type) {
      case "response.reasoning_summary_text.delta":
        if (typeof e.delta === "string" && e.delta) this.thinking(e.delta, e.item_id, e.summary_index, out);
        break;
      case "response.refusal.delta":
        this.refused = true;
        if (typeof e.delta === "string" && e.delta) this.text(e.delta, out);
        break;
      case "response.output_text.delta":
        if (typeof e.delta === "string" && e.delta) this.text(e.delta, out);
        break;
      case "response.output_item.added":
        if (isRecord(e.item)) this.itemAdded(e.item, out);
        break;
      case "response.function_call_arguments.delta": {
        const call = typeof e.item_id === "string" ? this.calls.get(e.item_id) : undefined;
        if (call && typeof e.delta === "string") call.args += e.delta;
        break;
      }
      case "response.output_item.done":
        if (isRecord(e.item)) this.itemDone(e.item, out);
        break;
      case "response.completed":
      case "response.incomplete":
        this.ended = true;
        this.endText(out);
        this.emitBlocks(this.flushSearches(), out);
        this.closeBlock(out);
        if (isRecord(e.response)) {
          this.rawUsage = e.response.usage;
          this.status = e.response.status ?? (e.type === "response.incomplete" ? "incomplete" : "completed");
          this.incomplete = e.response.incomplete_details;
        }
        break;
      case "response.failed":
        throw new ResponsesStreamFailed(failureMessage(e.response));
      default:
      // response.created, in_progress, part added/done, text done, annotations, web search progress, …
    }
    return out;
  }

  finish(): StreamEvent[] {
    if (this.finished) return [];
    const out: StreamEvent[] = [];
    this.endText(out);
    if (!this.stopped) this.emitBlocks(this.flushSearches(), out);
    this.closeBlock(out);
    this.finished = true;
    this.stopReason =
      this.matched !== null
        ? "stop_sequence"
        : this.searches.paused
          ? "pause_turn"
          : responsesStopReason(this.status, this.incomplete, this.toolsEmitted > 0, this.refused);
    const read = responsesUsage(this.rawUsage, { input: this.opts.inputTokensEstimate, output: estimateTextTokens(this.outputChars) }, false);
    const serverTools = serverToolUsage(this.rawUsage, this.searches.searches);
    if (serverTools) read.usage.server_tool_use = serverTools;
    this.usage = read.usage;
    this.upstreamPromptTokens = read.promptTokens;
    this.upstreamCostTicks = read.costTicks;
    if (this.kept.length > 0) this.reasoning = { digest: this.turn.digest(), items: this.kept };
    out.push(
      { type: "message_delta", delta: { stop_reason: this.stopReason, stop_sequence: this.matched }, usage: this.usage },
      { type: "message_stop" },
    );
    return out;
  }

  // ---- blocks ----

  private openBlock(kind: "text" | "thinking", out: StreamEvent[], item?: string): number {
    if (this.open?.kind === kind && (kind === "text" || this.open.item === item)) return this.open.index;
    if (kind === "thinking") this.endText(out);
    this.closeBlock(out);
    const index = this.nextIndex++;
    const content_block: BlockStart = kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" };
    out.push({ type: "content_block_start", index, content_block });
    this.open = { kind, index, item };
    this.thinkingText = "";
    this.summaryIndex = 0;
    return index;
  }

  /** Closes the open block; a thinking block still unsigned is signed with a hash (its item never finished). */
  private closeBlock(out: StreamEvent[], signature?: string): void {
    if (!this.open) return;
    const { kind, index } = this.open;
    if (kind === "cited") {
      // a cited passage is complete when it closes
    } else if (kind === "text") {
      // Text read for citations is drained by endText, never here.
      const rest = this.cites ? "" : this.watcher.flush();
      if (rest) this.delta(index, { type: "text_delta", text: rest }, out, rest.length);
    } else {
      const sig = signature ?? reasoningSignature({}, this.thinkingText);
      out.push({ type: "content_block_delta", index, delta: { type: "signature_delta", signature: sig } });
    }
    out.push({ type: "content_block_stop", index });
    this.open = null;
  }

  private delta(index: number, delta: BlockDelta, out: StreamEvent[], chars: number): void {
    this.outputChars += chars;
    if (delta.type === "text_delta") this.turn.text(delta.text);
    out.push({ type: "content_block_delta", index, delta });
  }

  private thinking(text: string, item: string | undefined, summaryIndex: unknown, out: StreamEvent[]): void {
    if (!this.opts.thinking) {
      this.outputChars += text.length; // not shown, but written by the model all the same
      return;
    }
    const index = this.openBlock("thinking", out, item);
    // A second summary part is a new paragraph, as in the non-streaming translation.
    if (typeof summaryIndex === "number" && summaryIndex > this.summaryIndex) {
      this.summaryIndex = summaryIndex;
      if (this.thinkingText) text = "\n\n" + text;
    }
    this.thinkingText += text;
    this.delta(index, { type: "thinking_delta", thinking: text }, out, text.length);
  }

  private text(text: string, out: StreamEvent[]): void {
    const { emit, matched } = this.watcher.push(text);
    if (this.cites) {
      if (emit) this.emitUnits(this.cites.push(emit), out);
      if (matched !== null) {
        this.emitUnits(this.cites.finish(), out);
        this.cites = null;
      }
    } else if (emit) this.delta(this.openBlock("text", out), { type: "text_delta", text: emit }, out, emit.length);
    if (matched !== null) {
      this.matched = matched;
      this.closeBlock(out);
    }
  }

  /** The end of a message read for citations: what the stop-sequence watcher and the citation reader held. */
  private endText(out: StreamEvent[]): void {
    if (!this.cites) return;
    const cites = this.cites;
    const rest = this.watcher.flush();
    this.emitUnits([...(rest ? cites.push(rest) : []), ...cites.finish()], out);
    this.cites = null;
  }

  /** Plain text joins the open text block; a cited passage is a block of its own, its citation first. */
  private emitUnits(units: CiteUnit[], out: StreamEvent[]): void {
    for (const u of units) {
      if (u.kind === "text") {
        if (u.text) this.delta(this.openBlock("text", out), { type: "text_delta", text: u.text }, out, u.text.length);
        continue;
      }
      if (u.kind === "more" && this.open?.kind === "cited") {
        out.push({ type: "content_block_delta", index: this.open.index, delta: { type: "citations_delta", citation: citation(u.link, this.citedPassage, this.messageItem) } });
        continue;
      }
      const passage = u.kind === "cited" ? u.text : "";
      this.closeBlock(out);
      const index = this.nextIndex++;
      out.push({ type: "content_block_start", index, content_block: { type: "text", text: "", citations: [] } });
      this.open = { kind: "cited", index };
      this.citedPassage = passage;
      out.push({ type: "content_block_delta", index, delta: { type: "citations_delta", citation: citation(u.link, passage, this.messageItem) } });
      if (passage) this.delta(index, { type: "text_delta", text: passage }, out, passage.length);
    }
  }

  /**
   * Server tool blocks, each whole: a call (server_tool_use, mcp_tool_use) with its input as one
   * delta, a result in its start event.
   */
  private emitBlocks(blocks: ResponseBlock[], out: StreamEvent[]): void {
    for (const b of blocks) {
      this.endText(out);
      this.closeBlock(out);
      const index = this.nextIndex++;
      if (b.type === "server_tool_use") {
        this.turn.serverToolUse(b.id);
        out.push({ type: "content_block_start", index, content_block: { type: "server_tool_use", id: b.id, name: b.name, input: {} } });
        const json = JSON.stringify(b.input);
        this.delta(index, { type: "input_json_delta", partial_json: json }, out, json.length);
      } else if (b.type === "mcp_tool_use") {
        this.turn.mcpToolUse(b.id);
        out.push({ type: "content_block_start", index, content_block: { type: "mcp_tool_use", id: b.id, name: b.name, server_name: b.server_name, input: {} } });
        const json = JSON.stringify(b.input ?? {});
        this.delta(index, { type: "input_json_delta", partial_json: json }, out, json.length);
      } else if (b.type === "web_search_tool_result" || b.type === "code_execution_tool_result" || b.type === "mcp_tool_result") {
        this.turn.toolResult(b.tool_use_id);
        out.push({ type: "content_block_start", index, content_block: b });
      }
      out.push({ type: "content_block_stop", index });
    }
  }

  private flushSearches(): ResponseBlock[] {
    const blocks: ResponseBlock[] = [];
    this.searches.flush(blocks);
    return blocks;
  }

  // ---- items ----

  private addCall(item: Record<string, unknown>): void {
    if (typeof item.id !== "string") return;
    this.calls.set(item.id, {
      callId: typeof item.call_id === "string" ? item.call_id : "",
      name: typeof item.name === "string" ? item.name : "",
      args: "",
    });
  }

  private itemAdded(item: Record<string, unknown>, out: StreamEvent[]): void {
    if (isSearchItem(item)) return;
    // Anything else starting: the searches held for their tool outputs are shown first.
    this.emitBlocks(this.flushSearches(), out);
    if (item.type === "function_call") this.addCall(item);
    if (item.type === "message") {
      this.endText(out);
      this.messageItem = typeof item.id === "string" ? item.id : "";
      if (this.opts.search?.webSearch) this.cites = new InlineCitations();
    }
  }

  private itemDone(item: Record<string, unknown>, out: StreamEvent[]): void {
    const blocks: ResponseBlock[] = [];
    if (this.searches.item(item, blocks)) {
      this.emitBlocks(blocks, out);
      if (this.searches.paused) this.closeBlock(out);
      return;
    }
    this.emitBlocks(this.flushSearches(), out);
    if (item.type === "reasoning") {
      const id = typeof item.id === "string" ? item.id : undefined;
      const content = item.encrypted_content;
      const encrypted = typeof content === "string" && content.length > 0;
      if (encrypted) this.kept.push({ at: this.turn.position, e: content, ...(id ? { i: id } : {}) });
      if (!this.opts.thinking) return;
      if (this.open?.kind === "thinking" && this.open.item === id) {
        this.closeBlock(out, reasoningSignature(item, this.thinkingText));
      } else if (encrypted) {
        // Reasoning without a streamed summary: still a block, so its content comes back next turn.
        this.openBlock("thinking", out, id);
        this.closeBlock(out, reasoningSignature(item, ""));
      }
      return;
    }
    if (item.type === "message") {
      this.endText(out);
      if (this.open?.kind === "text" || this.open?.kind === "cited") this.closeBlock(out);
      return;
    }
    if (item.type === "function_call") this.emitCall(item, out);
    else if (item.type === "code_interpreter_call") this.emitBlocks(codeExecutionBlocks(item, this.nextIndex), out);
    else if (item.type === "mcp_call") this.emitBlocks(mcpBlocks(item, this.nextIndex), out);
  }

  private emitCall(item: Record<string, unknown>, out: StreamEvent[]): void {
    const known = typeof item.id === "string" ? this.calls.get(item.id) : undefined;
    if (typeof item.id === "string") this.calls.delete(item.id);
    const name = typeof item.name === "string" && item.name ? item.name : (known?.name ?? "");
    const callId = typeof item.call_id === "string" && item.call_id ? item.call_id : (known?.callId ?? "");
    const raw = typeof item.arguments === "string" && item.arguments ? item.arguments : (known?.args ?? "");
    if (!name) throw new ToolArgumentsError("the upstream streamed a tool call without a tool name");
    const args = parseToolArguments(raw);
    if (!args.ok) throw new ToolArgumentsError(`the upstream streamed arguments for tool "${name}" that are not valid JSON and could not be repaired`);
    const input = normaliseCall(this.opts.clientTools, name, args.input);
    const json = input === args.input ? args.json : JSON.stringify(input);
    this.endText(out);
    this.closeBlock(out);
    const index = this.nextIndex++;
    const id = toolUseId(callId || undefined);
    this.turn.toolUse(id, name, input);
    out.push({ type: "content_block_start", index, content_block: { type: "tool_use", id, name, input: {} } });
    this.delta(index, { type: "input_json_delta", partial_json: json }, out, json.length);
    out.push({ type: "content_block_stop", index });
    this.toolsEmitted++;
  }
}
