/**
 * Virtual keys: client keys made through the admin API, each with its own
 * limits. Only a SHA-256 hash of a key is stored; the secret is shown once, when
 * it is made. Lookups are served from memory (by hash); the table is re-read in
 * the background (every second by default) so that keys made, changed or revoked on
 * another instance sharing the database take effect here within about `refreshMs`;
 * after each read, and after each change made here, the listeners are told (the server
 * ends the open streams of keys withdrawn meanwhile).
 *
 * A presented key not in memory is looked up in the database (made elsewhere a moment
 * ago?) — once: lookups of one key at once share one query, a key not found is not
 * looked up again for MISS_MS, a text that cannot be a key is never looked up, and at
 * most FRESH_PER_SECOND lookups run each second (past that, the next refresh finds a
 * new key anyway). So random invalid keys cannot turn into a flood of queries.
 */
import type { Database } from "../store/db";
import type { Logger } from "../http/log";
import { recordKeyLookup } from "../metrics";
import { globMatcher, type GlobMatcher } from "../models/glob";

export type BudgetPeriod = "day" | "month" | "total";

export interface VirtualKey {
  id: string;
  name: string;
  key_hint: string;
  budget_usd: number | null;
  budget_period: BudgetPeriod | null;
  rpm: number | null;
  tpm: number | null;
  models: string[] | null;
  expires_at: string | null;
  created_at: string;
  revoked_at: string | null;
}

/** What a key may be created or changed with (`null` clears a limit). */
export interface KeyFields {
  name?: string;
  budget_usd?: number | null;
  budget_period?: BudgetPeriod | null;
  rpm?: number | null;
  tpm?: number | null;
  models?: string[] | null;
  expires_at?: string | null;
}

/** How long a key not found in the database is not looked up again (keys made elsewhere show up by the refresh anyway). */
const MISS_MS = 2000;
/** Keys remembered as not found, at most (past it, the oldest half is forgotten). */
const MAX_MISSES = 10_000;
/** Lookups in the database per second, at most. */
const FRESH_PER_SECOND = 50;
/** How often the table is re-read by default: a key revoked elsewhere stops working here within about this long. */
export const KEYS_REFRESH_MS = 1000;
/** What every secret this store makes looks like (newSecret): anything else is not looked up. */
const SECRET_SHAPE = /^g2a-[0-9A-Za-z]{40}$/;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `g2a-` and 40 random base62 characters (~238 bits). */
export function newSecret(): string {
  const out: string[] = [];
  while (out.length < 40) {
    for (const b of crypto.getRandomValues(new Uint8Array(48))) {
      if (b < 248 && out.length < 40) out.push(BASE62[b % 62]!); // 248 = 4 × 62: no bias
    }
  }
  return `g2a-${out.join("")}`;
}

export const hashKey = (secret: string): string => new Bun.CryptoHasher("sha256").update(secret).digest("hex");
const hintOf = (secret: string) => `${secret.slice(0, 4)}…${secret.slice(-4)}`;

type Row = Record<string, unknown>;
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function fromRow(r: Row): VirtualKey & { key_hash: string } {
  return {
    id: String(r.id),
    name: String(r.name),
    key_hash: String(r.key_hash),
    key_hint: String(r.key_hint),
    budget_usd: num(r.budget_usd),
    budget_period: (r.budget_period as BudgetPeriod | null) ?? null,
    rpm: num(r.rpm),
    tpm: num(r.tpm),
    models: r.models ? (JSON.parse(String(r.models)) as string[]) : null,
    expires_at: (r.expires_at as string | null) ?? null,
    created_at: String(r.created_at),
    revoked_at: (r.revoked_at as string | null) ?? null,
  };
}

/** A key as the admin API shows it: everything but the hash. */
export function publicKey(k: VirtualKey & { key_hash?: string }): VirtualKey {
  const { key_hash: _, ...rest } = k;
  return rest;
}

const compiled = new Map<string, GlobMatcher>();
/** A glob's matcher, made once (the globs are the admin's, few). */
function globOf(glob: string): GlobMatcher {
  let matches = compiled.get(glob);
  if (!matches) {
    if (compiled.size > 10_000) compiled.clear();
    matches = globMatcher(glob);
    compiled.set(glob, matches);
  }
  return matches;
}

/** Whether a key's `models` globs allow an upstream model (no list: every model). */
export function allowsModel(k: VirtualKey, model: string): boolean {
  if (!k.models) return true;
  return k.models.some((g) => globOf(g)(model));
}

