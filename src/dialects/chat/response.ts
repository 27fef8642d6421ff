/** Non-streaming upstream completion → Anthropic message. Pure. */
import { normaliseCall, type ClientToolKind } from "../../anthropic/client-tools";
import type { AnthropicMessage, ResponseBlock } from "../../anthropic/schema";
import type { ChatCompletion } from "./wire";
import { toolUseId } from "../ids";
import { MalformedUpstream } from "../malformed";
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
  /** The request enabled thinking: reasoning is shown as a signed thinking block (else never). */
  thinking?: boolean;
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

/** A parsed chat completion checked for the fields the translation reads (the rules chunks are checked by too). */
export { checkChatCompletion } from "./check";

export function toAnthropicMessage(c: ChatCompletion, opts: ResponseOptions): AnthropicMessage {
  const choice = c.choices?.[0];
  const msg = choice?.message;
  const content: ResponseBlock[] = [];

  const reasoning = msg?.reasoning_content ?? msg?.reasoning ?? "";
  if (reasoning && opts.thinking) content.push({ type: "thinking", thinking: reasoning, signature: signThinking(reasoning) });

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
  // Reasoning is written by the model whether it is shown or not.
  const outputChars = content.reduce(
    (n, b) => n + (b.type === "text" ? b.text.length : b.type === "tool_use" ? JSON.stringify(b.input).length : 0),
    reasoning.length,
  );
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
