/**
 * Routing: which upstream model serves a request. Checked in order:
 * 1. an explicit entry in the model map for the requested name;
 * 2. names that are not Claude-style (e.g. `grok-4`) go upstream unchanged;
 * 3. long context (estimated input tokens above a threshold) → the long-context model;
 * 4. haiku-class requests (Claude Code's background and title calls) → the fast model;
 * 5. thinking requested → the reasoning model;
 * 6. otherwise the default model.
 * Then, whatever rule chose it (model map and passthrough included): if the request carries images
 * (or a computer-use tool, whose results are screenshots) and that model has no image input, the vision model (`[routing] vision`), or a 400 naming the
 * setting when there is none that sees.
 * The catalog advises, the upstream decides: a name the catalog does not list still goes upstream
 * (xAI answers `grok-4` with `grok-4.3`; other servers list less than they serve), and only the
 * upstream's own 404 is explained (src/models/errors.ts explainModelError).
 * Pure: the caller supplies what it knows about the request; image input comes from the capability
 * table (which consults the catalog).
 */
import type { CapabilityTable } from "./capabilities";
import { noImageInputError } from "./errors";
import type { ModelMap } from "./map";

export interface RoutingConfig {
  default: string;
  fast: string;
  reasoning: string;
  /** Where a request with images goes when its model has no image input; "" = refuse it (400). */
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
  /** A computer-use tool: its results are screenshots, so it needs a model that sees. */
  computerUse?: boolean;
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

export function createRouter(
  map: ModelMap,
  caps: CapabilityTable,
  routing: RoutingConfig = DEFAULT_ROUTING,
) {
  /** The choice by name and role alone: never throws. */
  const choose = (facts: RouteFacts): Route => {
    const name = baseModelName(facts.model);
    const mapped = map.lookup(name) ?? (name !== facts.model ? map.lookup(facts.model) : undefined);
    if (mapped !== undefined) return { model: mapped, rule: "model_map" };
    if (!isClaudeStyle(name)) return { model: name, rule: "passthrough" };
    if (facts.inputTokens > routing.long_context_threshold) return { model: routing.long_context, rule: "long_context" };
    if (isFastClass(name)) return { model: routing.fast, rule: "fast" };
    if (facts.thinking) return { model: routing.reasoning, rule: "reasoning" };
    return { model: routing.default, rule: "default" };
  };
  const route = (facts: RouteFacts): Route => {
    let chosen = choose(facts);
    if ((facts.images || facts.computerUse) && !caps.get(chosen.model).vision) {
      if (!routing.vision || !caps.get(routing.vision).vision) {
        throw noImageInputError(facts.model, chosen.model, chosen.rule, routing.vision, facts.images ? "images" : "a computer-use tool (its results are screenshots)");
      }
      chosen = { model: routing.vision, rule: "vision" };
    }
    return chosen;
  };
  /** The model a bare name resolves to, for listings (no prompt to judge by; never throws). */
  route.resolve = (model: string) => choose({ model, inputTokens: 0, thinking: false, images: false }).model;
  return route;
}

export type Router = ReturnType<typeof createRouter>;

/** The model a bare name resolves to, for requests without a prompt to judge (model lists). */
export const resolveName = (route: Router, model: string) => route.resolve(model);
