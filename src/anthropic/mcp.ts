/**
 * Anthropic's MCP connector, checked and planned as xAI's remote MCP tools. Pure.
 *
 * Anthropic: `mcp_servers: [{type:"url", url, name, authorization_token?}]` and one
 * `{type:"mcp_toolset", mcp_server_name, default_config?, configs?, tools?}` per server in `tools`
 * (beta mcp-client-2025-11-20); the older beta (mcp-client-2025-04-04) has no toolsets and puts
 * `tool_configuration: {enabled, allowed_tools}` on the server. xAI: one
 * `{type:"mcp", server_url, server_label, allowed_tools?, authorization?}` tool per server.
 *
 * xAI connects to the servers, never the gateway: a URL is checked for its shape only (https, a
 * host, no credentials, no fragment), never resolved or fetched. No message here quotes a URL or
 * a token (a URL may hold credentials, which is exactly what is refused).
 *
 * Which tools. Anthropic's rule is `configs` > `default_config` > enabled; xAI takes only an
 * allowlist (none = every tool the server lists). So:
 * - every tool enabled → no allowlist;
 * - an allowlist (default off, some on) → those names;
 * - a denylist (default on, some off) → the server's tools minus those, when the toolset pins
 *   the server's listing (`tools`, copied from an earlier `mcp_tool_listing`); without it the
 *   gateway cannot know the other names (it never talks to the server): a 400 that says how to
 *   write the same thing as an allowlist;
 * - a pinned listing → exactly its tools that are enabled;
 * - no tool enabled → the server is left out (an empty allowlist would mean "all" to xAI).
 * `defer_loading` has no per-tool counterpart upstream: ignored, with a warning; `cache_control`
 * means nothing there.
 */
import { ApiError, invalidRequest } from "../http/errors";
import type { McpServer, MessagesRequest, Tool } from "./schema";
import { isMcpToolset } from "./server-tools";

/** One server as xAI's remote MCP tool gets it. */
export interface McpServerPlan {
  label: string;
  url: string;
  authorization?: string;
  /** Only these tools (undefined: all the server lists). */
  allowedTools?: string[];
}

export interface McpPlan {
  servers: McpServerPlan[];
  warnings: string[];
}

type McpRequest = Pick<MessagesRequest, "mcp_servers" | "tools">;

/** Why an MCP server URL cannot be given to xAI; undefined when its shape is right. Never resolves it. */
export function mcpUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a valid URL";
  }
  if (url.protocol !== "https:") return "must start with https:// (xAI reaches the server over the internet)";
  if (!url.hostname) return "needs a host";
  if (url.username || url.password) return "must not carry credentials (user:password@host): send the token as authorization_token";
  if (raw.includes("#")) return "must not have a fragment (#…)";
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function optionalBoolean(v: unknown, where: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw invalidRequest(`${where}: expected a boolean`);
  return v;
}

/** A toolset's `default_config` or one of its `configs` entries. */
function toolConfig(v: unknown, where: string): { enabled?: boolean; deferLoading?: boolean } {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw invalidRequest(`${where}: expected an object`);
  const enabled = optionalBoolean(v.enabled, `${where}.enabled`);
  const deferLoading = optionalBoolean(v.defer_loading, `${where}.defer_loading`);
  return { ...(enabled !== undefined ? { enabled } : {}), ...(deferLoading !== undefined ? { deferLoading } : {}) };
}

/** The tools of a server a toolset enables: undefined for all of them, [] for none. */
function toolsetTools(t: Record<string, unknown>, where: string, server: string, warnings: string[]): string[] | undefined {
  const defaults = toolConfig(t.default_config, `${where}.default_config`);
  const configs = new Map<string, { enabled?: boolean; deferLoading?: boolean }>();
  if (t.configs !== undefined && t.configs !== null) {
    if (!isObject(t.configs)) throw invalidRequest(`${where}.configs: expected an object of tool name → {enabled, defer_loading}`);
    for (const [name, c] of Object.entries(t.configs)) configs.set(name, toolConfig(c, `${where}.configs.${name}`));
  }
  let listing: string[] | undefined;
  if (t.tools !== undefined && t.tools !== null) {
    if (!Array.isArray(t.tools)) throw invalidRequest(`${where}.tools: expected the server's tool listing (a list of {name, input_schema})`);
    listing = t.tools.map((entry, k) => {
      const name = isObject(entry) ? entry.name : undefined;
      if (typeof name !== "string" || !name) throw invalidRequest(`${where}.tools[${k}].name: expected a tool name`);
      return name;
    });
  }
  if (defaults.deferLoading || [...configs.values()].some((c) => c.deferLoading)) {
    warnings.push(`mcp_toolset for "${server}": defer_loading ignored (xAI's remote MCP tool has no per-tool deferral)`);
  }
  const defaultOn = defaults.enabled ?? true;
  const enabled = (name: string) => configs.get(name)?.enabled ?? defaultOn;
  if (listing) {
    for (const name of configs.keys()) {
      if (!listing.includes(name)) warnings.push(`mcp_toolset for "${server}": configs names "${name}", which is not in its tool listing`);
    }
    return listing.filter(enabled);
  }
  const disabled = [...configs].filter(([, c]) => c.enabled === false).map(([name]) => name);
  if (!defaultOn) return [...configs].filter(([, c]) => c.enabled === true).map(([name]) => name);
  if (disabled.length === 0) return undefined;
  throw invalidRequest(
    `${where}.configs: a denylist (${disabled.map((n) => JSON.stringify(n)).join(", ")} disabled, the rest enabled) needs the server's tool list, ` +
      `and the gateway never talks to the MCP server (xAI does, and takes only a list of allowed tools): either set ` +
      `default_config.enabled to false and enable the tools you want in configs, or pin the server's listing in ${where}.tools`,
  );
}

