/**
 * Rate-limit and budget counters. In memory for one instance; in Redis (Bun's
 * built-in client) when several instances must share them. Should Redis go
 * away, requests keep flowing on the local counters (the log says so, once) and
 * Redis is used again as soon as it is back.
 *
 * Budget counters hold the USD ticks a key spent in a period; a counter missing
 * (first use, a new period, Redis restarted) is seeded from the ledger.
 */
import type { RedisClient } from "bun";
import { RedisLink } from "./redis-link";
import type { Logger } from "../http/log";
import type { BudgetPeriod } from "./keys";
import { periodId, periodTtlSeconds, windowOf } from "./periods";

export interface Counters {
  /** Counts one request in the key's current minute; answers the minute's requests so far, this one included. */
  hitRequest(keyId: string, nowMs: number): Promise<number> | number;
  /** Tokens the key used in the current minute. */
  tokensThisMinute(keyId: string, nowMs: number): Promise<number> | number;
  addTokens(keyId: string, tokens: number, nowMs: number): void;
  /** USD ticks the key spent in `period` so far. */
  spent(keyId: string, period: BudgetPeriod, now: Date): Promise<number> | number;
  addSpend(keyId: string, ticks: number, now: Date): void;
  /** Which counters are in use right now: "memory" or "redis". */
  readonly backend: "memory" | "redis";
  close(): void;
}

/** Where a counter missing from memory or Redis gets its first value: the ledger. */
export type SpendSeed = (keyId: string, period: BudgetPeriod, now: Date) => Promise<number>;

const PERIODS: BudgetPeriod[] = ["day", "month", "total"];

export class MemoryCounters implements Counters {
  readonly backend = "memory" as const;
  private rate = new Map<string, { window: number; requests: number; tokens: number }>();
  /** Spend per key and budget period (`keyId:period`), for the current period only: a new day replaces the last. */
  private spend = new Map<string, { periodId: string; ticks: number }>();
  private seeding = new Map<string, Promise<number>>();

  constructor(private readonly seed: SpendSeed) {}

  private slot(keyId: string, nowMs: number) {
    const w = windowOf(nowMs);
    let s = this.rate.get(keyId);
    if (!s || s.window !== w) {
      s = { window: w, requests: 0, tokens: 0 };
      this.rate.set(keyId, s);
    }
    return s;
  }

  hitRequest(keyId: string, nowMs: number): number {
    return ++this.slot(keyId, nowMs).requests;
  }
  tokensThisMinute(keyId: string, nowMs: number): number {
    return this.slot(keyId, nowMs).tokens;
  }
  addTokens(keyId: string, tokens: number, nowMs: number): void {
    this.slot(keyId, nowMs).tokens += tokens;
  }

  spent(keyId: string, period: BudgetPeriod, now: Date): Promise<number> | number {
    const slot = `${keyId}:${period}`;
    const pid = periodId(period, now);
    const known = this.spend.get(slot);
    if (known?.periodId === pid) return known.ticks;
    const id = `${slot}:${pid}`;
    let p = this.seeding.get(id);
    if (!p) {
      p = this.seed(keyId, period, now).then((ticks) => {
        // Spend added while the ledger was read is already in the ledger's queue: the seed has it.
        this.spend.set(slot, { periodId: pid, ticks });
        this.seeding.delete(id);
        return ticks;
      });
      p.catch(() => this.seeding.delete(id));
      this.seeding.set(id, p);
    }
    return p;
  }

  addSpend(keyId: string, ticks: number, now: Date): void {
    for (const period of PERIODS) {
      const known = this.spend.get(`${keyId}:${period}`);
      if (known?.periodId === periodId(period, now)) known.ticks += ticks;
    }
  }

  close(): void {}
}

const INCR_IF_EXISTS = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end return nil";

export class RedisCounters implements Counters {
  private readonly link: RedisLink;
  private readonly local: MemoryCounters;

  constructor(
    url: string,
    private readonly seed: SpendSeed,
    logger: Logger,
    private readonly prefix = "grok2api:",
  ) {
    this.local = new MemoryCounters(seed);
    this.link = new RedisLink(url, logger, {
      away: "redis is unavailable: rate limits and budgets are counted on this instance only until it is back",
      back: "redis is back: rate limits and budgets are shared again",
    });
  }

  get backend(): "memory" | "redis" {
    return this.link.up ? "redis" : "memory";
  }

  private run<T>(f: (c: RedisClient) => Promise<T>): Promise<T | undefined> {
    return this.link.run(f);
  }

  private rateKey = (keyId: string, what: string, nowMs: number) => `${this.prefix}rate:${keyId}:${windowOf(nowMs)}:${what}`;
  private spendKey = (keyId: string, period: BudgetPeriod, now: Date) => `${this.prefix}spend:${keyId}:${periodId(period, now)}`;

  async hitRequest(keyId: string, nowMs: number): Promise<number> {
    const k = this.rateKey(keyId, "requests", nowMs);
    const n = await this.run(async (c) => {
      const v = await c.incr(k);
      if (v === 1) await c.expire(k, 120);
      return v;
    });
    return n ?? this.local.hitRequest(keyId, nowMs);
  }

  async tokensThisMinute(keyId: string, nowMs: number): Promise<number> {
    const v = await this.run((c) => c.get(this.rateKey(keyId, "tokens", nowMs)));
    return v === undefined ? this.local.tokensThisMinute(keyId, nowMs) : Number(v ?? 0);
  }

  addTokens(keyId: string, tokens: number, nowMs: number): void {
    this.local.addTokens(keyId, tokens, nowMs);
    const k = this.rateKey(keyId, "tokens", nowMs);
    void this.run(async (c) => {
      await c.send("INCRBY", [k, String(tokens)]);
      await c.expire(k, 120);
    });
  }

  async spent(keyId: string, period: BudgetPeriod, now: Date): Promise<number> {
    const k = this.spendKey(keyId, period, now);
    const current = await this.run((c) => c.get(k));
    if (current === undefined) return this.local.spent(keyId, period, now);
    if (current !== null) return Number(current);
    // Not counted yet in this period: seeded from the ledger (outside Redis's time budget: a slow
    // database is not a Redis outage). Another instance may seed it first: NX keeps the first value.
    const seeded = await this.seed(keyId, period, now);
    const ttl = periodTtlSeconds(period, now);
    const found = await this.run(async (c) => {
      await c.send("SET", ttl ? [k, String(seeded), "NX", "EX", String(ttl)] : [k, String(seeded), "NX"]);
      return Number((await c.get(k)) ?? seeded);
    });
    return found ?? this.local.spent(keyId, period, now);
  }

  addSpend(keyId: string, ticks: number, now: Date): void {
    this.local.addSpend(keyId, ticks, now);
    if (ticks <= 0) return;
    void this.run(async (c) => {
      for (const period of PERIODS) await c.send("EVAL", [INCR_IF_EXISTS, "1", this.spendKey(keyId, period, now), String(ticks)]);
    });
  }

  close(): void {
    this.link.close();
  }
}
