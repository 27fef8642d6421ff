/**
 * Anthropic's web search server tool (web_search_*): xAI's own server-side `web_search`, on the
 * Responses API. The other server tools are refused (see tools.ts, REFUSED_TOOL_TYPES).
 */
import { invalidRequest } from "../http/errors";
import type { Tool } from "./schema";

export const isWebSearchTool = (t: Tool) => typeof t.type === "string" && /^web_search_\d+$/.test(t.type);

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
  if (!Array.isArray(v) || !v.every((d) => typeof d === "string" && d.length > 0)) throw invalidRequest(`${where}: expected a list of domain names`);
  if (v.length > MAX_DOMAINS) throw invalidRequest(`${where}: the upstream's web search accepts at most ${MAX_DOMAINS} domains (got ${v.length})`);
  return v.length ? (v as string[]) : undefined;
}

/** The request's web search tool, checked; undefined when it has none. Throws a 400 on a malformed one. */
export function webSearchSpec(tools: readonly Tool[] | undefined): WebSearchSpec | undefined {
  const i = (tools ?? []).findIndex(isWebSearchTool);
  if (i < 0) return undefined;
  const t = tools![i] as Tool & Record<string, unknown>;
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

/**
 * Server tools this upstream cannot serve, as a 400 naming what is needed: web search on a
 * chat-completions upstream. (Tool types no upstream serves are refused by tools.ts.)
 */
export function refuseServerTools(tools: readonly Tool[] | undefined, api: "chat" | "responses"): void {
  for (const [i, t] of (tools ?? []).entries()) {
    if (api === "chat" && isWebSearchTool(t)) {
      throw invalidRequest(
        `tools[${i}]: "${t.type}" needs the upstream's Responses API, and this gateway talks chat completions to its upstream ` +
          `(set [upstream] api = "responses" or "auto" with an xAI base URL)`,
      );
    }
  }
}
