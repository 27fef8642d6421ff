/**
 * Per-request context: the request id and the access-log entry being filled in.
 * Routes mark a streaming response as `deferred` and finish the entry when the stream ends.
 * `finish` is the one place a request is accounted for: the access log line and the metrics.
 */
import { recordRequest, streamClosed, streamOpened } from "../metrics";
import { formatUsd, TICKS_PER_USD, type Pricer } from "../models/pricing";
import type { AccessEntry, Logger } from "./log";

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

  constructor(
    readonly id: string,
    readonly method: string,
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  /** True while a streamed response is open; it counts in the open-streams gauge until `finish`. */
  get deferred(): boolean {
    return this.streaming;
  }
  set deferred(on: boolean) {
    if (on && !this.streaming && !this.done) streamOpened();
    else if (!on && this.streaming) streamClosed();
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

  finish(status: number, error?: string): void {
    if (this.done) return;
    this.done = true;
    this.deferred = false;
    const duration_ms = Math.round((performance.now() - this.start) * 10) / 10;
    const ticks = this.costTicks();
    if (ticks !== undefined) this.entry.cost_usd = Number(formatUsd(ticks));
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
  return async (c: C): Promise<Response> => {
    const rc = contextOf(c.request)!;
    rc.pricer = pricer;
    const res = await fn(c, rc);
    if (!rc.deferred) {
      // A whole answer: its cost goes in a header too (a stream's is only known at its end: the log has it).
      const ticks = res.ok ? rc.costTicks() : undefined;
      if (ticks !== undefined) res.headers.set("grok2api-cost-usd", formatUsd(ticks));
      rc.finish(res.status);
    }
    return res;
  };
}
