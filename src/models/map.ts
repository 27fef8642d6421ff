/**
 * The model map: the name a client asks for → the upstream model id.
 * Exact names win over globs; globs (`*` matches anything) are tried in order;
 * a name that matches nothing goes upstream unchanged.
 */
import { globToRegExp, isGlob } from "./glob";

/** The seed's table. The grok-2 ids are retired upstream; override them in the config file. */
export const DEFAULT_MODEL_MAP: Readonly<Record<string, string>> = {
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

/** `overrides` (from the config file) take precedence over `defaults`. */
export function createModelMap(
  overrides: Readonly<Record<string, string>> = {},
  defaults: Readonly<Record<string, string>> = DEFAULT_MODEL_MAP,
): ModelMap {
  const exact = new Map<string, string>();
  const globs: Array<[RegExp, string]> = [];
  for (const table of [overrides, defaults]) {
    for (const [pattern, target] of Object.entries(table)) {
      if (isGlob(pattern)) globs.push([globToRegExp(pattern), target]);
      else if (!exact.has(pattern)) exact.set(pattern, target);
    }
  }
  const lookup = (name: string): string | undefined => {
    const hit = exact.get(name);
    if (hit !== undefined) return hit;
    for (const [re, target] of globs) if (re.test(name)) return target;
    return undefined;
  };
  return {
    resolve: (name) => lookup(name) ?? name,
    lookup,
    names: () => [...exact.keys()],
  };
}
