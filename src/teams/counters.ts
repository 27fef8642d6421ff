/**
 * Rate-limit and budget counters. In memory for one instance; in Redis (Bun's built-in
 * client) when several instances must share them.
 *
 * A request is admitted by one atomic step, `reserve`: the budget, tpm and rpm checks and,
 * when they pass, the request counted in its minute, its input estimate held against tpm and
 * its cost bound held against the budget (reservation.ts). In Redis that step is one Lua script,
 * so requests on any number of instances cannot all pass a check only some of them could.
 * When the request ends, `settle` replaces what it held with what it really cost and used.
 *
 * Budget counters hold the USD ticks a key spent in a period; a counter missing (first use, a
 * new period, Redis restarted) is seeded from the ledger. What requests in flight hold is kept
 * apart from the spend (in Redis, each hold expires after HOLD_MS, so an instance that dies
 * with requests in flight does not keep their holds for ever).
 *
 * Should Redis go away: a request whose key must not be served without it (`closedWhenDown`,
 * see `[store] redis_down`) is refused; the others are counted on this instance's own
 * counters. What is settled meanwhile is kept and added to Redis once it is back (the log says
 * both, once; the metrics have grok2api_redis_up and the spend reconciled), so an outage never
 * forgives spend.
 */
import type { RedisClient } from "bun";
import { RedisLink } from "../store/redis-link";
import type { Logger } from "../http/log";
import { recordRedisReconciled, recordRedisUp } from "../metrics";
import { formatUsd } from "../models/pricing";
import type { RedisDownMode } from "../config/schema";
import type { BudgetPeriod } from "./keys";
import { periodId, periodTtlSeconds, WINDOW_MS, windowOf } from "./periods";

/** One request's admission, as the counters see it. */
export interface ReserveRequest {
  keyId: string;
  now: Date;
  /** Names the request's hold (its request id): unique. */
  holdId: string;
  /** The key's budget in USD ticks and its period; undefined: no budget. */
  budget?: { ticks: number; period: BudgetPeriod };
  /** The most the request can cost, USD ticks; 0 (unknown prices): only checked that the budget is not used up. */
  boundTicks: number;
  rpm?: number;
  tpm?: number;
  /** Tokens held against tpm until the request ends (its input estimate). */
  tokens: number;
  /** With Redis away: refuse the request (true) or count it on this instance (false). */
  closedWhenDown: boolean;
}

/** A key's counters as they stand with the request counted (refused: without it). */
export interface Seen {
  /** Requests in the current minute. */
  requests: number;
  /** Tokens in the current minute, held ones included. */
  tokens: number;
  /** Spend in the budget period, and what requests in flight hold (0 without a budget). */
  spentTicks: number;
  heldTicks: number;
  /** When the current minute ends, ms since the epoch. */
  windowEndMs: number;
}

export type Refusal = "budget" | "tpm" | "rpm" | "redis_down";

/** The request ended: what it really cost and used replaces what it held. Only the first call counts. */
export type Settle = (costTicks: number, tokens: number, now?: Date) => void;

export type Reserved = { ok: true; seen: Seen; settle: Settle } | { ok: false; seen: Seen; refusal: Refusal };

export interface Counters {
  /** Check and, when the request passes, count it and hold its bound: one atomic step. */
  reserve(r: ReserveRequest): Reserved | Promise<Reserved>;
  /** The key's current minute as it stands, counting nothing (for the rate-limit headers of a token count). */
  peek(keyId: string, now: Date): Seen | Promise<Seen>;
  /** Spend and tokens of a request that held nothing (a batch's result, billed after the fact). */
  add(keyId: string, costTicks: number, tokens: number, now: Date): void;
  /** USD ticks the key spent in `period` so far (requests in flight not included). */
  spent(keyId: string, period: BudgetPeriod, now: Date): Promise<number> | number;
  /** Which counters are in use right now: "memory" or "redis". */
  readonly backend: "memory" | "redis";
  close(): void;
}

/** Where a counter missing from memory or Redis gets its first value: the ledger. */
export type SpendSeed = (keyId: string, period: BudgetPeriod, now: Date) => Promise<number>;

