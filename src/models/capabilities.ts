/**
 * What each upstream model accepts. One table, consulted by every translation,
 * so a model that rejects a parameter never receives it.
 * Patterns use `*` globs, matched case-insensitively; in each table the first match
 * wins. A config-file override is laid over what the upstream's catalog says (image input),
 * which is laid over the built-in entry for the same model, which is laid over DEFAULT_CAPS.
 * An alias the catalog lists has its model's capabilities (`grok-4` → `grok-4.3`).
 */
import { globMatcher, type GlobMatcher } from "./glob";
import type { Lineup } from "./lineup";

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

/** For model names no rule knows (e.g. another OpenAI-compatible upstream). */
export const DEFAULT_CAPS: ModelCaps = {
  reasoningEffort: null,
  stop: true,
  penalties: true,
  vision: true,
  contextWindow: 131_072,
  maxOutput: 131_072,
};

/** xAI: "presencePenalty, frequencyPenalty and stop cannot be used with reasoning models". */
const REASONING: Partial<ModelCaps> = { stop: false, penalties: false };

/**
 * Built-in knowledge of xAI's lineup (checked against docs.x.ai, mid 2026). Sources:
 * docs.x.ai "Reasoning" (grok-4.3 takes `reasoning_effort` none|low|medium|high;
 * reasoning models reject stop and penalties), the grok-4.5 model page (low|medium|high,
 * reasoning cannot be turned off), the grok-4.20 model page (no effort dial; the
 * non-reasoning variant takes `stop` but rejects penalties), and the May 15, 2026
 * retirement notice (retired slugs are now served by grok-4.3).
 * Override per model in the config file (`[capabilities."<glob>"]`).
 */
export const BUILTIN_CAPS: ReadonlyArray<[string, Partial<ModelCaps>]> = [
  // grok-4.6 and grok-4.7 (docs.x.ai model pages, 2026-09): low|medium|high|xhigh, reasoning cannot be turned off.
  ["grok-4.7*", { ...REASONING, reasoningEffort: ["low", "medium", "high", "xhigh"], contextWindow: 500_000 }],
  ["grok-4.6*", { ...REASONING, reasoningEffort: ["low", "medium", "high", "xhigh"], contextWindow: 500_000 }],
  ["grok-4.5*", { ...REASONING, reasoningEffort: ["low", "medium", "high"], contextWindow: 500_000 }],
  ["grok-4.3*", { ...REASONING, reasoningEffort: ["none", "low", "medium", "high"], contextWindow: 1_000_000 }],
  // An alias that moves with each release: only the effort values every recent flagship takes.
  ["grok-latest", { ...REASONING, reasoningEffort: ["low", "medium", "high"], contextWindow: 500_000 }],
  // Served by the Responses API only: chat completions answer 400, whose message reaches the client.
  ["grok-4.20-multi-agent*", { ...REASONING, reasoningEffort: ["low", "medium", "high", "xhigh"], contextWindow: 2_000_000 }],
  ["grok-4.20*non-reasoning*", { penalties: false, contextWindow: 1_000_000 }],
  ["grok-4.20*", { ...REASONING, contextWindow: 1_000_000 }],
  ["grok-build*", { ...REASONING, contextWindow: 256_000 }],
  // Retired on 2026-05-15 and now served by grok-4.3: send nothing grok-4.3 rejects, and no
  // effort dial (these slugs rejected it before the redirect, and xAI picks the effort for them).
  ["grok-4-1-fast*", { ...REASONING, contextWindow: 1_000_000 }],
  ["grok-4-fast*", { ...REASONING, contextWindow: 1_000_000 }],
  ["grok-code-fast*", { ...REASONING, contextWindow: 1_000_000 }],
  ["grok-4*", { ...REASONING, contextWindow: 256_000 }],
  ["grok-3-mini*", { ...REASONING, reasoningEffort: ["low", "high"], vision: false }],
  ["grok-3*", { ...REASONING, contextWindow: 1_000_000 }], // retired too: served by grok-4.3
  ["grok-2-vision*", { vision: true, contextWindow: 32_768 }],
  ["grok-2*", { vision: false }],
  // A Grok model this table does not know yet: assume a reasoning model, the safe side.
  ["grok-*", { ...REASONING }],
];

export interface CapabilityTable {
  get(model: string): ModelCaps;
}

type Rules = ReadonlyArray<readonly [GlobMatcher, Partial<ModelCaps>]>;

const compile = (table: ReadonlyArray<[string, Partial<ModelCaps>]>): Rules =>
  table.map(([pattern, caps]) => [globMatcher(pattern.toLowerCase()), caps] as const);

const firstMatch = (rules: Rules, name: string) => rules.find(([matches]) => matches(name))?.[1] ?? {};

/**
 * `overrides` (from the config file) are laid over the catalog's word, laid over the built-in entry.
 * `lineup` is read on every call: the catalog changes while the gateway runs.
 */
export function createCapabilityTable(
  overrides: ReadonlyArray<[string, Partial<ModelCaps>]> = [],
  builtin: ReadonlyArray<[string, Partial<ModelCaps>]> = BUILTIN_CAPS,
  lineup: () => Lineup | undefined = () => undefined,
): CapabilityTable {
  const own = compile(overrides);
  const known = compile(builtin);
  const cache = new Map<string, ModelCaps>();
  let cachedFor: Lineup | undefined;
  return {
    get(model) {
      const served = lineup();
      if (served !== cachedFor) {
        cache.clear();
        cachedFor = served;
      }
      let caps = cache.get(model);
      if (!caps) {
        const asked = model.toLowerCase();
        const entry = served?.model(model);
        const name = entry ? entry.id.toLowerCase() : asked;
        const learned: Partial<ModelCaps> = entry?.vision !== undefined ? { vision: entry.vision } : {};
        const mine = own.find(([matches]) => matches(asked))?.[1] ?? firstMatch(own, name);
        caps = { ...DEFAULT_CAPS, ...firstMatch(known, name), ...learned, ...mine };
        if (cache.size < 1000) cache.set(model, caps);
      }
      return caps;
    },
  };
}