/** The older beta's `tool_configuration`: undefined for all tools, [] for none. */
function legacyTools(s: McpServer): string[] | undefined {
  const c = s.tool_configuration;
  if (!c) return undefined;
  if (c.enabled === false) return [];
  return c.allowed_tools ?? undefined;
}

/**
 * The request's MCP servers as xAI's remote MCP tools, checked: names unique, URLs of the right
 * shape, each toolset naming a server and each server having exactly one toolset (when toolsets
 * are used). Throws a 400 naming the field. Empty when the request uses no MCP.
 */
export function mcpPlan(req: McpRequest): McpPlan {
  const servers = req.mcp_servers ?? [];
  const warnings: string[] = [];
  const byName = new Map<string, number>();
  servers.forEach((s, k) => {
    const seen = byName.get(s.name);
    if (seen !== undefined) throw invalidRequest(`mcp_servers[${k}].name: ${JSON.stringify(s.name)} is already the name of mcp_servers[${seen}]; server names must be unique`);
    byName.set(s.name, k);
    const problem = mcpUrlProblem(s.url);
    if (problem) throw invalidRequest(`mcp_servers[${k}].url: the MCP server URL ${problem}`);
  });

  const toolsets = new Map<number, string[] | undefined>(); // server index → its tools
  const toolsetAt = new Map<number, number>(); // server index → tools index
  for (const [i, tool] of (req.tools ?? []).entries()) {
    if (!isMcpToolset(tool)) continue;
    const t: Tool & Record<string, unknown> = tool; // its other fields, each checked before use
    const where = `tools[${i}]`;
    const name = t.mcp_server_name;
    if (name === undefined) throw invalidRequest(`${where}.mcp_server_name: Field required`);
    if (typeof name !== "string" || !name) throw invalidRequest(`${where}.mcp_server_name: expected the name of a server in mcp_servers`);
    const k = byName.get(name);
    if (k === undefined) {
      const known = servers.length ? `; mcp_servers names ${servers.map((s) => JSON.stringify(s.name)).join(", ")}` : "; the request has no mcp_servers";
      throw invalidRequest(`${where}.mcp_server_name: no MCP server named ${JSON.stringify(name)}${known}`);
    }
    const earlier = toolsetAt.get(k);
    if (earlier !== undefined) throw invalidRequest(`${where}.mcp_server_name: server ${JSON.stringify(name)} already has a toolset (tools[${earlier}]); each server takes exactly one`);
    toolsetAt.set(k, i);
    toolsets.set(k, toolsetTools(t, where, name, warnings));
  }

  const plans: McpServerPlan[] = [];
  servers.forEach((s, k) => {
    let tools: string[] | undefined;
    if (toolsets.size > 0) {
      if (!toolsetAt.has(k)) throw invalidRequest(`mcp_servers[${k}]: server ${JSON.stringify(s.name)} has no mcp_toolset in tools; with toolsets, each server is referenced by exactly one`);
      if (s.tool_configuration) {
        throw invalidRequest(`mcp_servers[${k}].tool_configuration: belongs to the older beta (mcp-client-2025-04-04); with mcp_toolset, use its default_config and configs`);
      }
      tools = toolsets.get(k);
    } else tools = legacyTools(s);
    if (tools && tools.length === 0) {
      warnings.push(`MCP server ${JSON.stringify(s.name)} left out: none of its tools is enabled`);
      return;
    }
    plans.push({
      label: s.name,
      url: s.url,
      ...(s.authorization_token ? { authorization: s.authorization_token } : {}),
      ...(tools ? { allowedTools: [...new Set(tools)] } : {}),
    });
  });
  return { servers: plans, warnings };
}

/** The first problem with the request's MCP connector use, for validation; undefined when it can be served. */
export function mcpProblem(req: McpRequest): string | undefined {
  if (!req.mcp_servers?.length && !(req.tools ?? []).some(isMcpToolset)) return undefined;
  try {
    mcpPlan(req);
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return err.message;
    throw err;
  }
}
