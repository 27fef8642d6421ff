/**
 * The Anthropic streaming grammar, as the SDKs and Claude Code rely on it.
 * `checkGrammar` throws with the first rule an event sequence breaks.
 */
import { MessageAccumulator } from "../../src/anthropic/accumulate";
import type { StreamEvent } from "../../src/anthropic/events";
import type { AnthropicMessage } from "../../src/anthropic/schema";

export interface RawEvent {
  event: string | null;
  data: any;
}

function fail(i: number, why: string, e: unknown): never {
  throw new Error(`event #${i} ${why}: ${JSON.stringify(e)}`);
}

/** Rules for the data payloads, in order. */
export function checkGrammar(events: ReadonlyArray<StreamEvent | { type: string; [k: string]: any }>): void {
  const list = events as any[];
  if (list.length === 0) throw new Error("no events");
  if (list[0].type !== "message_start") fail(0, "is not message_start", list[0]);
  const start = list[0].message;
  if (!(start.usage?.input_tokens > 0)) fail(0, "has no positive usage.input_tokens", start);
  if (start.content.length !== 0 || start.stop_reason !== null) fail(0, "is not an empty message", start);

  let open: { index: number; type: string; signed: boolean; thinkingDeltas: number } | null = null;
  let next = 0;
  let sawDelta = false;
  for (let i = 1; i < list.length; i++) {
    const e = list[i];
    if (sawDelta) {
      if (e.type !== "message_stop" || i !== list.length - 1) fail(i, "follows message_delta but is not the final message_stop", e);
      return;
    }
    switch (e.type) {
      case "ping":
        break; // allowed anywhere before message_delta
      case "content_block_start": {
        if (open) fail(i, `starts a block while block ${open.index} is open`, e);
        if (e.index !== next) fail(i, `has index ${e.index}, expected ${next}`, e);
        const b = e.content_block;
        const citedStart = b.type === "text" && Array.isArray(b.citations) && b.citations.length === 0 && Object.keys(b).length === 3;
        if (b.type === "text" && !(b.text === "" && (Object.keys(b).length === 2 || citedStart))) fail(i, 'text start is not {"type":"text","text":""} (or with "citations":[])', e);
        if (b.type === "thinking" && !(b.thinking === "" && b.signature === "" && Object.keys(b).length === 3)) {
          fail(i, 'thinking start is not {"type":"thinking","thinking":"","signature":""}', e);
        }
        if (b.type === "tool_use") {
          if (!/^toolu_[A-Za-z0-9_-]+$/.test(b.id)) fail(i, "tool_use id is not a toolu_ id", e);
          if (typeof b.name !== "string" || !b.name) fail(i, "tool_use has no name", e);
          if (JSON.stringify(b.input) !== "{}") fail(i, 'tool_use start input is not {}', e);
        }
        if (b.type === "server_tool_use") {
          if (!/^srvtoolu_[A-Za-z0-9_-]+$/.test(b.id)) fail(i, "server_tool_use id is not a srvtoolu_ id", e);
          if (b.name !== "web_search" && b.name !== "code_execution") fail(i, "server_tool_use is neither web_search nor code_execution", e);
          if (JSON.stringify(b.input) !== "{}") fail(i, "server_tool_use start input is not {}", e);
        }
        if (b.type === "web_search_tool_result") {
          const prev = list.slice(0, i).filter((x) => x.type === "content_block_start").at(-1);
          if (prev?.content_block?.type !== "server_tool_use" || prev.content_block.id !== b.tool_use_id) fail(i, "result does not follow its server_tool_use", e);
          const c = b.content;
          const okContent = Array.isArray(c)
            ? c.every((r: any) => r.type === "web_search_result" && typeof r.url === "string" && typeof r.title === "string" && typeof r.encrypted_content === "string" && r.page_age === null)
            : c?.type === "web_search_tool_result_error" && typeof c.error_code === "string";
          if (!okContent) fail(i, "result content is not web_search_result[] or an error", e);
        }
        if (b.type === "code_execution_tool_result") {
          const prev = list.slice(0, i).filter((x) => x.type === "content_block_start").at(-1);
          if (prev?.content_block?.name !== "code_execution" || prev.content_block.id !== b.tool_use_id) fail(i, "result does not follow its code_execution server_tool_use", e);
          const c = b.content;
          const okContent =
            (c?.type === "code_execution_result" && typeof c.stdout === "string" && typeof c.stderr === "string" && typeof c.return_code === "number" && Array.isArray(c.content)) ||
            (c?.type === "code_execution_tool_result_error" && typeof c.error_code === "string");
          if (!okContent) fail(i, "result content is not a code_execution_result or an error", e);
        }
        if (b.type === "mcp_tool_use") {
          if (!/^mcptoolu_[A-Za-z0-9_-]+$/.test(b.id)) fail(i, "mcp_tool_use id is not a mcptoolu_ id", e);
          if (typeof b.name !== "string" || typeof b.server_name !== "string" || !b.server_name) fail(i, "mcp_tool_use has no name or server_name", e);
          if (JSON.stringify(b.input) !== "{}") fail(i, "mcp_tool_use start input is not {}", e);
        }
        if (b.type === "mcp_tool_result") {
          const prev = list.slice(0, i).filter((x) => x.type === "content_block_start").at(-1);
          if (prev?.content_block?.type !== "mcp_tool_use" || prev.content_block.id !== b.tool_use_id) fail(i, "result does not follow its mcp_tool_use", e);
          if (typeof b.is_error !== "boolean" || !Array.isArray(b.content) || !b.content.every((t: any) => t.type === "text" && typeof t.text === "string")) {
            fail(i, "result is not {is_error, content: text blocks}", e);
          }
        }
        const known = ["text", "thinking", "tool_use", "server_tool_use", "web_search_tool_result", "code_execution_tool_result", "mcp_tool_use", "mcp_tool_result"];
        if (!known.includes(b.type)) fail(i, "has an unknown block type", e);
        open = { index: e.index, type: citedStart ? "cited" : b.type, signed: false, thinkingDeltas: 0 };
        next++;
        break;
      }
      case "content_block_delta": {
        if (!open || e.index !== open.index) fail(i, "is a delta for a block that is not open", e);
        const d = e.delta;
        const ok =
          ((open.type === "text" || open.type === "cited") && d.type === "text_delta" && typeof d.text === "string") ||
          (open.type === "cited" && d.type === "citations_delta" && d.citation?.type === "web_search_result_location") ||
          ((open.type === "server_tool_use" || open.type === "mcp_tool_use") && d.type === "input_json_delta" && typeof d.partial_json === "string") ||
          (open.type === "thinking" && d.type === "thinking_delta" && !open.signed) ||
          (open.type === "thinking" && d.type === "signature_delta") ||
          (open.type === "tool_use" && d.type === "input_json_delta" && typeof d.partial_json === "string");
        if (!ok) fail(i, `is a ${d.type} inside a ${open.type} block (or after its signature)`, e);
        // A cited passage: its citation comes before its text (as Anthropic streams it).
        if (open.type === "cited" && d.type === "citations_delta") open.signed = true;
        if (open.type === "cited" && d.type === "text_delta" && !open.signed) fail(i, "is cited text before its citations_delta", e);
        if (d.type === "signature_delta") {
          if (open.signed) fail(i, "signs a block twice", e);
          if (typeof d.signature !== "string" || !d.signature) fail(i, "has an empty signature", e);
          open.signed = true;
        }
        break;
      }
      case "content_block_stop": {
        if (!open || e.index !== open.index) fail(i, "stops a block that is not open", e);
        if (open.type === "thinking" && !open.signed) fail(i, "ends a thinking block without a signature_delta", e);
        const before = list.slice(0, i).filter((x) => x.type !== "ping").at(-1);
        if (open.type === "thinking" && before?.delta?.type !== "signature_delta") fail(i, "signature_delta is not just before the stop", e);
        open = null;
        break;
      }
      case "message_delta": {
        if (open) fail(i, `comes while block ${open.index} is open`, e);
        if (typeof e.usage?.output_tokens !== "number") fail(i, "has no usage.output_tokens", e);
        if (!e.delta || !("stop_reason" in e.delta) || !e.delta.stop_reason) fail(i, "has no stop_reason", e);
        sawDelta = true;
        break;
      }
      default:
        fail(i, "is not allowed here", e);
    }
  }
  throw new Error("the stream ended without message_delta and message_stop");
}

/** Raw SSE frames: every frame has an `event:` line equal to its data's `type`. */
export function checkFrames(frames: RawEvent[]): void {
  frames.forEach((f, i) => {
    if (f.event === null) throw new Error(`frame #${i} has no event: line`);
    if (!f.data || f.data.type !== f.event) throw new Error(`frame #${i}: event "${f.event}" but data.type "${f.data?.type}"`);
  });
  checkGrammar(frames.map((f) => f.data));
}

/** The message a client would build from the events (after checking the grammar). */
export function assemble(events: ReadonlyArray<StreamEvent>): AnthropicMessage {
  checkGrammar(events);
  return new MessageAccumulator().applyAll(events).message!;
}
