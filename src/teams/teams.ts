/**
 * Teams: the store (ledger and virtual keys), the counters, and the rules a
 * virtual key's request passes before the upstream is called — and what is
 * recorded after, from the real usage.
 *
 *   identify(secret)       which virtual key, or a 401 (unknown, revoked, expired)
 *   admit(k, model, bound) 403 model not allowed, 402 over budget, 429 over rpm/tpm, 503 Redis away
 *                          (by [store] redis_down); admitted, the request's bound is held
 *   record(…)              the ledger row written, the admission settled, the per-key metrics
 */
import type { Logger } from "../http/log";
import { ApiError, type AnthropicErrorType } from "../http/errors";
import { recordKeyUsage } from "../metrics";
import { formatUsd, TICKS_PER_USD } from "../models/pricing";
import { MemoryCounters, RedisCounters, type Counters, type RedisDownMode, type Reserved, type ReserveRequest, type Seen } from "./counters";
import { openDatabase, type Database } from "../store/db";
import { allowsModel, KeyStore, KEYS_REFRESH_MS, type VirtualKey } from "./keys";
import { Ledger } from "./ledger";
import { sqliteWriter, sqlWriter } from "./ledger-writer";
import { periodEnd, periodStart } from "./periods";
import type { RateLimits } from "./rate-headers";
import type { Bound } from "./reservation";

export interface StoreConfig {
  url: string;
  redisUrl?: string;
  /** With Redis away: "closed" refuses virtual keys' requests, "open" counts them on each instance, "auto" (default) closed for keys with a budget. */
  redisDown?: RedisDownMode;
}

/** A virtual key's admitted request: what it holds until it ends. */
export interface Admission {
  /** The key's rpm / tpm limits as they stand with this request counted (for the response headers). */
  readonly limits: RateLimits | undefined;
  /** The request ended (answered or failed): its real cost and tokens replace what it held. Only the first call counts. */
  settle(costTicks: number, tokens: number): void;
}

/** A request refused for its key's limits, with the limits as they stand (the response carries them). */
export class LimitRefusal extends ApiError {
  constructor(
    status: number,
    message: string,
    opts: { type: AnthropicErrorType; headers?: Record<string, string>; retryable: boolean },
    readonly limits: RateLimits | undefined,
  ) {
    super(status, message, opts);
  }
}

/** What the request context hands over when a request ends (or is about to be answered). */
export interface Finished {
  requestId: string;
  path: string;
  vkey: VirtualKey | undefined;
  /** The virtual key's admission, settled once the row is written (none: a charge admitted elsewhere, as a batch's results are). */
  admission?: Admission | undefined;
  model: string | undefined;
  upstreamModel: string | undefined;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costTicks: number;
  /** The usage was estimated (the upstream did not report it). */
  estimated?: boolean;
  status: number;
  durationMs: number;
}

const unauthorized = (message: string) => new ApiError(401, message, { retryable: false });

/** The key's own rpm / tpm limits as they stand (for the headers), or undefined when it has none. */
function keyLimits(k: VirtualKey, seen: Seen): RateLimits | undefined {
  if (k.rpm === null && k.tpm === null) return undefined;
  return {
    ...(k.rpm !== null ? { requests: { limit: k.rpm, remaining: k.rpm - seen.requests, resetMs: seen.windowEndMs } } : {}),
    ...(k.tpm !== null ? { tokens: { limit: k.tpm, remaining: k.tpm - seen.tokens, resetMs: seen.windowEndMs } } : {}),
  };
}

export class Teams {
  private constructor(
    readonly db: Database,
    readonly keys: KeyStore,
    readonly ledger: Ledger,
    readonly counters: Counters,
    private readonly logger: Logger,
    private readonly redisDown: RedisDownMode,
  ) {}

  static async open(config: StoreConfig, logger: Logger, opts: { flushMs?: number; refreshMs?: number } = {}): Promise<Teams> {
    const db = await openDatabase(config.url, (m) => logger.warn(m));
    const writer = db.file ? await sqliteWriter(db, db.file, (m) => logger.warn(m)) : sqlWriter(db);
    const ledger = new Ledger(db, logger, opts.flushMs ?? 1000, writer);
    const keys = new KeyStore(db, logger, opts.refreshMs ?? KEYS_REFRESH_MS);
    await keys.ready;
    const seed = (keyId: string, period: "day" | "month" | "total", now: Date) => ledger.spentSince(keyId, periodStart(period, now));
    const mode = config.redisDown ?? "auto";
    const counters = config.redisUrl ? new RedisCounters(config.redisUrl, seed, logger, mode) : new MemoryCounters(seed);
    return new Teams(db, keys, ledger, counters, logger, mode);
  }