const PERIODS: BudgetPeriod[] = ["day", "month", "total"];

/** How long a hold lasts in Redis at most (a request still running then keeps going; its real cost is added when it ends). */
export const HOLD_MS = 3_600_000;

/** Ticks and tokens as whole, non-negative numbers (an upstream's figure is not to be trusted). */
const whole = (n: number) => (Number.isFinite(n) && n > 0 ? Math.min(Math.round(n), Number.MAX_SAFE_INTEGER) : 0);

/**
 * Why a request cannot be admitted, or undefined. Budget first (402 before 429): with a bound, the
 * spend, what is held and the bound must fit; without one (unknown prices), the budget must not be
 * used up. tpm: the minute's tokens (held ones included) must be under the limit; rpm: this request
 * must fit. The Lua script ADMIT below judges the same way.
 */
export function judge(r: ReserveRequest, spent: number, held: number, tokens: number, requests: number): Refusal | undefined {
  if (r.budget) {
    const over = r.boundTicks > 0 ? spent + held + r.boundTicks > r.budget.ticks : spent + held >= r.budget.ticks;
    if (over) return "budget";
  }
  if (r.tpm !== undefined && tokens >= r.tpm) return "tpm";
  if (r.rpm !== undefined && requests + 1 > r.rpm) return "rpm";
  return undefined;
}

const windowEnd = (nowMs: number) => (windowOf(nowMs) + 1) * WINDOW_MS;

export class MemoryCounters implements Counters {
  readonly backend = "memory" as const;
  private rate = new Map<string, { window: number; requests: number; tokens: number }>();
  /** Spend per key and budget period (`keyId:period`), for the current period only: a new day replaces the last. */
  private spend = new Map<string, { periodId: string; ticks: number }>();
  /** Ticks held by requests in flight, per key (no entry: none). */
  private held = new Map<string, number>();
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

  reserve(r: ReserveRequest): Reserved | Promise<Reserved> {
    let spent = 0;
    if (r.budget) {
      const known = this.spent(r.keyId, r.budget.period, r.now);
      // Seeded first; then checked and counted in one synchronous step (nothing else runs in between).
      if (known instanceof Promise) return known.then(() => this.reserve(r));
      spent = known;
    }
    const nowMs = r.now.getTime();
    const slot = this.slot(r.keyId, nowMs);
    const held = r.budget ? (this.held.get(r.keyId) ?? 0) : 0;
    const seen = (): Seen => ({ requests: slot.requests, tokens: slot.tokens, spentTicks: spent, heldTicks: this.held.get(r.keyId) ?? 0, windowEndMs: windowEnd(nowMs) });
    const refusal = judge(r, spent, held, slot.tokens, slot.requests);
    if (refusal) return { ok: false, seen: seen(), refusal };
    slot.requests++;
    slot.tokens += r.tokens;
    const bound = r.budget ? r.boundTicks : 0;
    if (bound > 0) this.held.set(r.keyId, (this.held.get(r.keyId) ?? 0) + bound);
    let settled = false;
    return {
      ok: true,
      seen: seen(),
      settle: (cost, tokens, now = new Date()) => {
        if (settled) return;
        settled = true;
        if (bound > 0) {
          const left = (this.held.get(r.keyId) ?? 0) - bound;
          if (left > 0) this.held.set(r.keyId, left);
          else this.held.delete(r.keyId);
        }
        this.addSpend(r.keyId, whole(cost), now);
        // The held estimate gives way to the real count in the minute it was held in; a request
        // that ends in a later minute counts there.
        const s = this.slot(r.keyId, now.getTime());
        s.tokens = Math.max(0, s.tokens + whole(tokens) - (s.window === windowOf(nowMs) ? r.tokens : 0));
      },
    };
  }

