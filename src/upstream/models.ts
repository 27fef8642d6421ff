/**
 * The upstream's catalog: what it serves, learned from it. xAI's `GET {base}/language-models` gives ids,
 * aliases, input modalities and prices; other OpenAI-compatible servers only have `GET {base}/models`
 * (ids), which is asked when the first fails. Read at start-up and every `refreshMs` in the background
 * (with the gateway's own keys), and on demand per client key (a client's forwarded key may see other
 * models). A failure is never an error for the caller: it keeps the last good catalog (or none, and the
 * built-in tables decide), logs it once, and asks again a little later.
 */
import type { Logger } from "../http/log";
import { Lineup, type LineupModel, type Prices } from "../models/lineup";
import type { UpstreamClient } from "./client";
import { fingerprint } from "./keys";
import { readJsonBounded } from "./read";

export interface CatalogOptions {
  /** Background re-read interval with the gateway's keys; 0 = none (read only when a client lists models). */
  refreshMs: number;
  /** How long an on-demand read stays fresh. */
  ttlMs: number;
  /** How soon to ask again after a failure. */
  retryMs: number;
  /** Claude Code gives model discovery 3 s in all. */
  timeoutMs: number;
}

export const DEFAULT_CATALOG_OPTIONS: CatalogOptions = { refreshMs: 5 * 60_000, ttlMs: 5 * 60_000, retryMs: 30_000, timeoutMs: 2000 };

const MAX_MODELS = 1000;
const MAX_KEYS = 100;

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === "string" && s !== "") : []);

/**
 * xAI's `GET /v1/language-models`: `{models:[{id, created, owned_by, version, input_modalities:["text","image"],
 * output_modalities, prompt_text_token_price, cached_prompt_text_token_price, prompt_image_token_price,
 * completion_text_token_price, search_price, aliases:[…]}]}` (xAI's REST OpenAPI, `ListLanguageModelsResponse`;
 * prices in USD cents per 100 million tokens = ticks per token, see src/models/lineup.ts). Throws when the
 * body is not that shape; skips entries it cannot use.
 */
export function parseLanguageModels(body: unknown): LineupModel[] {
  const list = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(list)) throw new Error("the upstream's language-models answer has no models array");
  const out: LineupModel[] = [];
  const seen = new Set<string>();
  for (const item of list) {
    const m = (item ?? {}) as Record<string, unknown>;
    const id = str(m.id);
    if (!id || seen.has(id)) continue;
    seen.add(id);
    const prices: Prices = {};
    const set = (k: keyof Prices, v: unknown) => {
      const n = num(v);
      if (n !== undefined) prices[k] = n;
    };
    set("promptText", m.prompt_text_token_price);
    set("cachedPromptText", m.cached_prompt_text_token_price);
    set("promptImage", m.prompt_image_token_price);
    set("completionText", m.completion_text_token_price);
    const inputs = Array.isArray(m.input_modalities) ? strings(m.input_modalities) : undefined;
    out.push({
      id,
      aliases: strings(m.aliases).filter((a) => a !== id),
      created: num(m.created) ?? 0,
      owned_by: str(m.owned_by) ?? "xai",
      ...(inputs ? { vision: inputs.includes("image") } : {}),
      ...(Object.keys(prices).length ? { prices } : {}),
    });
    if (out.length >= MAX_MODELS) break;
  }
  return out;
}

/** OpenAI's `GET /models`: `{data:[{id, created, owned_by}, …]}`. Throws when there is no data array. */
export function parseModelList(body: unknown): LineupModel[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error("the upstream's model list has no data array");
  const out: LineupModel[] = [];
  const seen = new Set<string>();
  for (const item of data) {
    const m = (item ?? {}) as Record<string, unknown>;
    const id = str(m.id);
    if (!id || seen.has(id)) continue;
    seen.add(id);
    out.push({ id, aliases: [], created: num(m.created) ?? 0, owned_by: str(m.owned_by) ?? "xai" });
    if (out.length >= MAX_MODELS) break;
  }
  return out;
}