  /** The virtual key a presented secret names; a 401 when unknown, revoked or expired. */
  identify(secret: string): VirtualKey | Promise<VirtualKey> {
    const k = this.keys.lookup(secret);
    if (k) return this.usable(k);
    // Made on another instance since the last refresh?
    return this.keys.lookupFresh(secret).then((fresh) => {
      if (!fresh) throw unauthorized("invalid API key");
      return this.usable(fresh);
    });
  }

  private usable(k: VirtualKey): VirtualKey {
    const why = this.unusable(k);
    if (why) throw why;
    return k;
  }

  private unusable(k: VirtualKey): ApiError | undefined {
    if (k.revoked_at) return unauthorized(`this API key ("${k.name}") was revoked at ${k.revoked_at}`);
    if (k.expires_at && Date.parse(k.expires_at) <= Date.now()) return unauthorized(`this API key ("${k.name}") expired at ${k.expires_at}`);
    return undefined;
  }

  /**
   * Why requests made with the key `id` may no longer go on (revoked, expired, gone from the
   * store), as the error their open streams end with; undefined while it is usable.
   */
  withdrawn(id: string): ApiError | undefined {
    const k = this.keys.get(id);
    return k ? this.unusable(k) : unauthorized("this API key no longer exists");
  }

  /** The spend of a key in its budget period (for keys without a budget: all time), in USD ticks. */
  spent(k: VirtualKey, now = new Date()): Promise<number> | number {
    return this.counters.spent(k.id, k.budget_period ?? "total", now);
  }

  /**
   * The limits a virtual key's request must pass before the upstream is called: the model list,
   * then the budget, tpm and rpm, checked and reserved in one atomic step (counters.ts), the
   * request's cost bound held against the budget. Synchronous when the counters are in memory
   * (the hot path); a promise when they are in Redis or being seeded. Throws the refusal.
   */
  admit(k: VirtualKey, upstreamModel: string, bound: Bound, requestId: string): Admission | Promise<Admission> {
    this.allowModel(k, upstreamModel);
    const budget = k.budget_usd === null ? undefined : { ticks: Math.round(k.budget_usd * TICKS_PER_USD), period: k.budget_period ?? "month" };
    const r: ReserveRequest = {
      keyId: k.id,
      now: new Date(),
      holdId: requestId,
      ...(budget ? { budget } : {}),
      boundTicks: bound.ticks,
      ...(k.rpm !== null ? { rpm: k.rpm } : {}),
      ...(k.tpm !== null ? { tpm: k.tpm } : {}),
      tokens: bound.tokens,
      closedWhenDown: this.redisDown === "closed" || (this.redisDown === "auto" && budget !== undefined),
    };
    const v = this.counters.reserve(r);
    return v instanceof Promise ? v.then((x) => this.verdict(k, r, bound, x)) : this.verdict(k, r, bound, v);
  }

  /** The key's own rpm / tpm limits as they stand, counting nothing (a token count's headers); undefined without any. */
  limitsOf(k: VirtualKey): RateLimits | undefined | Promise<RateLimits | undefined> {
    if (k.rpm === null && k.tpm === null) return undefined;
    const seen = this.counters.peek(k.id, new Date());
    return seen instanceof Promise ? seen.then((s) => keyLimits(k, s)) : keyLimits(k, seen);
  }

  /** The key's model list: a 403 for a model it may not use. */
  allowModel(k: VirtualKey, upstreamModel: string): void {
    if (!allowsModel(k, upstreamModel)) {
      throw new ApiError(403, `this API key ("${k.name}") may not use the model ${upstreamModel}`, { type: "permission_error", retryable: false });
    }
  }