  peek(keyId: string, now: Date): Seen {
    const nowMs = now.getTime();
    const s = this.rate.get(keyId);
    const current = s?.window === windowOf(nowMs) ? s : undefined;
    return { requests: current?.requests ?? 0, tokens: current?.tokens ?? 0, spentTicks: 0, heldTicks: 0, windowEndMs: windowEnd(nowMs) };
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
        // Spend settled while the ledger was read is in the ledger already: the seed has it.
        this.spend.set(slot, { periodId: pid, ticks });
        this.seeding.delete(id);
        return ticks;
      });
      p.catch(() => this.seeding.delete(id));
      this.seeding.set(id, p);
    }
    return p;
  }

  add(keyId: string, costTicks: number, tokens: number, now: Date): void {
    this.addSpend(keyId, whole(costTicks), now);
    this.slot(keyId, now.getTime()).tokens += whole(tokens);
  }

  /** Spend added to the key's periods already counted here (the others are seeded from the ledger when asked). */
  addSpend(keyId: string, ticks: number, now: Date): void {
    if (ticks <= 0) return;
    for (const period of PERIODS) {
      const known = this.spend.get(`${keyId}:${period}`);
      if (known?.periodId === periodId(period, now)) known.ticks += ticks;
    }
  }

  close(): void {}
}

/**
 * The admission, atomically. KEYS: 1 spend counter of the budget's period, 2 ticks held, 3 holds
 * (a sorted set: member "holdId:ticks", score = when it lapses), 4 the minute's requests, 5 its
 * tokens. ARGV: 1 budget (-1: none), 2 bound, 3 rpm (-1), 4 tpm (-1), 5 tokens to hold, 6 now
 * (ms), 7 the hold's member, 8 when it lapses (ms), 9 how long the hold keys live (ms).
 * Answers {verdict, spent, held, requests, tokens}; verdict "seed" when the spend counter must be
 * seeded from the ledger first. Numbers go back to Redis as "%d" strings (Lua's own formatting
 * would write large ones with an exponent).
 */
const ADMIT = `
local now = tonumber(ARGV[6])
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
if #lapsed > 0 then
  local gone = 0
  for _, m in ipairs(lapsed) do gone = gone + tonumber(string.match(m, ':(%d+)$')) end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('DECRBY', KEYS[2], string.format('%d', gone)) <= 0 then redis.call('DEL', KEYS[2]) end
end
local budget = tonumber(ARGV[1])
local bound = tonumber(ARGV[2])
local rpm = tonumber(ARGV[3])
local tpm = tonumber(ARGV[4])
local requests = tonumber(redis.call('GET', KEYS[4]) or '0')
local tokens = tonumber(redis.call('GET', KEYS[5]) or '0')
local spent = 0
local held = 0
if budget >= 0 then
  local s = redis.call('GET', KEYS[1])
  if not s then return {'seed', 0, 0, requests, tokens} end
  spent = tonumber(s)
  held = tonumber(redis.call('GET', KEYS[2]) or '0')
  if (bound > 0 and spent + held + bound > budget) or (bound <= 0 and spent + held >= budget) then
    return {'budget', spent, held, requests, tokens}
  end
end
if tpm >= 0 and tokens >= tpm then return {'tpm', spent, held, requests, tokens} end
if rpm >= 0 and requests + 1 > rpm then return {'rpm', spent, held, requests, tokens} end
if rpm >= 0 or tpm >= 0 then
  requests = redis.call('INCR', KEYS[4])
  if requests == 1 then redis.call('EXPIRE', KEYS[4], 120) end
end
if tpm >= 0 and tonumber(ARGV[5]) > 0 then
  tokens = redis.call('INCRBY', KEYS[5], ARGV[5])
  redis.call('EXPIRE', KEYS[5], 120)
end
if budget >= 0 and bound > 0 then
  redis.call('ZADD', KEYS[3], ARGV[8], ARGV[7])
  held = redis.call('INCRBY', KEYS[2], ARGV[2])
  redis.call('PEXPIRE', KEYS[3], ARGV[9])
  redis.call('PEXPIRE', KEYS[2], ARGV[9])
end
return {'ok', spent, held, requests, tokens}
`;

