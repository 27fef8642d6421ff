/**
 * Per-request context: the request id and the access-log entry being filled in.
 * Routes mark a streaming response as `deferred` and finish the entry when the stream ends.
 * `finish` is the one place a request is accounted for: the access log line and the metrics.
 * `commit`, called just before an answer's last bytes, writes its ledger row and settles its
 * admission first (finish does it for a request that did not).
 */
import { recordRequest, streamClosed, streamOpened } from "../metrics";
import { formatUsd, TICKS_PER_USD, type Pricer } from "../models/pricing";
import type { Admission } from "../teams/teams";
import { rateLimitHeaders, type Face, type RateLimits } from "../teams/rate-headers";
import type { AccessEntry, Logger } from "./log";
import type { OpenStreams } from "./open-streams";
import type { RequestTrace } from "../telemetry/tracing";
import { NO_SECRETS, type Secrets } from "../redact";

/** Who made a request with a virtual key (set by authentication). */
export interface KeyIdentity {
  id: string;
  name: string;
}

/** What a request amounted to, handed to the recording hook when it ends. */
export interface FinishedRequest {
  rc: RequestContext;
  status: number;
  durationMs: number;
  /** The cost in ticks, when the upstream or the catalog's prices say. */
  costTicks: number | undefined;
}


export class RequestContext {
  readonly start = performance.now();
  readonly entry: Partial<AccessEntry> = {};
  /** The route pattern that matched (set by the app before the handler runs); "" = none. */
  route = "";
  private streaming = false;
  private firstTokenMs: number | undefined;
  private done = false;
  /** Prices the request from its entry (set by `logged` for routes that call the upstream). */
  pricer: Pricer | undefined;
  /** The virtual key the request was made with, if any. */
  key: KeyIdentity | undefined;
  /**
   * Records the request (the ledger row, its admission settled), once: at `commit`, or when it
   * ends, after it is logged, if it was admitted. Resolves once the row is written.
   */
  onFinish: ((f: FinishedRequest) => void | Promise<void>) | undefined;
  /** Called once when the request ends, whatever it was (the server gives a stream's connection back its idle timer). */
  afterFinish: (() => void) | undefined;
  /** Set when the request passed its key's limits and went on to the upstream: only those are recorded. */
  admitted = false;
  /** A virtual key's admission: what the request holds of the key's budget and limits until it is settled. */
  admission: Admission | undefined;
  /** The virtual key's own rate limits as they stand (admitted or refused), for the response headers. */
  rateLimits: RateLimits | undefined;
  /** The upstream's own `x-ratelimit-*` figures, passed on where no limit of the key applies. */
  upstreamLimits: RateLimits | undefined;
  /** The request recorded (commit, or finish): once. */
  private recorded: Promise<void> | undefined;
  /** The request's trace, when tracing is on (src/telemetry/tracing.ts). */
  trace: RequestTrace | undefined;
  /** What no text leaving for this request may show: the configuration's secrets, and the request's own. */
  secrets: Secrets = NO_SECRETS;
  private unregister: (() => void) | undefined;
  /** Takes the stream off the server's list of open streams (the admin API's). */
  private unlist: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly method: string,
    readonly path: string,
    private readonly logger: Logger,
    /** The server's open streams, told when it stops (see open-streams.ts). */
    private readonly streams?: OpenStreams,
  ) {}

  /**
   * A stream being sent: until `finish`, stopping the server aborts `upstream` with ShuttingDown,
   * and withdrawing the stream's virtual key aborts it with KeyWithdrawn (open-streams.ts).
   */
  endOnShutdown(upstream: AbortController): void {
    if (!this.done && !this.unregister && this.streams) this.unregister = this.streams.add(upstream, this.key?.id);
  }

  /** True while a streamed response is open; it counts in the open-streams gauge until `finish`. */
  get deferred(): boolean {
    return this.streaming;
  }
  set deferred(on: boolean) {
    if (on && !this.streaming && !this.done) {
      streamOpened();
      this.unlist = this.streams?.list(this.id, () => ({
        key_id: this.key?.id ?? null,
        key_name: this.key?.name ?? null,
        model: this.entry.model ?? null,
        path: this.path,
      }));
    } else if (!on && this.streaming) {
      streamClosed();
      this.unlist?.();
      this.unlist = undefined;
    }
    this.streaming = on;
  }

  /** Call on every batch of streamed events; only the first call records the time to first token. */
  firstToken(): void {
    if (this.firstTokenMs === undefined) this.firstTokenMs = Math.round((performance.now() - this.start) * 10) / 10;
  }

  /** The request's cost in ticks so far, when the upstream or the catalog's prices say. */
  costTicks(): number | undefined {
    const e = this.entry;
    if (!this.pricer || (e.input_tokens === undefined && e.output_tokens === undefined && e.cost_ticks === undefined)) return undefined;
    return this.pricer(e.upstream_model ?? e.model, e);
  }

  /** The response headers of the rate limits that apply (the key's own, else the upstream's). */
  rateLimitHeaders(face: Face): Array<[string, string]> {
    if (!this.rateLimits && !this.upstreamLimits) return [];
    return rateLimitHeaders(this.rateLimits, this.upstreamLimits, face, Date.now());
  }

  /**
   * Just before the answer's last bytes go out: the ledger row written (a crash after this
   * loses nothing the client received) and the admission settled, from the usage in the entry.
   * Once; `finish` then records nothing more. Never rejects.
   */
  commit(status = 200, priced?: number): Promise<void> {
    this.recorded ??= this.record(status, this.elapsed(), priced ?? this.costTicks());
    return this.recorded;
  }

  private elapsed(): number {
    return Math.round((performance.now() - this.start) * 10) / 10;
  }

  private record(status: number, durationMs: number, ticks: number | undefined): Promise<void> {
    if (!this.admitted || !this.onFinish) {
      // Not recorded (a batch's creation: its requests are charged as they run): what it held is given back.
      this.admission?.settle(0, 0);
      return Promise.resolve();
    }
    const failed = (e: unknown) => this.logger.error("recording the request failed", { request_id: this.id, error: String(e) });
    try {
      const r = this.onFinish({ rc: this, status, durationMs, costTicks: ticks });
      return r ? r.catch(failed) : Promise.resolve();
    } catch (e) {
      failed(e);
      return Promise.resolve();
    }
  }

  /** `priced`: the cost in ticks when the caller has just priced the request (`logged`), so it is not priced twice. */
  finish(status: number, error?: string, priced?: number): void {
    if (this.done) return;
    this.done = true;
    this.deferred = false;
    this.unregister?.();
    const duration_ms = this.elapsed();
    const ticks = priced ?? this.costTicks();
    // ticks / TICKS_PER_USD is the double nearest the exact decimal, as Number(formatUsd(ticks)) is.
    if (ticks !== undefined) this.entry.cost_usd = Number.isSafeInteger(ticks) ? ticks / TICKS_PER_USD : Number(formatUsd(ticks));
    this.logger.access({
      request_id: this.id,
      method: this.method,
      path: this.path,
      ...this.entry,
      status,
      duration_ms,
      ...(this.firstTokenMs !== undefined ? { ttft_ms: this.firstTokenMs } : {}),
      ...(error ? { error } : {}),
    });
    this.trace?.end(this.entry, status, error, this.key?.id);
    recordRequest({
      route: this.route || "unmatched",
      method: this.method,
      status,
      durationMs: duration_ms,
      model: this.entry.upstream_model ?? this.entry.model,
      stream: this.entry.stream,
      ttftMs: this.firstTokenMs,
      inputTokens: this.entry.input_tokens,
      outputTokens: this.entry.output_tokens,
      costUsd: ticks === undefined ? undefined : ticks / TICKS_PER_USD,
    });
    this.recorded ??= this.record(status, duration_ms, ticks);
    try {
      this.afterFinish?.();
    } catch {
      // the connection is gone already
    }
  }
}

