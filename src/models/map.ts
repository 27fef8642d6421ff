/**
 * The model map (`[model_map]`): the name a client asks for → the upstream model id.
 * Only the user's entries: there is no built-in map, so the user's word (exact name or glob) always
 * beats the built-in routing by role (src/models/routing.ts). Exact names win over globs; globs
 * (`*` matches anything) are tried in file order; a name that matches nothing is routed by role
 * (Claude-style names) or goes upstream unchanged.
 */
import { globMatcher, isGlob, type GlobMatcher } from "./glob";

/**
 * The original API guide's table. Its grok-2 targets are retired at xAI (2026), so it is no longer the
 * default; README shows how to pin it in `[model_map]` for an upstream that still serves them.
 */
export const GUIDE_MODEL_MAP: Readonly<Record<string, string>> = {
  "claude-3-5-sonnet-20241022": "grok-2-latest",
  "claude-3-5-sonnet-latest": "grok-2-latest",
  "claude-3-opus-20240229": "grok-2-latest",
  "claude-3-opus-latest": "grok-2-latest",
  "claude-3-sonnet-20240229": "grok-2-1212",
  "claude-3-haiku-20240307": "grok-2-1212",
  "claude-2.1": "grok-2",
  "claude-2.0": "grok-2",
};

export interface ModelMap {
  /** Upstream model for a client-facing name (the name itself when nothing matches). */
  resolve(name: string): string;
  /** The mapped model, or undefined when no entry matches. */
  lookup(name: string): string | undefined;
  /** Every client-facing name that is not a glob, in map order. */
  names(): string[];
}

/**
 * `overrides` (from the config file), then `defaults` (none unless given: tests, a library user):
 * every entry of `overrides`, exact or glob, is tried before any entry of `defaults`.
 */
export function createModelMap(
  overrides: Readonly<Record<string, string>> = {},
  defaults: Readonly<Record<string, string>> = {},
): ModelMap {
  const tables = [overrides, defaults].map((table) => {
    const exact = new Map<string, string>();
    const globs: Array<[GlobMatcher, string]> = [];
    for (const [pattern, target] of Object.entries(table)) {
      if (isGlob(pattern)) globs.push([globMatcher(pattern), target]);
      else exact.set(pattern, target);
    }
    return { exact, globs };
  });
  const lookup = (name: string): string | undefined => {
    for (const { exact, globs } of tables) {
      const hit = exact.get(name);
      if (hit !== undefined) return hit;
      for (const [matches, target] of globs) if (matches(name)) return target;
    }
    return undefined;
  };
  return {
    resolve: (name) => lookup(name) ?? name,
    lookup,
    names: () => [...new Set(tables.flatMap((t) => [...t.exact.keys()]))],
  };
}