/** One read of the catalog: `/language-models`, else `/models`. Throws with both reasons when neither works. */
export async function fetchLineup(upstream: UpstreamClient, key: string | undefined, timeoutMs: number): Promise<Lineup> {
  const get = async (path: string) => {
    // No body: the client sends a GET.
    const res = await upstream.post({ path, key, signal: AbortSignal.timeout(timeoutMs) });
    return readJsonBounded(res);
  };
  try {
    return new Lineup(parseLanguageModels(await get("/language-models")), "language-models");
  } catch (first) {
    try {
      return new Lineup(parseModelList(await get("/models")), "models");
    } catch (second) {
      throw new Error(`language-models: ${message(first)}; models: ${message(second)}`);
    }
  }
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface Entry {
  lineup: Lineup | undefined;
  freshUntil: number;
  failing: boolean;
}

export class UpstreamCatalog {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Lineup | undefined>>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private latest: Lineup | undefined;

  constructor(
    private readonly upstream: UpstreamClient,
    private readonly logger: Logger,
    private readonly opts: CatalogOptions = DEFAULT_CATALOG_OPTIONS,
    /** Whether the gateway has keys of its own (else only clients' keys can read the catalog). */
    private readonly pooled = true,
    /** The catalog before a reload: what it learned, and whether it is failing (already logged). */
    previous?: UpstreamCatalog,
    /** Told the current catalog after each successful read (e.g. to warn about configured models it lacks). */
    private readonly onLearned: (current: Lineup) => void = () => {},
  ) {
    this.latest = previous?.current;
    const pool = previous?.cache.get("pool");
    if (pool && pooled) this.cache.set("pool", { ...pool, freshUntil: 0 });
  }

  /** The catalog routing, capabilities and prices use: the gateway's own, else the last one a client's key read. */
  get current(): Lineup | undefined {
    return this.cache.get("pool")?.lineup ?? this.latest;
  }

  /** Read now and then every refreshMs with the gateway's keys (never blocks; nothing to do without keys). */
  start(): void {
    if (!this.pooled || this.opts.refreshMs <= 0 || this.timer) return;
    void this.read("pool", undefined);
    this.timer = setInterval(() => void this.read("pool", undefined), this.opts.refreshMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Without keys of its own the gateway learns the catalog with a client's forwarded key: on that
   * client's request, in the background (the request never waits), at most once per refresh interval.
   */
  learnWith(key: string): void {
    if (this.pooled || this.opts.refreshMs <= 0) return;
    const id = fingerprint(key);
    const hit = this.cache.get(id);
    if (hit && Date.now() < hit.freshUntil) return;
    void this.read(id, key);
  }

  /** Re-read now with the gateway's keys (reload). */
  refresh(): Promise<Lineup | undefined> {
    return this.read("pool", undefined);
  }

  /**
   * The catalog as seen with `key` — the client's own key, or undefined when the gateway's key pool
   * serves (cached; undefined when never readable).
   */
  list(key: string | undefined): Promise<Lineup | undefined> {
    const id = key === undefined ? "pool" : fingerprint(key);
    const hit = this.cache.get(id);
    if (hit && Date.now() < hit.freshUntil) return Promise.resolve(hit.lineup);
    return this.read(id, key);
  }

  private read(id: string, key: string | undefined): Promise<Lineup | undefined> {
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.fetch(id, key).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  private async fetch(id: string, key: string | undefined): Promise<Lineup | undefined> {
    const before = this.cache.get(id);
    let entry: Entry;
    try {
      const lineup = await fetchLineup(this.upstream, key, this.opts.timeoutMs);
      entry = { lineup, freshUntil: Date.now() + this.opts.ttlMs, failing: false };
      if (before?.failing || !before?.lineup) {
        this.logger.info("learned the upstream's model catalog", { key: id, source: lineup.source, models: lineup.models.length });
      }
      this.latest = lineup;
    } catch (err) {
      entry = { lineup: before?.lineup, freshUntil: Date.now() + this.opts.retryMs, failing: true };
      if (!before?.failing) {
        // Once per run of failures, not on every retry.
        this.logger.warn(
          before?.lineup
            ? "could not read the upstream's model catalog; using the last good one"
            : "could not read the upstream's model catalog; using the built-in model table",
          { key: id, error: message(err) },
        );
      }
    }
    if (!this.cache.has(id) && this.cache.size >= MAX_KEYS) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, entry);
    const current = this.current;
    if (!entry.failing && current) {
      try {
        this.onLearned(current);
      } catch (err) {
        this.logger.warn("checking the new model catalog failed", { error: message(err) });
      }
    }
    return entry.lineup;
  }
}
