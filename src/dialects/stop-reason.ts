/** Upstream `finish_reason` → Anthropic `stop_reason`, judged by what was actually emitted. */
import type { StopReason } from "../anthropic/schema";

export function toStopReason(
  finishReason: string | null | undefined,
  opts: { emittedToolUse: boolean; matchedStopSequence: string | null },
): StopReason {
  if (opts.matchedStopSequence !== null) return "stop_sequence";
  switch (finishReason) {
    case "length":
      return "max_tokens";
    case "content_filter":
      return "refusal";
    default:
      // "stop", "tool_calls", "end_turn", null, or anything new: tool_use only if a tool_use block exists.
      return opts.emittedToolUse ? "tool_use" : "end_turn";
  }
}
