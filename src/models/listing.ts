/**
 * The model list on the wire: Anthropic's shape with its cursor paging
 * (`limit`, `after_id`, `before_id` → `has_more`, `first_id`, `last_id`), and
 * OpenAI's plain list. Pure.
 */
import { invalidRequest } from "../http/errors";
import type { ModelCaps } from "./capabilities";
import type { CatalogEntry } from "./catalog";

export const PAGE_LIMIT = { default: 20, max: 1000 } as const;

export interface PageQuery {
  limit: number;
  afterId?: string;
  beforeId?: string;
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/** `?limit=&after_id=&before_id=` → PageQuery; a bad value is a 400. */
export function parsePageQuery(q: URLSearchParams): PageQuery {
  const rawLimit = q.get("limit");
  let limit: number = PAGE_LIMIT.default;
  if (rawLimit !== null) {
    limit = /^\d+$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= 1 && limit <= PAGE_LIMIT.max)) {
      throw invalidRequest(`limit: must be an integer from 1 to ${PAGE_LIMIT.max} (got ${JSON.stringify(rawLimit.slice(0, 40))})`);
    }
  }
  const afterId = q.get("after_id") || undefined;
  const beforeId = q.get("before_id") || undefined;
  if (afterId && beforeId) throw invalidRequest("after_id and before_id cannot be used together");
  return { limit, afterId, beforeId };
}

function cursorIndex(items: readonly { id: string }[], id: string, name: string): number {
  const i = items.findIndex((e) => e.id === id);
  if (i === -1) throw invalidRequest(`${name}: no model with id ${JSON.stringify(id.slice(0, 200))} in the list`);
  return i;
}

export function pageOf<T extends { id: string }>(items: readonly T[], q: PageQuery): Page<T> {
  let start: number;
  let end: number;
  let hasMore: boolean;
  if (q.beforeId !== undefined) {
    end = cursorIndex(items, q.beforeId, "before_id");
    start = Math.max(0, end - q.limit);
    hasMore = start > 0;
  } else {
    start = q.afterId !== undefined ? cursorIndex(items, q.afterId, "after_id") + 1 : 0;
    end = Math.min(items.length, start + q.limit);
    hasMore = end < items.length;
  }
  const data = items.slice(start, end);
  return { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
}

const rfc3339 = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

export function anthropicModel(e: CatalogEntry, caps: ModelCaps) {
  return {
    type: "model" as const,
    id: e.id,
    display_name: e.alias_of ? `${e.id} (alias of ${e.alias_of})` : e.target === e.id ? e.id : `${e.id} (${e.target})`,
    created_at: rfc3339(e.created),
    max_input_tokens: caps.contextWindow,
    max_tokens: caps.maxOutput,
    capabilities: null,
    lifecycle: "active" as const,
    deprecated_at: null,
    retires_at: null,
    line: null,
  };
}

export function openaiModel(e: CatalogEntry) {
  return { id: e.id, object: "model" as const, created: e.created, owned_by: e.owned_by, ...(e.alias_of ? { alias_of: e.alias_of } : {}) };
}
