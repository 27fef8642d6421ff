/**
 * Upstream chat-completion chunks → Anthropic stream events. A pure state machine:
 * the caller feeds parsed chunks and writes the events it gets back.
 *
 * - reasoning → a `thinking` block (signed at its end) when the request enabled thinking, else
 *   nothing (counted as output all the same); text → `text` blocks;
 *   one block is open at a time and indices run 0..n-1 in start order.
 * - tool calls are gathered by `index` (xAI sends id, name and all arguments in
 *   one chunk; others send fragments) and emitted whole when the choice finishes,
 *   in index order, with arguments checked (and repaired) so the client always
 *   gets valid JSON. A delta whose `id` differs from the call already at its index
 *   starts a new call after it (some upstreams send every whole call as index 0).
 * - stop sequences are watched across chunk borders; on a match `stopped` turns true
 *   and the caller should abort the upstream and call finish().
 */
import { normaliseCall, type ClientToolKind } from "../../anthropic/client-tools";
import { messageStart, type BlockDelta, type BlockStart, type StreamEvent } from "../../anthropic/events";
import type { StopReason, Usage } from "../../anthropic/schema";
import type { ChatChunk, ChatUsage, ToolCallDelta } from "./wire";
import { ticksOf } from "../../models/pricing";
import { toolUseId } from "../ids";
import { ThinkingSigner } from "../signature";
import { StopSequenceWatcher } from "../stop-sequences";
import { toStopReason } from "../stop-reason";
import { ToolArgumentsError } from "../malformed";
import { checkChatChunk } from "./check";
import { parseToolArguments } from "../tool-args";
import { estimateTextTokens, toAnthropicUsage } from "../usage";

export interface StreamOptions {
  messageId: string;
  /** The model name the client asked for. */
  model: string;
  inputTokensEstimate: number;
  stopSequences?: string[];
  /** The request enabled thinking: reasoning is shown as a signed thinking block (else never). */
  thinking?: boolean;
  /** The request's Anthropic-defined client tools: their calls' input is normalised. */
  clientTools?: ReadonlyMap<string, ClientToolKind>;
}

interface PendingToolCall {
  /** Sort key: the upstream index (or arrival order without one), then arrival. */
  index: number;
  seq: number;
  id: string | undefined;
  name: string;
  args: string;
}


export class StreamTranslator {
  private nextIndex = 0;
  private open: { kind: "text" | "thinking"; index: number } | null = null;
  private signer: ThinkingSigner | null = null;
  private readonly watcher: StopSequenceWatcher;
  /** Tool calls gathered so far, and the call each upstream index points at now. */
  private readonly calls: PendingToolCall[] = [];
  private readonly callAt = new Map<number, PendingToolCall>();
  private toolsEmitted = 0;
  private upstreamUsage: ChatUsage | null = null;
  private finishReason: string | null = null;
  private matched: string | null = null;
  private outputChars = 0;
  private finished = false;
  /** Final stop reason and usage, known after finish(). */
  stopReason: StopReason | null = null;
  usage: Usage | null = null;

  constructor(private readonly opts: StreamOptions) {
    this.watcher = new StopSequenceWatcher(opts.stopSequences);
  }

  /** A stop sequence matched: stop reading the upstream and call finish(). */
  get stopped(): boolean {
    return this.matched !== null;
  }

  /** What the upstream said the request cost (xAI's `usage.cost_in_usd_ticks`), if it did. */
  get upstreamCostTicks(): number | undefined {
    return ticksOf(this.upstreamUsage);
  }

  /** The prompt tokens the upstream reported, if it did. */
  get upstreamPromptTokens(): number | undefined {
    return this.upstreamUsage?.prompt_tokens;
  }

  /** The upstream reported the usage (its usage chunk came). */
  get usageReported(): boolean {
    return this.upstreamUsage !== null;
  }

  /** The upstream said why it stopped (a stream that ends without it was cut short). */
  get complete(): boolean {
    return this.finishReason !== null;
  }

  start(): StreamEvent[] {
    return [messageStart(this.opts.messageId, this.opts.model, this.opts.inputTokensEstimate)];
  }


  push(raw: ChatChunk): StreamEvent[] {
    const chunk = checkChatChunk(raw); // a wrong shape is the upstream's fault (MalformedUpstream), never a TypeError
    const out: StreamEvent[] = [];
    if (chunk.usage) this.upstreamUsage = chunk.usage;
    if (this.matched !== null || this.finished) return out;
    const choice = chunk.choices?.[0];
    if (!choice) return out;
    const d = choice.delta;
    if (d) {
      const reasoning = d.reasoning_content ?? d.reasoning;
      if (reasoning) this.thinking(reasoning, out);
      const text = d.content ?? d.refusal;
      if (text) {
        this.text(text, out);
        if (this.matched !== null) return out;
      }
      if (d.tool_calls) this.collectToolCalls(d.tool_calls);
    }
    if (choice.finish_reason) {
      this.finishReason = choice.finish_reason;
      this.closeBlock(out);
      this.emitToolCalls(out);
    }
    return out;
  }

