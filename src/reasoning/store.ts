/**
 * The reasoning store: Grok's encrypted reasoning kept server-side for clients that do not carry
 * it back (they never asked for thinking, or they drop thinking blocks), keyed by the digest of
 * the assistant turn as the client received it (dialects/turn-digest.ts). When the same turn
 * comes back, the route puts the items back in place; a miss only means the turn starts cold.
 *
 * It holds digests and xAI's encrypted blobs (with their xAI item ids), never prompt or answer
 * text. In memory by default, bounded by bytes and a time to live (both sliding: least recently
 * used out first); in Redis when one is configured (GROK2API_REDIS_URL), so every instance behind
 * a load balancer restores what another stored — falling back to memory while Redis is away.
 */
import { DEFAULTS } from "../config/schema";
import type { Logger } from "../http/log";
import { recordReasoningStore } from "../metrics";
import { RedisLink } from "../store/redis-link";
import type { StoredReasoning } from "../dialects/turn-digest";

export interface ReasoningStoreConfig {
  /** Bytes the in-memory store may hold (keys and blobs). */
  maxBytes: number;
  /** How long an entry lives after it was stored or last used. */
  ttlMs: number;
  /** Redis shared by every instance (GROK2API_REDIS_URL); memory when absent. */
  redisUrl?: string;
}

export const REASONING_STORE_DEFAULTS: Readonly<ReasoningStoreConfig> = Object.freeze({
  maxBytes: DEFAULTS.reasoningStoreMaxBytes,
  ttlMs: DEFAULTS.reasoningStoreTtlSeconds * 1000,
});

export interface ReasoningStore {
  /** The items kept for each digest (undefined: none), in the order asked. */
  getMany(scope: string, digests: readonly string[]): Array<StoredReasoning[] | undefined> | Promise<Array<StoredReasoning[] | undefined>>;
  /** Keeps a turn's items (a promise when the write goes to Redis: await it before the answer's last bytes). */
  put(scope: string, digest: string, items: readonly StoredReasoning[]): void | Promise<void>;
  readonly backend: "memory" | "redis";
  close(): void;
}

/** Fixed overhead counted per entry (map slot, object headers), on top of its key and blobs. */
const ENTRY_OVERHEAD = 96;

const sizeOf = (key: string, items: readonly StoredReasoning[]) =>
  items.reduce((n, r) => n + r.e.length + (r.i?.length ?? 0) + 16, key.length + ENTRY_OVERHEAD);

/** In memory: least recently used out first past the byte cap; entries older than the TTL are gone. */
export class MemoryReasoningStore implements ReasoningStore {
  readonly backend = "memory" as const;
  /** In order of last use (Map keeps insertion order: a use moves the entry to the end). */
  private readonly entries = new Map<string, { items: readonly StoredReasoning[]; bytes: number; expires: number }>();
  private bytes = 0;

  constructor(
    private readonly config: ReasoningStoreConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes held now. */
  get size(): number {
    return this.bytes;
  }

  getMany(scope: string, digests: readonly string[]): Array<StoredReasoning[] | undefined> {
    this.expire();
    return digests.map((d) => {
      const key = `${scope}:${d}`;
      const e = this.entries.get(key);
      if (!e) return undefined;
      this.entries.delete(key);
      e.expires = this.now() + this.config.ttlMs;
      this.entries.set(key, e);
      return [...e.items];
    });
  }

  put(scope: string, digest: string, items: readonly StoredReasoning[]): void {
    if (items.length === 0) return;
    const key = `${scope}:${digest}`;
    const bytes = sizeOf(key, items);
    this.drop(key);
    if (bytes > this.config.maxBytes) return;
    this.expire();
    this.entries.set(key, { items, bytes, expires: this.now() + this.config.ttlMs });
    this.bytes += bytes;
    while (this.bytes > this.config.maxBytes) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.drop(oldest);
      recordReasoningStore("eviction");
    }
  }

  close(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }

  /** Entries past their time, from the least recently used (every entry's TTL is the same, so they expire in that order). */
  private expire(): void {
    const now = this.now();
    for (const [key, e] of this.entries) {
      if (e.expires > now) break;
      this.drop(key);
      recordReasoningStore("eviction");
    }
  }
}

/** In Redis, shared by every instance; the memory store stands in while Redis is away. */
export class RedisReasoningStore implements ReasoningStore {
  private readonly link: RedisLink;
  private readonly local: MemoryReasoningStore;

  constructor(
    url: string,
    private readonly config: ReasoningStoreConfig,
    logger: Logger,
    private readonly prefix = "grok2api:reasoning:",
  ) {
    this.local = new MemoryReasoningStore(config);
    this.link = new RedisLink(url, logger, {
      away: "redis is unavailable: Grok's reasoning is kept on this instance only until it is back",
      back: "redis is back: Grok's reasoning is shared again",
    });
  }

  get backend(): "memory" | "redis" {
    return this.link.up ? "redis" : "memory";
  }

  async getMany(scope: string, digests: readonly string[]): Promise<Array<StoredReasoning[] | undefined>> {
    if (digests.length === 0) return [];
    const keys = digests.map((d) => `${this.prefix}${scope}:${d}`);
    const found = await this.link.run((c) => c.send("MGET", keys) as Promise<Array<string | null>>);
    const local = this.local.getMany(scope, digests);
    if (found === undefined) return local;
    const ttl = String(this.config.ttlMs);
    return found.map((v, k) => {
      const items = v === null ? undefined : parseItems(v);
      if (items) void this.link.run((c) => c.send("PEXPIRE", [keys[k]!, ttl])); // used: it lives on
      return items ?? local[k];
    });
  }

  async put(scope: string, digest: string, items: readonly StoredReasoning[]): Promise<void> {
    if (items.length === 0) return;
    const ok = await this.link.run((c) => c.send("SET", [`${this.prefix}${scope}:${digest}`, JSON.stringify(items), "PX", String(this.config.ttlMs)]));
    if (ok === undefined) this.local.put(scope, digest, items);
  }

  close(): void {
    this.link.close();
    this.local.close();
  }
}

/** What Redis holds for a turn, checked: anything else is a miss. */
function parseItems(text: string): StoredReasoning[] | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return undefined;
    const out: StoredReasoning[] = [];
    for (const r of v) {
      if (typeof r !== "object" || r === null) return undefined;
      const { at, e, i } = r as Record<string, unknown>;
      if (typeof at !== "number" || !Number.isInteger(at) || at < 0 || typeof e !== "string" || !e) return undefined;
      out.push(typeof i === "string" && i ? { at, e, i } : { at, e });
    }
    return out;
  } catch {
    return undefined;
  }
}

/** The store a server keeps for its whole life (a reload keeps it): Redis when configured, else memory. */
export function createReasoningStore(config: ReasoningStoreConfig, redisUrl: string | undefined, logger: Logger): ReasoningStore {
  return redisUrl ? new RedisReasoningStore(redisUrl, config, logger) : new MemoryReasoningStore(config);
}
