/**
 * The models the gateway offers: the advertised routed names and every exact name of the model map (Claude-style
 * names first: Claude Code's model discovery keeps only ids starting with `claude` or `anthropic`), then the
 * upstream's own models and their aliases. When the upstream's catalog is known, a name whose target it does not
 * serve is not offered. Pure.
 */
import type { Lineup } from "./lineup";

/** The client-facing names to list, and where each name goes (a ModelMap is one). */
export interface Naming {
  names(): string[];
  resolve(name: string): string;
}

export interface CatalogEntry {
  /** The name a client uses. */
  id: string;
  /** The upstream model it is served by. */
  target: string;
  /** Unix seconds; 0 when unknown. */
  created: number;
  owned_by: string;
  /** Set when `id` is one of the upstream's aliases for the model `alias_of`. */
  alias_of?: string;
}

const isClaudeStyle = (name: string) => /^(claude|anthropic)/i.test(name);

export function buildCatalog(map: Naming, lineup: Lineup | undefined): CatalogEntry[] {
  const known = lineup && lineup.models.length > 0 ? lineup : undefined;
  const names = map.names();
  const ordered = [...names.filter(isClaudeStyle), ...names.filter((n) => !isClaudeStyle(n))];
  const out: CatalogEntry[] = [];
  const listed = new Set<string>();
  for (const id of ordered) {
    const target = map.resolve(id);
    if (known && !known.serves(target)) continue;
    out.push({ id, target, created: known?.model(target)?.created ?? 0, owned_by: "grok2api" });
    listed.add(id);
  }
  for (const m of known?.models ?? []) {
    for (const id of [m.id, ...m.aliases]) {
      if (listed.has(id)) continue;
      out.push({ id, target: map.resolve(id), created: m.created, owned_by: m.owned_by, ...(id !== m.id ? { alias_of: m.id } : {}) });
      listed.add(id);
    }
  }
  return out;
}

/** The entry for `id`: listed, or a name the model map or routing sends to a served model; undefined otherwise. */
export function findModel(catalog: readonly CatalogEntry[], map: Naming, id: string, lineup?: Lineup): CatalogEntry | undefined {
  const listed = catalog.find((e) => e.id === id);
  if (listed) return listed;
  const target = map.resolve(id);
  if (target === id) return undefined;
  if (lineup && lineup.models.length > 0 && !lineup.serves(target)) return undefined;
  return { id, target, created: catalog.find((e) => e.id === target)?.created ?? 0, owned_by: "grok2api" };
}
