/**
 * Routing: which upstream model serves a request. Checked in order:
 * 1. an explicit entry in the model map for the requested name;
 * 2. names that are not Claude-style (e.g. `grok-4`) go upstream unchanged;
 * 3. long context (estimated input tokens above a threshold) → the long-context model;
 * 4. haiku-class requests (Claude Code's background and title calls) → the fast model;
 * 5. thinking requested → the reasoning model;
 * 6. otherwise the default model;
 * and if the request carries images and that model cannot see, the vision model.
 * Pure: the caller supplies what it knows about the request.
 */
import type { CapabilityTable } from "./capabilities";
import type { ModelMap } from "./map";

export interface RoutingConfig {
  default: string;
  fast: string;
  reasoning: string;
  vision: string;
  long_context: string;
  /** Estimated input tokens above which the long-context model is used. */
  long_context_threshold: number;
  /** Claude-style names `/v1/models` lists, so Claude Code's model discovery finds them. */
  advertise: string[];
}

/** Built-in choices among xAI's current models (late 2026). All overridable in `[routing]`. */
export const DEFAULT_ROUTING: RoutingConfig = {
  default: "grok-4.3",
  fast: "grok-4.20-0309-non-reasoning",
  reasoning: "grok-4.3",
  vision: "grok-4.3",
  long_context: "grok-4.20-0309-reasoning",
  long_context_threshold: 800_000,
  advertise: ["claude-opus-4-8", "claude-sonnet-4-6", "claude-haiku-4-5"],
};

export interface RouteFacts {
  /** The model name the client asked for. */
  model: string;
  inputTokens: number;
  thinking: boolean;
  images: boolean;
}

export type RouteRule = "model_map" | "passthrough" | "long_context" | "fast" | "reasoning" | "vision" | "default";

export interface Route {
  model: string;
  rule: RouteRule;
}

/** Claude Code sends aliases such as `claude-opus-4-8[1m]`; the suffix is not part of the name. */
export function baseModelName(name: string): string {
  return name.replace(/\[[^\]]*\]$/, "").trim();
}

/** Names we route by role rather than pass upstream: Claude's families and Anthropic's aliases. */
export function isClaudeStyle(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith("claude") || n.startsWith("anthropic") || /^(opus|sonnet|haiku|default|best|opusplan)\b/.test(n);
}

export const isFastClass = (name: string) => name.toLowerCase().includes("haiku");

export function createRouter(map: ModelMap, caps: CapabilityTable, routing: RoutingConfig = DEFAULT_ROUTING) {
  return function route(facts: RouteFacts): Route {
    const name = baseModelName(facts.model);
    const mapped = map.lookup(name) ?? (name !== facts.model ? map.lookup(facts.model) : undefined);
    if (mapped !== undefined) return { model: mapped, rule: "model_map" };
    if (!isClaudeStyle(name)) return { model: name, rule: "passthrough" };

    let chosen: Route;
    if (facts.inputTokens > routing.long_context_threshold) chosen = { model: routing.long_context, rule: "long_context" };
    else if (isFastClass(name)) chosen = { model: routing.fast, rule: "fast" };
    else if (facts.thinking) chosen = { model: routing.reasoning, rule: "reasoning" };
    else chosen = { model: routing.default, rule: "default" };

    if (facts.images && !caps.get(chosen.model).vision) return { model: routing.vision, rule: "vision" };
    return chosen;
  };
}

export type Router = ReturnType<typeof createRouter>;

/** The model a bare name resolves to, for requests without a prompt to judge (model lists). */
export const resolveName = (route: Router, model: string) =>
  route({ model, inputTokens: 0, thinking: false, images: false }).model;
