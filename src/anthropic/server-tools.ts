/** Anthropic server tools (web_search_*, bash_*, text_editor_*, …): a versioned `type` the upstream cannot run. */
import type { Tool } from "./schema";

export function isServerTool(t: Tool): boolean {
  return typeof t.type === "string" && t.type !== "custom";
}
