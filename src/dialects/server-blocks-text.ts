/**
 * Code execution and MCP blocks of an assistant turn as plain text the model can read. Pure.
 * Used where xAI cannot get its own items back: blocks made by someone else (real Anthropic's,
 * whose ids and encrypted values mean nothing to xAI) and any of them on the chat-completions
 * dialect (which has no server-side tools). Nothing they say is lost, nothing is forwarded as
 * what it is not.
 */
import type { CodeExecutionToolResultBlock, McpToolResultBlock, McpToolUseBlock } from "../anthropic/schema";
import { isRecord } from "./malformed";
import { stringifyInput } from "./prompt";

/** A `server_tool_use` of code execution: the code it ran. */
export function codeUseText(input: unknown): string {
  const code = isRecord(input) && typeof input.code === "string" ? input.code : stringifyInput(input);
  return `[Code execution]\n\`\`\`python\n${code}\n\`\`\``;
}

/** A `code_execution_tool_result`: what it printed and how it ended (encrypted output is Anthropic's: not readable here). */
export function codeResultText(b: Pick<CodeExecutionToolResultBlock, "content">): string {
  const c = b.content;
  if (!isRecord(c)) return "[Code execution result]\n(no result)";
  if (c.type === "code_execution_tool_result_error") return `[Code execution result]\n(the code execution failed: ${String(c.error_code ?? "error")})`;
  const lines: string[] = [];
  if (c.type === "encrypted_code_execution_result") lines.push("(its output is encrypted and cannot be shown)");
  if (typeof c.stdout === "string" && c.stdout) lines.push(`stdout:\n${c.stdout}`);
  if (typeof c.stderr === "string" && c.stderr) lines.push(`stderr:\n${c.stderr}`);
  if (typeof c.return_code === "number") lines.push(`return code: ${c.return_code}`);
  return `[Code execution result]\n${lines.length ? lines.join("\n") : "(no output)"}`;
}

/** An `mcp_tool_use`: which tool of which server, with what input. */
export function mcpUseText(b: Pick<McpToolUseBlock, "name" | "server_name" | "input">): string {
  return `[MCP tool call: ${b.server_name} ${b.name} ${stringifyInput(b.input)}]`;
}

/** An `mcp_tool_result`: its text. */
export function mcpResultBlockText(b: Pick<McpToolResultBlock, "content" | "is_error">): string {
  const c = b.content;
  const text = c === undefined ? "" : typeof c === "string" ? c : c.map((t) => t.text).join("\n");
  return `[MCP tool result${b.is_error ? " (error)" : ""}]\n${text || "(empty)"}`;
}
