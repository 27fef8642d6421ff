/**
 * xAI's remote MCP calls → Anthropic's MCP connector blocks, and back on the next turn. Pure.
 *
 * xAI reports each call as `mcp_call{id, name, server_label, arguments, output, error?, status}`
 * (its spec; no public recording shows one): `output` is the MCP result as JSON,
 * `{"content":[{"type":"text","text":…}],"isError":…}`, and a failed call has its message in
 * `error` instead ("[tool] message"). Each becomes, in order:
 * - `mcp_tool_use{id: "mcptoolu_xai_" + xAI's item id, name, server_name: server_label, input}`:
 *   Grok sees the tools as `<label>___<tool>`, so a name carrying that prefix loses it;
 * - `mcp_tool_result{tool_use_id, is_error, content: text blocks}`: the MCP result's text items;
 *   anything else in it (an image, a resource without text) as a line saying what it was
 *   (Anthropic's MCP result holds text only); the error's text; an unreadable output as is.
 * `usage` is untouched (Anthropic counts no MCP calls; xAI does not bill them).
 *
 * Sent back, our blocks become the `mcp_call` item again, in place (xAI's spec lists output items
 * among the input items; not seen in a recording): the name as the client has it, the arguments
 * from the input, the output rebuilt from the result's text (or `error` for a failed call).
 */
import type { McpResultText, McpToolResultBlock, McpToolUseBlock, ResponseBlock } from "../../anthropic/schema";
import { isRecord } from "../malformed";
import { stringifyInput } from "../prompt";
import { parseToolArguments } from "../tool-args";
import type { McpCallItem } from "./wire";

const PREFIX = "mcptoolu_xai_";
const ITEM_ID = /^[A-Za-z0-9_-]+$/;
const FAILED = "the MCP tool call failed";

type Block = ResponseBlock;

/** One item of an MCP result's `content`, as text. */
function contentText(c: unknown): string {
  if (!isRecord(c)) return "";
  if (c.type === "text") return typeof c.text === "string" ? c.text : "";
  const resource = isRecord(c.resource) ? c.resource : undefined;
  if (c.type === "resource" && typeof resource?.text === "string") return resource.text;
  const what = c.type === "resource" && typeof resource?.uri === "string" ? `resource ${resource.uri}` : typeof c.type === "string" ? c.type : "content";
  const mime = typeof c.mimeType === "string" ? ` (${c.mimeType})` : "";
  return `[${what}${mime}: not shown, an MCP result here carries text only]`;
}

/** The result a finished call reports. */
function callResult(item: Record<string, unknown>): { isError: boolean; content: McpResultText[] } {
  const texts: string[] = [];
  const error = typeof item.error === "string" && item.error ? item.error : "";
  let isError = !!error || item.status === "failed";
  const output = typeof item.output === "string" ? item.output : "";
  if (output) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      parsed = undefined;
    }
    if (isRecord(parsed) && Array.isArray(parsed.content)) {
      for (const c of parsed.content) {
        const t = contentText(c);
        if (t) texts.push(t);
      }
      if (parsed.isError === true) isError = true;
    } else texts.push(output);
  }
  if (error) texts.push(error);
  if (isError && texts.length === 0) texts.push(FAILED);
  return { isError, content: texts.map((text) => ({ type: "text", text })) };
}

/** A finished `mcp_call` as its two blocks; `n` names a call that has no id. */
export function mcpBlocks(item: Record<string, unknown>, n: number): [Block, Block] {
  const itemId = typeof item.id === "string" && item.id ? item.id : `mcp_${n}`;
  const id = PREFIX + itemId.replace(/[^A-Za-z0-9_-]/g, "_");
  const label = typeof item.server_label === "string" ? item.server_label : "";
  let name = typeof item.name === "string" ? item.name : "";
  if (label && name.startsWith(`${label}___`) && name.length > label.length + 3) name = name.slice(label.length + 3);
  const args = parseToolArguments(typeof item.arguments === "string" ? item.arguments : "");
  const { isError, content } = callResult(item);
  return [
    { type: "mcp_tool_use", id, name, server_name: label, input: args.ok ? args.input : {} },
    { type: "mcp_tool_result", tool_use_id: id, is_error: isError, content },
  ];
}

/** xAI's item id behind one of our `mcptoolu_xai_` ids; undefined for anyone else's (real Anthropic's `mcptoolu_01…`). */
export function mcpItemOf(id: string): string | undefined {
  if (!id.startsWith(PREFIX)) return undefined;
  const item = id.slice(PREFIX.length);
  return ITEM_ID.test(item) ? item : undefined;
}

/** Our MCP call sent back, as xAI's item (its result added by `withMcpResult`); undefined for anyone else's. */
export function mcpCallItem(use: Pick<McpToolUseBlock, "id" | "name" | "server_name" | "input">): McpCallItem | undefined {
  const item = mcpItemOf(use.id);
  if (!item) return undefined;
  return { type: "mcp_call", id: item, name: use.name, server_label: use.server_name, arguments: stringifyInput(use.input), output: "", status: "completed" };
}

/** The text of an MCP result block (a string or text blocks). */
export function mcpResultText(result: Pick<McpToolResultBlock, "content">): string[] {
  const c = result.content;
  if (c === undefined) return [];
  if (typeof c === "string") return c ? [c] : [];
  return c.map((b) => b.text).filter((t) => t);
}

/** The result the client sent back, into the item: the MCP result as xAI wrote it, or the failure in `error`. */
export function withMcpResult(item: McpCallItem, result: Pick<McpToolResultBlock, "content" | "is_error">): void {
  const texts = mcpResultText(result);
  if (result.is_error) {
    item.error = texts.join("\n") || FAILED;
    return;
  }
  item.output = JSON.stringify({ content: texts.map((text) => ({ type: "text", text })), isError: false });
}