const contexts = new WeakMap<Request, RequestContext>();

export const setContext = (req: Request, ctx: RequestContext) => contexts.set(req, ctx);
export const contextOf = (req: Request): RequestContext | undefined => contexts.get(req);

/**
 * Wraps a route handler so its request is logged when it answers: the access-log
 * entry is finished with the response's status, unless the handler deferred it (a
 * stream finishes its own entry when it ends). Errors are logged by the error hook.
 */
export function logged<C extends { request: Request }>(fn: (c: C, rc: RequestContext) => Response | Promise<Response>, pricer?: Pricer) {
  // Destructured on purpose: Elysia reads from a handler's source which parts of the context
  // it takes, and a handler taking the whole context has the headers, query and cookies
  // parsed into objects on every request (~5 µs). The routes use only these two.
  return async ({ request, params }: C & { params?: unknown }): Promise<Response> => {
    const rc = contextOf(request)!;
    rc.pricer = pricer;
    const res = await fn({ request, params } as unknown as C, rc);
    if (!rc.deferred) {
      // A whole answer: its cost goes in a header too (a stream's is only known at its end: the log has it).
      if (res.ok) {
        const ticks = rc.costTicks();
        if (ticks !== undefined) res.headers.set("grok2api-cost-usd", formatUsd(ticks));
        // Its ledger row is written before it goes out.
        await rc.commit(res.status, ticks);
        rc.finish(res.status, undefined, ticks);
      } else {
        rc.finish(res.status);
        // Recorded (and its hold given back) before the client hears of the failure.
        await rc.commit(res.status);
      }
    }
    return res;
  };
}