/**
 * A request settled: KEYS 1–3 the key's spend counters (day, month, total; those not counted
 * yet are left to be seeded from the ledger, which has the row), 4 ticks held, 5 holds, 6 the
 * minute's tokens. ARGV: 1 the cost, 2 tokens to add (may be negative: the real count replacing
 * the estimate), 3… holds to release (a hold that lapsed meanwhile is not released twice).
 */
const SETTLE = `
for i = 3, #ARGV do
  if redis.call('ZREM', KEYS[5], ARGV[i]) == 1 then
    if redis.call('DECRBY', KEYS[4], string.match(ARGV[i], ':(%d+)$')) <= 0 then redis.call('DEL', KEYS[4]) end
  end
end
if tonumber(ARGV[1]) > 0 then
  for i = 1, 3 do
    if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('INCRBY', KEYS[i], ARGV[1]) end
  end
end
if tonumber(ARGV[2]) ~= 0 then
  redis.call('INCRBY', KEYS[6], ARGV[2])
  redis.call('EXPIRE', KEYS[6], 120)
end
return 1
`;

const sha1 = (s: string) => new Bun.CryptoHasher("sha1").update(s).digest("hex");
const SCRIPTS = { ADMIT: { text: ADMIT, sha: sha1(ADMIT) }, SETTLE: { text: SETTLE, sha: sha1(SETTLE) } };

/** A script by its digest; sent whole the first time Redis does not know it (NOSCRIPT). */
async function evalScript(c: RedisClient, s: { text: string; sha: string }, keys: string[], args: string[]): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await c.send("EVALSHA", [s.sha, ...tail]);
  } catch (e) {
    if (!/NOSCRIPT/i.test(String((e as Error)?.message ?? e))) throw e;
    return c.send("EVAL", [s.text, ...tail]);
  }
}

/** What an outage left to add to Redis, per key and day: spend, the current minute's tokens, holds to release. */
interface Owed {
  keys: string[];
  ticks: number;
  tokens: number;
  /** The minute `tokens` were counted in (older ones are of no use to a per-minute limit). */
  window: number;
  holds: string[];
}

export type { RedisDownMode };

export class RedisCounters implements Counters {
  private readonly link: RedisLink;
  private readonly local: MemoryCounters;
  private owed = new Map<string, Owed>();
  /** Set while what an outage left is being added to Redis: admissions wait for it. */
  private reconciling: Promise<void> | undefined;

  constructor(
    url: string,
    private readonly seed: SpendSeed,
    private readonly logger: Logger,
    mode: RedisDownMode = "auto",
    private readonly prefix = "grok2api:",
  ) {
    this.local = new MemoryCounters(seed);
    const meanwhile =
      mode === "open"
        ? "requests are admitted and counted on this instance"
        : mode === "closed"
          ? "requests of virtual keys are refused (503)"
          : "requests of keys with a budget are refused (503), the others are admitted and counted on this instance";
    this.link = new RedisLink(
      url,
      logger,
      {
        away: `redis is unavailable: ${meanwhile} until it is back ([store] redis_down = "${mode}"); spend counted meanwhile is added to Redis then`,
        back: "redis is back: rate limits and budgets are shared again",
      },
      (up) => {
        recordRedisUp(up);
        if (up && this.owed.size > 0 && !this.reconciling) this.reconciling = this.reconcile().finally(() => (this.reconciling = undefined));
      },
    );
  }

  get backend(): "memory" | "redis" {
    return this.link.up ? "redis" : "memory";
  }

  private rateKey = (keyId: string, what: string, nowMs: number) => `${this.prefix}rate:${keyId}:${windowOf(nowMs)}:${what}`;
  private spendKey = (keyId: string, period: BudgetPeriod, now: Date) => `${this.prefix}spend:${keyId}:${periodId(period, now)}`;
  private heldKey = (keyId: string) => `${this.prefix}held:${keyId}`;
  private holdsKey = (keyId: string) => `${this.prefix}holds:${keyId}`;

  reserve(r: ReserveRequest): Reserved | Promise<Reserved> {
    // Nothing to check: nothing to ask Redis (the spend is still added when the request ends).
    if (!r.budget && r.rpm === undefined && r.tpm === undefined) {
      const nowMs = r.now.getTime();
      return { ok: true, seen: { requests: 0, tokens: 0, spentTicks: 0, heldTicks: 0, windowEndMs: windowEnd(nowMs) }, settle: this.settler(r, undefined) };
    }
    return this.reserveShared(r);
  }

