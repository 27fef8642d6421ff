/**
 * What each upstream model accepts. One table, consulted by every translation,
 * so a model that rejects a parameter never receives it.
 * Patterns use `*` globs; the first match wins; unknown models get DEFAULT_CAPS.
 */
import { globToRegExp } from "./glob";

export interface ModelCaps {
  /** Accepted `reasoning_effort` values, or null when the parameter is rejected. */
  reasoningEffort: readonly string[] | null;
  /** Accepts `stop`. */
  stop: boolean;
  /** Accepts `presence_penalty` / `frequency_penalty`. */
  penalties: boolean;
  /** Accepts image inputs. */
  vision: boolean;
  /** Context window, tokens. */
  contextWindow: number;
  /** Largest `max_completion_tokens` accepted. */
  maxOutput: number;
}

export const DEFAULT_CAPS: ModelCaps = {
  reasoningEffort: null,
  stop: true,
  penalties: true,
  vision: true,
  contextWindow: 131_072,
  maxOutput: 131_072,
};

const REASONING: Partial<ModelCaps> = { stop: false, penalties: false };

/** Built-in knowledge of xAI's lineup (late 2026). Override per model in the config file. */
export const BUILTIN_CAPS: ReadonlyArray<[string, Partial<ModelCaps>]> = [
  ["grok-4.3*", { ...REASONING, reasoningEffort: ["none", "low", "medium", "high"], contextWindow: 1_000_000 }],
  ["grok-4.20-*non-reasoning*", { contextWindow: 2_000_000 }],
  ["grok-4.20-*", { ...REASONING, contextWindow: 2_000_000 }],
  ["grok-4-1-fast-non-reasoning*", { contextWindow: 2_000_000 }],
  ["grok-4-fast-non-reasoning*", { contextWindow: 2_000_000 }],
  ["grok-4-1-fast*", { ...REASONING, contextWindow: 2_000_000 }],
  ["grok-4-fast*", { ...REASONING, contextWindow: 2_000_000 }],
  ["grok-code-fast*", { ...REASONING, vision: false, contextWindow: 256_000 }],
  ["grok-4*", { ...REASONING, contextWindow: 256_000 }],
  ["grok-latest", { ...REASONING, reasoningEffort: ["none", "low", "medium", "high"], contextWindow: 1_000_000 }],
  ["grok-3-mini*", { ...REASONING, reasoningEffort: ["low", "high"], vision: false }],
  ["grok-3*", { vision: false }],
  ["grok-2-vision*", { vision: true, contextWindow: 32_768 }],
  ["grok-2*", { vision: false }],
];

export interface CapabilityTable {
  get(model: string): ModelCaps;
}

/** `overrides` (from the config file) are consulted before the built-in table. */
export function createCapabilityTable(
  overrides: ReadonlyArray<[string, Partial<ModelCaps>]> = [],
): CapabilityTable {
  const rules = [...overrides, ...BUILTIN_CAPS].map(([p, caps]) => [globToRegExp(p.toLowerCase()), caps] as const);
  const cache = new Map<string, ModelCaps>();
  return {
    get(model) {
      let caps = cache.get(model);
      if (!caps) {
        const hit = rules.find(([re]) => re.test(model.toLowerCase()));
        caps = { ...DEFAULT_CAPS, ...(hit?.[1] ?? {}) };
        if (cache.size < 1000) cache.set(model, caps);
      }
      return caps;
    },
  };
}
