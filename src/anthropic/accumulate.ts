/**
 * Builds the final message from a stream of Anthropic events, the way the SDKs do.
 * Used to answer non-streaming requests that were served from an upstream stream,
 * and by tests to compare streams.
 */
import type { StreamEvent } from "./events";
import type { AnthropicMessage, ResponseBlock } from "./schema";
import { assertNever } from "../assert-never";

export class MessageAccumulator {
  message: AnthropicMessage | null = null;
  private json = new Map<number, string>();

  apply(e: StreamEvent): void {
    switch (e.type) {
      case "message_start":
        this.message = { ...e.message, content: [], usage: { ...e.message.usage } };
        break;
      case "content_block_start": {
        const b = e.content_block;
        const block: ResponseBlock =
          b.type === "tool_use"
            ? { type: "tool_use", id: b.id, name: b.name, input: {} }
            : b.type === "server_tool_use"
              ? ({ type: "server_tool_use", id: b.id, name: b.name, input: {} } as ResponseBlock) // {} only until its input follows (set at content_block_stop)
              : b.type === "mcp_tool_use"
                ? { type: "mcp_tool_use", id: b.id, name: b.name, server_name: b.server_name, input: {} }
                : b.type === "text" && b.citations
                  ? { type: "text", text: "", citations: [] }
                  : { ...b };
        this.message!.content[e.index] = block;
        break;
      }
      case "content_block_delta": {
        const block = this.message!.content[e.index]!;
        const d = e.delta;
        if (d.type === "text_delta" && block.type === "text") block.text += d.text;
        else if (d.type === "thinking_delta" && block.type === "thinking") block.thinking += d.thinking;
        else if (d.type === "signature_delta" && block.type === "thinking") block.signature = d.signature;
        else if (d.type === "citations_delta" && block.type === "text") (block.citations ??= []).push(d.citation);
        else if (d.type === "input_json_delta") this.json.set(e.index, (this.json.get(e.index) ?? "") + d.partial_json);
        break;
      }
      case "content_block_stop": {
        const raw = this.json.get(e.index);
        const block = this.message!.content[e.index]!;
        if (raw !== undefined && (block.type === "tool_use" || block.type === "server_tool_use" || block.type === "mcp_tool_use")) {
          block.input = raw ? JSON.parse(raw) : {};
        }
        break;
      }
      case "message_delta":
        this.message!.stop_reason = e.delta.stop_reason;
        this.message!.stop_sequence = e.delta.stop_sequence;
        this.message!.usage = { ...this.message!.usage, ...e.usage };
        break;
      case "message_stop":
      case "ping":
      case "error":
        break;
      default:
        assertNever(e, "stream event");
    }
  }

  applyAll(events: Iterable<StreamEvent>): this {
    for (const e of events) this.apply(e);
    return this;
  }
}
