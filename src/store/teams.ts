/**
 * Teams: the store (ledger and virtual keys), the counters, and the rules a
 * virtual key's request passes before the upstream is called — and what is
 * recorded after, from the real usage.
 *
 *   identify(secret)  which virtual key, or a 401 (unknown, revoked, expired)
 *   admit(rc)         403 model not allowed, 402 over budget, 429 over rpm/tpm
 *   record(rc, …)     the ledger row, the counters, the per-key metrics
 */
import type { Logger } from "../http/log";
import { ApiError } from "../http/errors";
import { recordKeyUsage } from "../metrics";
import { formatUsd, TICKS_PER_USD } from "../models/pricing";
import { MemoryCounters, RedisCounters, type Counters } from "./counters";
import { openDatabase, type Database } from "./db";
import { allowsModel, KeyStore, KEYS_REFRESH_MS, type VirtualKey } from "./keys";
import { Ledger } from "./ledger";
import { periodEnd, periodStart, secondsLeftInWindow } from "./periods";

export interface StoreConfig {
  url: string;
  redisUrl?: string;
}

/** What the request context hands over when a request ends. */
export interface Finished {
  requestId: string;
  path: string;
  vkey: VirtualKey | undefined;
  model: string | undefined;
  upstreamModel: string | undefined;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costTicks: number;
  status: number;
  durationMs: number;
}

const unauthorized = (message: string) => new ApiError(401, message, { retryable: false });

export class Teams {
  private constructor(
    readonly db: Database,
    readonly keys: KeyStore,
    readonly ledger: Ledger,
    readonly counters: Counters,
    private readonly logger: Logger,
  ) {}

  static async open(config: StoreConfig, logger: Logger, opts: { flushMs?: number; refreshMs?: number } = {}): Promise<Teams> {
    const db = await openDatabase(config.url);
    const ledger = new Ledger(db, logger, opts.flushMs ?? 1000);
    const keys = new KeyStore(db, logger, opts.refreshMs ?? KEYS_REFRESH_MS);
    await keys.ready;
    const seed = (keyId: string, period: "day" | "month" | "total", now: Date) => ledger.spentSince(keyId, periodStart(period, now));
    const counters = config.redisUrl ? new RedisCounters(config.redisUrl, seed, logger) : new MemoryCounters(seed);
    return new Teams(db, keys, ledger, counters, logger);
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
   * The limits a virtual key's request must pass before the upstream is called. Synchronous when
   * the counters are in memory (the hot path); a promise when they are in Redis or being seeded.
   */
  admit(k: VirtualKey, upstreamModel: string): void | Promise<void> {
    if (!allowsModel(k, upstreamModel)) {
      throw new ApiError(403, `this API key ("${k.name}") may not use the model ${upstreamModel}`, { type: "permission_error", retryable: false });
    }
    const now = new Date();
    const steps = [this.checkBudget, this.checkTpm, this.checkRpm];
    const next = (i: number): void | Promise<void> => {
      for (; i < steps.length; i++) {
        const r = steps[i]!.call(this, k, now);
        if (r instanceof Promise) return r.then(() => next(i + 1));
      }
    };
    return next(0);
  }

  private checkBudget(k: VirtualKey, now: Date): void | Promise<void> {
    if (k.budget_usd === null) return;
    const budget = Math.round(k.budget_usd * TICKS_PER_USD);
    const period = k.budget_period ?? "month";
    const judge = (spent: number) => {
      if (spent < budget) return;
      const resets = periodEnd(period, now);
      const when = resets ? `it resets at ${resets}` : "it does not reset (a total budget)";
      const which = period === "total" ? "total" : period === "day" ? "daily" : "monthly";
      throw new ApiError(402, `this API key ("${k.name}") has used its ${which} budget of $${formatUsd(budget)} (spent $${formatUsd(spent)}); ${when}`, {
        type: "billing_error",
        retryable: false,
      });
    };
    const spent = this.counters.spent(k.id, period, now);
    return spent instanceof Promise ? spent.then(judge) : judge(spent);
  }

  private checkTpm(k: VirtualKey, now: Date): void | Promise<void> {
    if (k.tpm === null) return;
    const tpm = k.tpm;
    const nowMs = now.getTime();
    const judge = (used: number) => {
      if (used >= tpm) throw this.rateLimited(k, `${tpm} tokens per minute`, nowMs);
    };
    const used = this.counters.tokensThisMinute(k.id, nowMs);
    return used instanceof Promise ? used.then(judge) : judge(used);
  }

  private checkRpm(k: VirtualKey, now: Date): void | Promise<void> {
    if (k.rpm === null) return;
    const rpm = k.rpm;
    const nowMs = now.getTime();
    const judge = (n: number) => {
      if (n > rpm) throw this.rateLimited(k, `${rpm} requests per minute`, nowMs);
    };
    const n = this.counters.hitRequest(k.id, nowMs);
    return n instanceof Promise ? n.then(judge) : judge(n);
  }

  private rateLimited(k: VirtualKey, limit: string, nowMs: number): ApiError {
    const after = secondsLeftInWindow(nowMs);
    return new ApiError(429, `this API key ("${k.name}") is over its limit of ${limit}; retry in ${after} s`, {
      type: "rate_limit_error",
      headers: { "retry-after": String(after) },
      retryable: true,
    });
  }

  /** After the request: the ledger row, the key's counters and metrics. Never throws. */
  record(f: Finished): void {
    const now = new Date();
    this.ledger.record({
      at: now.toISOString(),
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
    });
    if (!f.vkey) return;
    const tokens = f.inputTokens + f.outputTokens + f.cachedTokens;
    if (tokens > 0) this.counters.addTokens(f.vkey.id, tokens, now.getTime());
    if (f.costTicks > 0) this.counters.addSpend(f.vkey.id, f.costTicks, now);
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