  private verdict(k: VirtualKey, r: ReserveRequest, bound: Bound, v: Reserved): Admission {
    const limits = keyLimits(k, v.seen);
    if (v.ok) return { limits, settle: (cost, tokens) => v.settle(cost, tokens) };
    const nowMs = r.now.getTime();
    switch (v.refusal) {
      case "budget":
        throw new LimitRefusal(402, this.overBudget(k, r, bound, v.seen), { type: "billing_error", retryable: false }, limits);
      case "tpm":
        throw this.rateLimited(k, `${r.tpm} tokens per minute`, nowMs, v.seen.windowEndMs, limits);
      case "rpm":
        throw this.rateLimited(k, `${r.rpm} requests per minute`, nowMs, v.seen.windowEndMs, limits);
      case "redis_down":
        throw new LimitRefusal(
          503,
          `the shared rate-limit and budget counters (Redis) are unreachable: requests of this API key ("${k.name}") are refused until Redis is back ([store] redis_down = "${this.redisDown}")`,
          { type: "api_error", headers: { "retry-after": "5" }, retryable: true },
          undefined,
        );
    }
  }

  /** The 402: the budget, what is spent and held, and — with a known bound — what this request needed. */
  private overBudget(k: VirtualKey, r: ReserveRequest, bound: Bound, seen: Seen): string {
    const { ticks: budget, period } = r.budget!;
    const resets = periodEnd(period, r.now);
    const when = resets ? `it resets at ${resets}` : "it does not reset (a total budget)";
    const which = period === "total" ? "total" : period === "day" ? "daily" : "monthly";
    const held = seen.heldTicks > 0 ? `, $${formatUsd(seen.heldTicks)} held by requests in flight` : "";
    const used = seen.spentTicks + seen.heldTicks;
    if (bound.ticks <= 0 || used >= budget) {
      return `this API key ("${k.name}") has used its ${which} budget of $${formatUsd(budget)} (spent $${formatUsd(seen.spentTicks)}${held}); ${when}`;
    }
    return (
      `this API key ("${k.name}") has $${formatUsd(budget - used)} left of its ${which} budget of $${formatUsd(budget)} ` +
      `(spent $${formatUsd(seen.spentTicks)}${held}), and this request may cost up to $${formatUsd(bound.ticks)} ` +
      `(its input and up to ${bound.maxOutputTokens} output tokens at the model's prices): a lower max_tokens needs less; ${when}`
    );
  }

  private rateLimited(k: VirtualKey, limit: string, nowMs: number, resetMs: number, limits: RateLimits | undefined): ApiError {
    const ms = Math.max(1, resetMs - nowMs);
    const after = Math.max(1, Math.ceil(ms / 1000));
    return new LimitRefusal(
      429,
      `this API key ("${k.name}") is over its limit of ${limit}; retry in ${after} s`,
      { type: "rate_limit_error", headers: { "retry-after": String(after), "retry-after-ms": String(ms) }, retryable: true },
      limits,
    );
  }

  /**
   * After the request (or just before its last bytes go out): the ledger row written, then the
   * admission settled and the per-key metrics. Resolves once the row is in the database (or, the
   * database failing or slow, queued for the next attempt). Never rejects.
   */
  async record(f: Finished): Promise<void> {
    await this.ledger.record({
      at: new Date().toISOString(),
      key_id: f.vkey?.id ?? null,
      model: f.model ?? null,
      upstream_model: f.upstreamModel ?? null,
      input_tokens: f.inputTokens,
      output_tokens: f.outputTokens,
      cached_tokens: f.cachedTokens,
      cost_ticks: f.costTicks,
      status: f.status,
      duration_ms: f.durationMs,
      path: f.path,
      request_id: f.requestId,
      estimated: f.estimated ? 1 : 0,
    });
    const tokens = f.inputTokens + f.outputTokens + f.cachedTokens;
    if (f.admission) f.admission.settle(f.costTicks, tokens);
    // Nothing held for it (a batch's result, billed later): its spend and tokens are added all the same.
    else if (f.vkey) this.counters.add(f.vkey.id, f.costTicks, tokens, new Date());
    if (!f.vkey) return;
    recordKeyUsage(f.vkey.name, {
      inputTokens: f.inputTokens + f.cachedTokens,
      outputTokens: f.outputTokens,
      costUsd: f.costTicks / TICKS_PER_USD,
    });
  }

  /** Shutdown: write the ledger's queue, stop the background reads, close the connections. */
  async close(): Promise<void> {
    this.keys.stop();
    await this.ledger.close();
    this.counters.close();
    await this.db.close().catch(() => {});
  }
}
