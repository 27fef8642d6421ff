/** Non-streaming upstream completion → Anthropic message. Pure. */
import { normaliseCall, type ClientToolKind } from "../../anthropic/client-tools";
import type { AnthropicMessage, ResponseBlock } from "../../anthropic/schema";
import type { ChatCompletion } from "../../openai/schema";
import { toolUseId } from "../ids";
import { count, isRecord, MalformedUpstream } from "../malformed";
import { signThinking } from "../signature";
import { cutAtStopSequence } from "../stop-sequences";
import { toStopReason } from "../stop-reason";
import { parseToolArguments } from "../tool-args";
import { estimateTextTokens, toAnthropicUsage } from "../usage";

export interface ResponseOptions {
  id: string;
  /** The model name the client asked for. */
  model: string;
  stopSequences?: string[];
  inputTokensEstimate: number;
  /** The request's Anthropic-defined client tools: their calls' input is normalised. */
  clientTools?: ReadonlyMap<string, ClientToolKind>;
}

/** The upstream's tool call cannot be turned into a tool_use block (reported as a 502, never passed on). */
export class UnparseableToolArguments extends MalformedUpstream {
  constructor(readonly toolName: string | undefined) {
    super(
      toolName
        ? `the upstream returned arguments for tool "${toolName}" that are not valid JSON and could not be repaired`
        : "the upstream returned a tool call without a tool name",
    );
  }
}

/** A parsed chat completion checked for the fields the translation reads; a wrong shape throws MalformedUpstream. */
export function checkChatCompletion(json: unknown): ChatCompletion {
  if (!isRecord(json)) throw new MalformedUpstream("the upstream sent a response that is not a JSON object");
  if (json.choices !== undefined && !Array.isArray(json.choices)) throw new MalformedUpstream("the upstream sent choices that are not a list");
  const choice = Array.isArray(json.choices) ? json.choices[0] : undefined;
  if (choice !== undefined && !isRecord(choice)) throw new MalformedUpstream("the upstream sent a choice that is not an object");
  const msg = choice?.message;
  if (msg !== undefined && msg !== null) {
    if (!isRecord(msg)) throw new MalformedUpstream("the upstream sent a message that is not an object");
    for (const k of ["content", "reasoning_content", "reasoning", "refusal"] as const) {
      if (msg[k] !== undefined && msg[k] !== null && typeof msg[k] !== "string") throw new MalformedUpstream(`the upstream sent a message ${k} that is not text`);
    }
    if (msg.tool_calls !== undefined && msg.tool_calls !== null) {
      if (!Array.isArray(msg.tool_calls)) throw new MalformedUpstream("the upstream sent tool_calls that are not a list");
      for (const call of msg.tool_calls) {
        if (!isRecord(call) || !isRecord(call.function)) throw new MalformedUpstream("the upstream sent a tool call that is not an object");
        if (call.function.arguments !== undefined && typeof call.function.arguments !== "string") {
          throw new MalformedUpstream("the upstream sent tool call arguments that are not text");
        }
      }
    }
  }
  const u = json.usage;
  if (u !== undefined && u !== null) {
    if (!isRecord(u)) throw new MalformedUpstream("the upstream sent a usage that is not an object");
    count(u.prompt_tokens, "usage.prompt_tokens");
    count(u.completion_tokens, "usage.completion_tokens");
    count(u.total_tokens, "usage.total_tokens");
    if (isRecord(u.prompt_tokens_details)) count(u.prompt_tokens_details.cached_tokens, "usage.prompt_tokens_details.cached_tokens");
    if (isRecord(u.completion_tokens_details)) count(u.completion_tokens_details.reasoning_tokens, "usage.completion_tokens_details.reasoning_tokens");
  }
  return json as unknown as ChatCompletion;
}

export function toAnthropicMessage(c: ChatCompletion, opts: ResponseOptions): AnthropicMessage {
  const choice = c.choices?.[0];
  const msg = choice?.message;
  const content: ResponseBlock[] = [];

  const reasoning = msg?.reasoning_content ?? msg?.reasoning ?? "";
  if (reasoning) content.push({ type: "thinking", thinking: reasoning, signature: signThinking(reasoning) });

  const cut = cutAtStopSequence(msg?.content ?? msg?.refusal ?? "", opts.stopSequences);
  if (cut.text) content.push({ type: "text", text: cut.text });

  if (cut.matched === null) {
    for (const call of msg?.tool_calls ?? []) {
      const name = call.function?.name;
      if (!name) throw new UnparseableToolArguments(undefined);
      const args = parseToolArguments(call.function.arguments ?? "");
      if (!args.ok) throw new UnparseableToolArguments(name);
      content.push({ type: "tool_use", id: toolUseId(call.id), name, input: normaliseCall(opts.clientTools, name, args.input) });
    }
  }

  const emittedToolUse = content.some((b) => b.type === "tool_use");
  const outputChars = content.reduce((n, b) => n + (b.type === "text" ? b.text.length : b.type === "thinking" ? b.thinking.length : b.type === "tool_use" ? JSON.stringify(b.input).length : 0), 0);
  return {
    id: opts.id,
    type: "message",
    role: "assistant",
    model: opts.model,
    content,
    stop_reason: toStopReason(choice?.finish_reason, { emittedToolUse, matchedStopSequence: cut.matched }),
    stop_sequence: cut.matched,
    usage: toAnthropicUsage(c.usage, { input: opts.inputTokensEstimate, output: estimateTextTokens(outputChars) }),
  };
}
