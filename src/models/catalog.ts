/**
 * The models the gateway offers: the advertised routed names and every exact name of the model map (Claude-style
 * names first: Claude Code's model discovery keeps only ids starting with
 * `claude` or `anthropic`), then the upstream's own models. Pure.
 */
import type { UpstreamModel } from "../upstream/models";

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
}

const isClaudeStyle = (name: string) => /^(claude|anthropic)/i.test(name);

export function buildCatalog(map: Naming, upstream: readonly UpstreamModel[]): CatalogEntry[] {
  const known = new Map(upstream.map((m) => [m.id, m]));
  const names = map.names();
  const ordered = [...names.filter(isClaudeStyle), ...names.filter((n) => !isClaudeStyle(n))];
  const out: CatalogEntry[] = [];
  const listed = new Set<string>();
  for (const id of ordered) {
    const target = map.resolve(id);
    out.push({ id, target, created: known.get(target)?.created ?? 0, owned_by: "grok2api" });
    listed.add(id);
  }
  for (const m of upstream) {
    if (listed.has(m.id)) continue;
    out.push({ id: m.id, target: map.resolve(m.id), created: m.created, owned_by: m.owned_by });
    listed.add(m.id);
  }
  return out;
}

/** The entry for `id`: listed, or a name a model-map glob sends elsewhere; undefined otherwise. */
export function findModel(catalog: readonly CatalogEntry[], map: Naming, id: string): CatalogEntry | undefined {
  const listed = catalog.find((e) => e.id === id);
  if (listed) return listed;
  const target = map.resolve(id);
  if (target === id) return undefined;
  return { id, target, created: catalog.find((e) => e.id === target)?.created ?? 0, owned_by: "grok2api" };
}
