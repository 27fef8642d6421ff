/** Output items of a Responses answer → Anthropic content, shared by the JSON and stream translators. Pure. */
import { encodeReasoningSignature, signThinking } from "../signature";
import { isRecord, MalformedUpstream } from "../malformed";

/** A reasoning item's readable text: its summary parts, one paragraph each. */
export function summaryText(item: Record<string, unknown>): string {
  const summary = item.summary;
  if (summary === undefined || summary === null) return "";
  if (!Array.isArray(summary)) throw new MalformedUpstream("the upstream sent a reasoning summary that is not a list");
  const texts: string[] = [];
  for (const s of summary) if (isRecord(s) && typeof s.text === "string" && s.text) texts.push(s.text);
  return texts.join("\n\n");
}

/** Our signature for a reasoning item: carries its encrypted content when there is one, else a hash of the text. */
export function reasoningSignature(item: Record<string, unknown>, text: string): string {
  const encrypted = item.encrypted_content;
  if (typeof encrypted === "string" && encrypted) {
    return encodeReasoningSignature({ encryptedContent: encrypted, ...(typeof item.id === "string" ? { id: item.id } : {}) });
  }
  return signThinking(text);
}

/** Why the response ended, in Anthropic's words. */
export function responsesStopReason(
  status: unknown,
  incomplete: unknown,
  emittedToolUse: boolean,
  refused = false,
): "end_turn" | "max_tokens" | "tool_use" | "refusal" {
  if (status === "incomplete") {
    const reason = isRecord(incomplete) ? incomplete.reason : undefined;
    if (reason === "max_output_tokens" || reason === "length") return "max_tokens";
    if (reason === "content_filter") return "refusal";
  }
  // xAI says "completed" after a function call too: a tool_use block is what tells.
  if (emittedToolUse) return "tool_use";
  return refused ? "refusal" : "end_turn";
}

/** The error a failed response carries, in the upstream's words. */
export function failureMessage(response: unknown): string {
  const err = isRecord(response) ? response.error : undefined;
  if (isRecord(err) && typeof err.message === "string" && err.message) return err.message;
  return "the upstream reported that the response failed";
}
