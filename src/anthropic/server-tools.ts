/**
 * Anthropic's server tools that xAI runs itself, on the Responses API: web search (web_search_*,
 * xAI's `web_search`), code execution (code_execution_*, xAI's `code_interpreter`) and the MCP
 * connector (mcp_toolset + mcp_servers, xAI's remote `mcp` tools: see mcp.ts). The other server
 * tools are refused (see tools.ts, REFUSED_TOOL_TYPES).
 */
import { invalidRequest } from "../http/errors";
import type { MessagesRequest, Tool } from "./schema";

export const isWebSearchTool = (t: Tool) => typeof t.type === "string" && /^web_search_\d+$/.test(t.type);

/** Every version of Anthropic's code execution tool; all are served as Python (see dialects/responses/code-interpreter.ts). */
export const CODE_EXECUTION_TYPES = ["code_execution_20250522", "code_execution_20250825", "code_execution_20260120", "code_execution_20260521"];

/** A code_execution_* tool, of a known version or not (tools.ts refuses an unknown one). */
export const isCodeExecutionType = (type: unknown): type is string => typeof type === "string" && /^code_execution_\d+$/.test(type);

export const isCodeExecutionTool = (t: Tool) => typeof t.type === "string" && CODE_EXECUTION_TYPES.includes(t.type);

export const isMcpToolset = (t: Tool) => t.type === "mcp_toolset";

/**
 * The sub-tools of code_execution_20250825 and later (Bash commands, file edits in the container):
 * xAI's code interpreter runs Python only, so none of them can run or be given back.
 */
export const NON_PYTHON_SUB_TOOLS = ["bash_code_execution", "text_editor_code_execution"];

export const PYTHON_ONLY =
  "xAI's code interpreter runs Python only (no Bash, no file editing in a container): grok2api serves every code_execution version as Python `code_execution` calls";

/**
 * What the request asks of code execution that xAI cannot do, as the 400's message: a container
 * to reuse (xAI keeps none between requests), a Bash or text-editor sub-tool forced by tool_choice.
 */
export function codeExecutionProblem(req: Pick<MessagesRequest, "container" | "tool_choice">): string | undefined {
  if (req.container !== undefined && req.container !== null) {
    return "container: xAI's code interpreter keeps no container between requests (no files or state to reuse, and no container id is ever returned); leave container out";
  }
  const choice = req.tool_choice;
  if (choice?.type === "tool" && NON_PYTHON_SUB_TOOLS.includes(choice.name)) {
    return `tool_choice.name: "${choice.name}" cannot be forced: ${PYTHON_ONLY}`;
  }
  return undefined;
}

/** What a `web_search_*` tool asks for. */
export interface WebSearchSpec {
  allowedDomains?: string[];
  blockedDomains?: string[];
  maxUses?: number;
  /** `user_location` was given (xAI's web_search has no such setting). */
  userLocation: boolean;
}

/** xAI's limit for each domain list. */
const MAX_DOMAINS = 5;

function domains(v: unknown, where: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((d): d is string => typeof d === "string" && d.length > 0)) throw invalidRequest(`${where}: expected a list of domain names`);
  if (v.length > MAX_DOMAINS) throw invalidRequest(`${where}: the upstream's web search accepts at most ${MAX_DOMAINS} domains (got ${v.length})`);
  return v.length ? v : undefined;
}

/** The request's web search tool, checked; undefined when it has none. Throws a 400 on a malformed one. */
export function webSearchSpec(tools: readonly Tool[] | undefined): WebSearchSpec | undefined {
  const list = tools ?? [];
  const i = list.findIndex(isWebSearchTool);
  const t: (Tool & Record<string, unknown>) | undefined = list[i]; // its other fields, each checked before use
  if (t === undefined) return undefined;
  const where = `tools[${i}]`;
  const allowedDomains = domains(t.allowed_domains, `${where}.allowed_domains`);
  const blockedDomains = domains(t.blocked_domains, `${where}.blocked_domains`);
  if (allowedDomains && blockedDomains) throw invalidRequest(`${where}: allowed_domains and blocked_domains cannot be used together`);
  const max = t.max_uses;
  if (max !== undefined && max !== null && !(typeof max === "number" && Number.isInteger(max) && max >= 1)) {
    throw invalidRequest(`${where}.max_uses: expected an integer of at least 1`);
  }
  return {
    ...(allowedDomains ? { allowedDomains } : {}),
    ...(blockedDomains ? { blockedDomains } : {}),
    ...(typeof max === "number" ? { maxUses: max } : {}),
    userLocation: t.user_location !== undefined && t.user_location !== null,
  };
}

const NEEDS_RESPONSES =
  `needs the upstream's Responses API, and this gateway talks chat completions to its upstream ` +
  `(set [upstream] api = "responses" or "auto" with an xAI base URL)`;

/**
 * Server tools this upstream cannot serve, as a 400 naming what is needed: web search, code
 * execution and the MCP connector (`mcp_servers`, `mcp_toolset`) on a chat-completions upstream,
 * which has no server-side tools. Never dropped. (Tool types no upstream serves are refused by tools.ts.)
 */
export function refuseServerTools(tools: readonly Tool[] | undefined, api: "chat" | "responses", mcpServers?: readonly unknown[]): void {
  if (api !== "chat") return;
  for (const [i, t] of (tools ?? []).entries()) {
    if (isWebSearchTool(t)) throw invalidRequest(`tools[${i}]: "${t.type}" ${NEEDS_RESPONSES}`);
    if (isCodeExecutionTool(t)) throw invalidRequest(`tools[${i}]: "${t.type}" (code execution: xAI's code_interpreter) ${NEEDS_RESPONSES}`);
    if (isMcpToolset(t)) throw invalidRequest(`tools[${i}]: "mcp_toolset" (the MCP connector: xAI's remote MCP tools) ${NEEDS_RESPONSES}`);
  }
  if (mcpServers && mcpServers.length > 0) throw invalidRequest(`mcp_servers: the MCP connector (xAI's remote MCP tools) ${NEEDS_RESPONSES}`);
}