export class KeyStore {
  private byHash = new Map<string, VirtualKey & { key_hash: string }>();
  private byId = new Map<string, VirtualKey & { key_hash: string }>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private refreshing = false;
  /** Changes made here: a re-read begun before one is stale when it ends, and is dropped. */
  private writes = 0;
  private readonly listeners = new Set<() => void>();
  readonly ready: Promise<void>;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    refreshMs = KEYS_REFRESH_MS,
  ) {
    this.ready = this.reload();
    if (refreshMs > 0) {
      this.timer = setInterval(() => this.refresh(), refreshMs);
      this.timer.unref?.();
    }
  }

  /** `listener` is called after each re-read of the table and after each change made here. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (e) {
        this.logger.warn("a virtual-key listener failed", { error: String(e) });
      }
    }
  }

  /** One re-read at a time: a slow database does not pile them up. */
  private refresh(): void {
    if (this.refreshing) return;
    this.refreshing = true;
    this.reload()
      .then(
        () => this.changed(),
        (e) => this.logger.warn("reading the virtual keys failed", { error: String(e) }),
      )
      .finally(() => (this.refreshing = false));
  }

  private async reload(): Promise<void> {
    const writes = this.writes;
    const rows: Row[] = await this.db.sql`SELECT * FROM virtual_keys`;
    if (writes !== this.writes) return; // a change made here meanwhile: the next read has it
    const byHash = new Map<string, VirtualKey & { key_hash: string }>();
    const byId = new Map<string, VirtualKey & { key_hash: string }>();
    for (const r of rows) {
      const k = fromRow(r);
      byHash.set(k.key_hash, k);
      byId.set(k.id, k);
    }
    this.byHash = byHash;
    this.byId = byId;
  }

  /** A key made or changed here: in memory at once. */
  private remember(k: VirtualKey & { key_hash: string }): void {
    this.writes++;
    this.byHash.set(k.key_hash, k);
    this.byId.set(k.id, k);
  }

  /** The key a presented secret names, if any (revoked and expired ones included: the caller says why it fails). */
  lookup(secret: string): VirtualKey | undefined {
    return this.byHash.get(hashKey(secret));
  }

  /** Hashes recently looked up in the database and not found: not asked again for a while. */
  private misses = new Map<string, number>();
  /** Lookups under way, by hash: presented at once, a key is looked up once. */
  private looking = new Map<string, Promise<VirtualKey | undefined>>();
  private freshWindow = { second: 0, count: 0 };

  /**
   * A key not yet in memory (made on another instance a moment ago): read from the database,
   * within the bounds above.
   */
  lookupFresh(secret: string): Promise<VirtualKey | undefined> {
    if (!SECRET_SHAPE.test(secret)) return Promise.resolve(undefined);
    const hash = hashKey(secret);
    const now = Date.now();
    const missed = this.misses.get(hash);
    if (missed !== undefined && now - missed < MISS_MS) return Promise.resolve(undefined);
    const under = this.looking.get(hash);
    if (under) return under;
    const second = Math.floor(now / 1000);
    if (this.freshWindow.second !== second) this.freshWindow = { second, count: 0 };
    if (++this.freshWindow.count > FRESH_PER_SECOND) return Promise.resolve(undefined);
    const lookup = this.queryKey(hash, now).finally(() => this.looking.delete(hash));
    this.looking.set(hash, lookup);
    return lookup;
  }

  private async queryKey(hash: string, now: number): Promise<VirtualKey | undefined> {
    const rows: Row[] = await this.db.sql`SELECT * FROM virtual_keys WHERE key_hash = ${hash}`;
    recordKeyLookup(rows[0] !== undefined);
    if (!rows[0]) {
      if (this.misses.size >= MAX_MISSES) {
        // Forget the older half (a Map iterates oldest first): bounded, whatever is presented.
        let drop = this.misses.size / 2;
        for (const h of this.misses.keys()) {
          if (drop-- <= 0) break;
          this.misses.delete(h);
        }
      }
      this.misses.set(hash, now);
      return undefined;
    }
    const k = fromRow(rows[0]);
    this.remember(k);
    return k;
  }

  get(id: string): VirtualKey | undefined {
    return this.byId.get(id);
  }

  list(): VirtualKey[] {
    return [...this.byId.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id)).map(publicKey);
  }

  async create(f: KeyFields & { name: string }): Promise<{ key: VirtualKey; secret: string }> {
    const secret = newSecret();
    const k = {
      id: `key_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
      name: f.name,
      key_hash: hashKey(secret),
      key_hint: hintOf(secret),
      budget_usd: f.budget_usd ?? null,
      budget_period: f.budget_usd != null ? (f.budget_period ?? "month") : (f.budget_period ?? null),
      rpm: f.rpm ?? null,
      tpm: f.tpm ?? null,
      models: f.models ?? null,
      expires_at: f.expires_at ?? null,
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    await this.db.sql`INSERT INTO virtual_keys ${this.db.sql({ ...k, models: k.models ? JSON.stringify(k.models) : null })}`;
    this.remember(k);
    return { key: publicKey(k), secret };
  }

  async update(id: string, f: KeyFields): Promise<VirtualKey | undefined> {
    const old = this.byId.get(id) ?? (await this.reload(), this.byId.get(id));
    if (!old) return undefined;
    const k = { ...old };
    for (const [name, value] of Object.entries(f)) if (value !== undefined) (k as Record<string, unknown>)[name] = value;
    if (f.budget_usd != null && k.budget_period === null) k.budget_period = "month";
    const { sql } = this.db;
    await sql`UPDATE virtual_keys SET name = ${k.name}, budget_usd = ${k.budget_usd}, budget_period = ${k.budget_period},
      rpm = ${k.rpm}, tpm = ${k.tpm}, models = ${k.models ? JSON.stringify(k.models) : null}, expires_at = ${k.expires_at}
      WHERE id = ${id}`;
    this.remember(k);
    this.changed();
    return publicKey(k);
  }

  async revoke(id: string): Promise<VirtualKey | undefined> {
    const old = this.byId.get(id) ?? (await this.reload(), this.byId.get(id));
    if (!old) return undefined;
    if (old.revoked_at) return publicKey(old);
    const k = { ...old, revoked_at: new Date().toISOString() };
    await this.db.sql`UPDATE virtual_keys SET revoked_at = ${k.revoked_at} WHERE id = ${id}`;
    this.remember(k);
    this.changed();
    return publicKey(k);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }
}
