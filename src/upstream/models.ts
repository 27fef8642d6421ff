/**
 * The upstream's own model list (`GET {base}/models`), cached per upstream key
 * for a few minutes. A failure is never an error for the caller: it gets the
 * last list it had (or none), and the upstream is asked again a little later.
 */
import type { Logger } from "../http/log";
import type { UpstreamClient } from "./client";
import { fingerprint } from "./keys";
import { readJsonBounded } from "./read";

export interface UpstreamModel {
  id: string;
  /** Unix seconds; 0 when unknown. */
  created: number;
  owned_by: string;
}

export interface UpstreamModelsOptions {
  ttlMs: number;
  /** How soon to ask again after a failure. */
  retryMs: number;
  /** Claude Code gives model discovery 3 s in all. */
  timeoutMs: number;
}

export const DEFAULT_UPSTREAM_MODELS_OPTIONS: UpstreamModelsOptions = { ttlMs: 5 * 60_000, retryMs: 30_000, timeoutMs: 2000 };

const MAX_MODELS = 1000;
const MAX_KEYS = 100;

/** `{data:[{id, created, owned_by}, …]}` → models; anything unusable is skipped. */
export function parseModelList(body: unknown): UpstreamModel[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error("the upstream's model list has no data array");
  const out: UpstreamModel[] = [];
  const seen = new Set<string>();
  for (const item of data) {
    const m = item as { id?: unknown; created?: unknown; owned_by?: unknown } | null;
    if (!m || typeof m.id !== "string" || !m.id || seen.has(m.id)) continue;
    seen.add(m.id);
    out.push({
      id: m.id,
      created: typeof m.created === "number" && Number.isFinite(m.created) ? m.created : 0,
      owned_by: typeof m.owned_by === "string" && m.owned_by ? m.owned_by : "xai",
    });
    if (out.length >= MAX_MODELS) break;
  }
  return out;
}

interface Entry {
  models: UpstreamModel[];
  freshUntil: number;
}

export class UpstreamModels {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<UpstreamModel[]>>();

  constructor(
    private readonly upstream: UpstreamClient,
    private readonly logger: Logger,
    private readonly opts: UpstreamModelsOptions = DEFAULT_UPSTREAM_MODELS_OPTIONS,
  ) {}

  /**
   * The upstream's models as seen with `key` — the client's own key, or undefined when the
   * gateway's key pool serves (possibly from cache; empty when never reachable).
   */
  list(key: string | undefined): Promise<UpstreamModel[]> {
    const id = key === undefined ? "pool" : fingerprint(key);
    const hit = this.cache.get(id);
    if (hit && Date.now() < hit.freshUntil) return Promise.resolve(hit.models);
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.refresh(id, key, hit?.models ?? []).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  private async refresh(id: string, key: string | undefined, stale: UpstreamModel[]): Promise<UpstreamModel[]> {
    let models = stale;
    let freshFor = this.opts.retryMs;
    try {
      const res = await this.upstream.post({ path: "/models", key, signal: AbortSignal.timeout(this.opts.timeoutMs) }); // no body: GET
      models = parseModelList(await readJsonBounded(res));
      freshFor = this.opts.ttlMs;
    } catch (err) {
      this.logger.warn("could not list the upstream's models; listing mapped names only", {
        key: id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    if (!this.cache.has(id) && this.cache.size >= MAX_KEYS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, { models, freshUntil: Date.now() + freshFor });
    return models;
  }
}
