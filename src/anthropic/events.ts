/** Anthropic streaming events, and their SSE encoding. */
import { publicMessage } from "../http/errors";
import type { AnthropicMessage, CodeExecutionResultContent, McpResultText, StopReason, Usage, WebSearchCitation, WebSearchResultContent } from "./schema";
import { assertNever } from "../assert-never";

/** A block's first event: blocks with an input start empty (it follows as `input_json_delta`), results come whole. */
export type BlockStart =
  | { type: "text"; text: ""; citations?: [] }
  | { type: "server_tool_use"; id: string; name: "web_search" | "code_execution"; input: Record<string, never> }
  | { type: "web_search_tool_result"; tool_use_id: string; content: WebSearchResultContent }
  | { type: "code_execution_tool_result"; tool_use_id: string; content: CodeExecutionResultContent }
  | { type: "mcp_tool_use"; id: string; name: string; server_name: string; input: Record<string, never> }
  | { type: "mcp_tool_result"; tool_use_id: string; is_error: boolean; content: McpResultText[] }
  | { type: "thinking"; thinking: ""; signature: "" }
  | { type: "tool_use"; id: string; name: string; input: Record<string, never> };

export type BlockDelta =
  | { type: "text_delta"; text: string }
  | { type: "thinking_delta"; thinking: string }
  | { type: "signature_delta"; signature: string }
  | { type: "input_json_delta"; partial_json: string }
  | { type: "citations_delta"; citation: WebSearchCitation };

export type StreamEvent =
  | { type: "message_start"; message: AnthropicMessage }
  | { type: "content_block_start"; index: number; content_block: BlockStart }
  | { type: "content_block_delta"; index: number; delta: BlockDelta }
  | { type: "content_block_stop"; index: number }
  | {
      type: "message_delta";
      delta: { stop_reason: StopReason | null; stop_sequence: string | null };
      usage: Usage;
    }
  | { type: "message_stop" }
  | { type: "ping" }
  | { type: "error"; error: { type: string; message: string } };

/**
 * One SSE frame: the `event:` line always equals `data.type`.
 * Deltas (nearly every frame of a stream) are written from a template, so only their
 * text goes through JSON.stringify; the bytes are exactly JSON.stringify(e)'s.
 */
export function encodeEvent(e: StreamEvent): string {
  if (e.type === "content_block_delta") {
    const d = e.delta;
    const head = `event: content_block_delta\ndata: {"type":"content_block_delta","index":${e.index},"delta":{"type":"${d.type}",`;
    switch (d.type) {
      case "text_delta":
        return `${head}"text":${JSON.stringify(d.text)}}}\n\n`;
      case "thinking_delta":
        return `${head}"thinking":${JSON.stringify(d.thinking)}}}\n\n`;
      case "signature_delta":
        return `${head}"signature":${JSON.stringify(d.signature)}}}\n\n`;
      case "input_json_delta":
        return `${head}"partial_json":${JSON.stringify(d.partial_json)}}}\n\n`;
      case "citations_delta":
        return `${head}"citation":${JSON.stringify(d.citation)}}}\n\n`;
      default:
        return assertNever(d, "delta");
    }
  }
  if (e.type === "error") {
    // The message was scrubbed of secrets by whoever made the event (sse-answer.ts).
    const shown = { type: "error", error: { type: e.error.type, message: publicMessage(e.error.message) } };
    return `event: error\ndata: ${JSON.stringify(shown)}\n\n`;
  }
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

export const PING_FRAME = encodeEvent({ type: "ping" });

/** The first event of every answer: an empty message with the input estimate (never 0) and one output token. */
export function messageStart(id: string, model: string, inputTokensEstimate: number): StreamEvent {
  return {
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokensEstimate, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  };
}