  /** End of the message: close what is open, emit gathered tool calls, message_delta, message_stop. */
  finish(): StreamEvent[] {
    if (this.finished) return [];
    const out: StreamEvent[] = [];
    this.closeBlock(out);
    if (this.matched === null) this.emitToolCalls(out);
    this.finished = true;
    this.stopReason = toStopReason(this.finishReason, {
      emittedToolUse: this.toolsEmitted > 0,
      matchedStopSequence: this.matched,
    });
    this.usage = toAnthropicUsage(this.upstreamUsage, {
      input: this.opts.inputTokensEstimate,
      output: estimateTextTokens(this.outputChars),
    });
    out.push(
      { type: "message_delta", delta: { stop_reason: this.stopReason, stop_sequence: this.matched }, usage: this.usage },
      { type: "message_stop" },
    );
    return out;
  }

  // ---- blocks ----

  private openBlock(kind: "text" | "thinking", out: StreamEvent[]): number {
    if (this.open?.kind === kind) return this.open.index;
    this.closeBlock(out);
    const index = this.nextIndex++;
    const content_block: BlockStart =
      kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "", signature: "" };
    out.push({ type: "content_block_start", index, content_block });
    this.open = { kind, index };
    if (kind === "thinking") this.signer = new ThinkingSigner();
    return index;
  }

  private closeBlock(out: StreamEvent[]): void {
    if (!this.open) return;
    const { kind, index } = this.open;
    if (kind === "text") {
      const rest = this.watcher.flush();
      if (rest) this.delta(index, { type: "text_delta", text: rest }, out, rest.length);
    } else if (this.signer) {
      out.push({ type: "content_block_delta", index, delta: { type: "signature_delta", signature: this.signer.sign() } });
      this.signer = null;
    }
    out.push({ type: "content_block_stop", index });
    this.open = null;
  }

  private delta(index: number, delta: BlockDelta, out: StreamEvent[], chars: number): void {
    this.outputChars += chars;
    out.push({ type: "content_block_delta", index, delta });
  }

  private thinking(text: string, out: StreamEvent[]): void {
    if (!this.opts.thinking) {
      this.outputChars += text.length;
      return;
    }
    const index = this.openBlock("thinking", out);
    this.signer!.update(text);
    this.delta(index, { type: "thinking_delta", thinking: text }, out, text.length);
  }

  private text(text: string, out: StreamEvent[]): void {
    const { emit, matched } = this.watcher.push(text);
    if (emit) this.delta(this.openBlock("text", out), { type: "text_delta", text: emit }, out, emit.length);
    if (matched !== null) {
      this.matched = matched;
      this.closeBlock(out);
    }
  }

  // ---- tool calls ----

  private collectToolCalls(deltas: ToolCallDelta[]): void {
    for (const tc of deltas) {
      // Without an index, a delta with an id starts a call and one without continues the last.
      let call = tc.index !== undefined ? this.callAt.get(tc.index) : tc.id === undefined ? this.calls.at(-1) : undefined;
      if (call && tc.id && call.id && tc.id !== call.id) call = undefined;
      if (!call) {
        const seq = this.calls.length;
        call = { index: tc.index ?? seq, seq, id: undefined, name: "", args: "" };
        this.calls.push(call);
      }
      if (tc.index !== undefined) this.callAt.set(tc.index, call);
      if (tc.id && !call.id) call.id = tc.id;
      const fn = tc.function;
      if (fn?.name && !call.name) call.name = fn.name;
      if (fn?.arguments) call.args += fn.arguments;
    }
  }

  private emitToolCalls(out: StreamEvent[]): void {
    if (this.calls.length === 0) return;
    const calls = this.calls.splice(0).sort((a, b) => a.index - b.index || a.seq - b.seq);
    this.callAt.clear();
    for (const call of calls) {
      if (!call.name) {
        if (!call.id && !call.args.trim()) continue; // an empty fragment: nothing was lost
        throw new ToolArgumentsError("the upstream streamed a tool call without a tool name");
      }
      const args = parseToolArguments(call.args);
      if (!args.ok) {
        throw new ToolArgumentsError(
          `the upstream streamed arguments for tool "${call.name}" that are not valid JSON and could not be repaired`,
        );
      }
      const input = normaliseCall(this.opts.clientTools, call.name, args.input);
      const json = input === args.input ? args.json : JSON.stringify(input);
      const index = this.nextIndex++;
      out.push({
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: toolUseId(call.id), name: call.name, input: {} },
      });
      this.delta(index, { type: "input_json_delta", partial_json: json }, out, json.length);
      out.push({ type: "content_block_stop", index });
      this.toolsEmitted++;
    }
  }
}