  private async reserveShared(r: ReserveRequest): Promise<Reserved> {
    // Back from an outage: what it left is in Redis before anything is judged by Redis's counts.
    if (this.reconciling) await this.reconciling;
    const nowMs = r.now.getTime();
    const bound = r.budget ? r.boundTicks : 0;
    const member = `${r.holdId}:${bound}`;
    const keys = [
      this.spendKey(r.keyId, r.budget?.period ?? "total", r.now),
      this.heldKey(r.keyId),
      this.holdsKey(r.keyId),
      this.rateKey(r.keyId, "requests", nowMs),
      this.rateKey(r.keyId, "tokens", nowMs),
    ];
    const args = [
      r.budget ? String(r.budget.ticks) : "-1",
      String(bound),
      String(r.rpm ?? -1),
      String(r.tpm ?? -1),
      String(r.tpm !== undefined ? r.tokens : 0),
      String(nowMs),
      member,
      String(nowMs + HOLD_MS),
      String(HOLD_MS),
    ];
    for (let attempt = 0; attempt < 3; attempt++) {
      const out = (await this.link.run((c) => evalScript(c, SCRIPTS.ADMIT, keys, args))) as [string, number, number, number, number] | undefined;
      if (out === undefined) return this.reserveLocally(r);
      const [verdict, spent, held, requests, tokens] = out;
      if (verdict === "seed") {
        await this.seedSpend(r.keyId, r.budget!.period, r.now);
        continue;
      }
      const seen: Seen = { requests: Number(requests), tokens: Number(tokens), spentTicks: Number(spent), heldTicks: Number(held), windowEndMs: windowEnd(nowMs) };
      if (verdict !== "ok") return { ok: false, seen, refusal: verdict as Refusal };
      return { ok: true, seen, settle: this.settler(r, bound > 0 ? member : undefined) };
    }
    throw new Error("the budget counter could not be seeded in Redis");
  }

  /** Redis is away: refused, or checked and counted on this instance (and added to Redis when it is back). */
  private async reserveLocally(r: ReserveRequest): Promise<Reserved> {
    const nowMs = r.now.getTime();
    if (r.closedWhenDown) {
      return { ok: false, seen: { requests: 0, tokens: 0, spentTicks: 0, heldTicks: 0, windowEndMs: windowEnd(nowMs) }, refusal: "redis_down" };
    }
    const v = await this.local.reserve(r);
    if (!v.ok) return v;
    let settled = false;
    return {
      ...v,
      settle: (cost, tokens, now = new Date()) => {
        if (settled) return;
        settled = true;
        v.settle(cost, tokens, now);
        this.settleShared(r.keyId, undefined, whole(cost), r.tpm !== undefined ? whole(tokens) : 0, now);
      },
    };
  }

  /** The settle of a request admitted in Redis (`member`: its hold) or with nothing to check. */
  private settler(r: ReserveRequest, member: string | undefined): Settle {
    let settled = false;
    const heldIn = windowOf(r.now.getTime());
    return (cost, tokens, now = new Date()) => {
      if (settled) return;
      settled = true;
      const ticks = whole(cost);
      // Kept here too, so that an outage starts from what this instance knows.
      this.local.addSpend(r.keyId, ticks, now);
      let delta = 0;
      if (r.tpm !== undefined) delta = whole(tokens) - (windowOf(now.getTime()) === heldIn ? r.tokens : 0);
      this.settleShared(r.keyId, member, ticks, delta, now);
    };
  }

  add(keyId: string, costTicks: number, tokens: number, now: Date): void {
    this.local.add(keyId, costTicks, tokens, now);
    this.settleShared(keyId, undefined, whole(costTicks), whole(tokens), now);
  }

