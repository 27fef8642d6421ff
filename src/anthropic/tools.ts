/**
 * What each entry of a request's `tools` is, and what reaches the upstream for it. Nothing is
 * dropped: a tool is either sent (a custom tool as it is, an Anthropic-defined client tool as
 * the function Claude knows, web search, code execution and MCP toolsets as the upstream's own
 * server-side tools) or refused with a 400 that names it, where it is, and what is supported. Pure.
 */
import { invalidRequest } from "../http/errors";
import { CLIENT_TOOLS, clientToolDef, clientToolFamily, type ClientToolKind, type FunctionDef } from "./client-tools";
import { CODE_EXECUTION_TYPES, isCodeExecutionType, isMcpToolset, isWebSearchTool } from "./server-tools";
import type { Tool } from "./schema";

/**
 * Anthropic tool types the gateway refuses, and why. One table: a type that gains a translation
 * leaves it. Any type in neither this table nor the supported ones is refused too.
 */
export const REFUSED_TOOL_TYPES: ReadonlyArray<{ type: RegExp; why: string }> = [
  { type: /^web_fetch_\d+$/, why: "the upstream has no web fetch tool" },
  { type: /^tool_search_tool_(regex|bm25)(_\d+)?$/, why: "tool search is not emulated: send the tools themselves" },
  { type: /^advisor_\d+$/, why: "the upstream has no advisor model" },
  { type: /^(computer|browser)_toolset_\d+$/, why: "the schemas of its member tools are not published" },
];

/** What the gateway does support, for the 400s. */
export const SUPPORTED_TOOLS =
  `custom tools (no type, or "custom", with an input_schema); Anthropic's client tools ${Object.keys(CLIENT_TOOLS).join(", ")}; ` +
  `and, on the Responses upstream, the server tools web_search (web_search_20250305 and later), ` +
  `code_execution (${CODE_EXECUTION_TYPES.join(", ")}) and mcp_toolset (with mcp_servers)`;

export type ToolPlan =
  | { kind: "function"; def: FunctionDef; client?: ClientToolKind }
  | { kind: "web_search" }
  | { kind: "code_execution" }
  /** Checked with the request's `mcp_servers` (mcp.ts). */
  | { kind: "mcp_toolset" };

/** The plan for `tools[i]`, or the 400's message. */
export function planTool(t: Tool, i: number): ToolPlan | { problem: string } {
  const where = `tools[${i}]`;
  if (isMcpToolset(t)) return { kind: "mcp_toolset" }; // the one type without a name: it names its server
  if (t.name === undefined) return { problem: `${where}.name: Field required` };
  if (t.type === undefined || t.type === null || t.type === "custom") {
    const def: FunctionDef = { name: t.name, parameters: t.input_schema ?? { type: "object", properties: {} } };
    if (t.description) def.description = t.description;
    return { kind: "function", def };
  }
  if (isWebSearchTool(t)) return { kind: "web_search" };
  if (isCodeExecutionType(t.type)) {
    if (!CODE_EXECUTION_TYPES.includes(t.type)) {
      return { problem: `${where}.type: unknown code execution version ${JSON.stringify(t.type)}; supported: ${CODE_EXECUTION_TYPES.join(", ")}` };
    }
    if (t.name !== "code_execution") return { problem: `${where}.name: a ${t.type} tool must be named "code_execution" (got ${JSON.stringify(t.name)})` };
    return { kind: "code_execution" };
  }
  if (clientToolFamily(t.type)) {
    const r = clientToolDef(t, where);
    return "problem" in r ? r : { kind: "function", def: r.def, client: r.kind };
  }
  const type = t.type;
  const refused = REFUSED_TOOL_TYPES.find((r) => r.type.test(type));
  const why = refused ? `: ${refused.why}` : "";
  return { problem: `${where}: tool type ${JSON.stringify(t.type)} is not supported${why}; supported: ${SUPPORTED_TOOLS}` };
}

/** The first problem with the request's tools, for validation; undefined when every one can be served. */
export function toolsProblem(tools: readonly Tool[] | undefined): string | undefined {
  for (const [i, t] of (tools ?? []).entries()) {
    const plan = planTool(t, i);
    if ("problem" in plan) return plan.problem;
  }
  return undefined;
}

/**
 * The function tools for the upstream, sorted by name: a byte-stable prefix for the prompt
 * cache whatever order the client lists them in. Web search is left to the dialect; a tool
 * that cannot be served is a 400 (validation refuses it first).
 */
export function functionDefs(tools: readonly Tool[] | undefined): FunctionDef[] {
  const out: FunctionDef[] = [];
  for (const [i, t] of (tools ?? []).entries()) {
    const plan = planTool(t, i);
    if ("problem" in plan) throw invalidRequest(plan.problem);
    if (plan.kind === "function") out.push(plan.def);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