  private settleShared(keyId: string, member: string | undefined, ticks: number, tokens: number, now: Date): void {
    if (ticks === 0 && tokens === 0 && !member) return;
    const keys = [
      ...PERIODS.map((p) => this.spendKey(keyId, p, now)),
      this.heldKey(keyId),
      this.holdsKey(keyId),
      this.rateKey(keyId, "tokens", now.getTime()),
    ];
    const args = [String(ticks), String(tokens), ...(member ? [member] : [])];
    void this.link.run((c) => evalScript(c, SCRIPTS.SETTLE, keys, args)).then((done) => {
      if (done === undefined) this.owe(keys, ticks, tokens, windowOf(now.getTime()), member);
    });
  }

  /** Kept for when Redis is back: summed per key and day, so a long outage does not grow it. */
  private owe(keys: string[], ticks: number, tokens: number, window: number, member: string | undefined, members: string[] = []): void {
    const id = keys.slice(0, 3).join(" ");
    let o = this.owed.get(id);
    if (!o) this.owed.set(id, (o = { keys, ticks: 0, tokens: 0, window, holds: [] }));
    o.ticks += ticks;
    if (window !== o.window) {
      // Tokens of a minute gone by no longer count against a per-minute limit.
      o.keys = keys;
      o.window = window;
      o.tokens = 0;
    }
    o.tokens += tokens;
    if (member) o.holds.push(member);
    o.holds.push(...members);
  }

  /** Redis is back: what was settled meanwhile goes into it (what cannot yet, waits for the next time). */
  private async reconcile(): Promise<void> {
    let ticks = 0;
    let keys = 0;
    const owed = [...this.owed.values()];
    this.owed.clear();
    for (const [i, o] of owed.entries()) {
      const tokens = o.window === windowOf(Date.now()) ? o.tokens : 0;
      const done = await this.link.run((c) => evalScript(c, SCRIPTS.SETTLE, o.keys, [String(o.ticks), String(tokens), ...o.holds]));
      if (done === undefined) {
        // Away again: the rest waits for the next time (merged with what is owed meanwhile).
        for (const rest of owed.slice(i)) this.owe(rest.keys, rest.ticks, rest.tokens, rest.window, undefined, rest.holds);
        break;
      }
      ticks += o.ticks;
      keys++;
    }
    if (ticks > 0) {
      recordRedisReconciled(ticks);
      this.logger.info("spend counted while redis was away is added to it", { usd: formatUsd(ticks), counters: keys });
    }
  }

  async peek(keyId: string, now: Date): Promise<Seen> {
    const nowMs = now.getTime();
    const got = (await this.link.run((c) => c.send("MGET", [this.rateKey(keyId, "requests", nowMs), this.rateKey(keyId, "tokens", nowMs)]))) as
      | Array<string | null>
      | undefined;
    if (got === undefined) return this.local.peek(keyId, now);
    return { requests: Number(got[0] ?? 0), tokens: Number(got[1] ?? 0), spentTicks: 0, heldTicks: 0, windowEndMs: windowEnd(nowMs) };
  }

  async spent(keyId: string, period: BudgetPeriod, now: Date): Promise<number> {
    const k = this.spendKey(keyId, period, now);
    const current = await this.link.run((c) => c.get(k));
    if (current === undefined) return this.local.spent(keyId, period, now);
    if (current !== null) return Number(current);
    return (await this.seedSpend(keyId, period, now)) ?? this.local.spent(keyId, period, now);
  }

  /**
   * A spend counter not counted yet in this period: seeded from the ledger (outside Redis's time
   * budget: a slow database is not a Redis outage). Another instance may seed it first: NX keeps
   * the first value. Undefined when Redis is away.
   */
  private async seedSpend(keyId: string, period: BudgetPeriod, now: Date): Promise<number | undefined> {
    const k = this.spendKey(keyId, period, now);
    const seeded = await this.seed(keyId, period, now);
    const ttl = periodTtlSeconds(period, now);
    return this.link.run(async (c) => {
      await c.send("SET", ttl ? [k, String(seeded), "NX", "EX", String(ttl)] : [k, String(seeded), "NX"]);
      return Number((await c.get(k)) ?? seeded);
    });
  }

  close(): void {
    this.link.close();
  }
}
