/**
 * Per-request context: the request id and the access-log entry being filled in.
 * Routes mark a streaming response as `deferred` and finish the entry when the stream ends.
 * `finish` is the one place a request is accounted for: the access log line and the metrics.
 */
import { recordRequest, streamClosed, streamOpened } from "../metrics";
import type { AccessEntry, Logger } from "./log";
import type { OpenStreams } from "./open-streams";

export class RequestContext {
  readonly start = performance.now();
  readonly entry: Partial<AccessEntry> = {};
  /** The route pattern that matched (set by the app before the handler runs); "" = none. */
  route = "";
  private streaming = false;
  private firstTokenMs: number | undefined;
  private done = false;
  private unregister: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly method: string,
    readonly path: string,
    private readonly logger: Logger,
    /** The server's open streams, told when it stops (see open-streams.ts). */
    private readonly streams?: OpenStreams,
  ) {}

  /** A stream being sent: stopping the server aborts `upstream` with ShuttingDown until `finish`. */
  endOnShutdown(upstream: AbortController): void {
    if (!this.done && !this.unregister && this.streams) this.unregister = this.streams.add(upstream);
  }

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

  finish(status: number, error?: string): void {
    if (this.done) return;
    this.done = true;
    this.deferred = false;
    this.unregister?.();
    const duration_ms = Math.round((performance.now() - this.start) * 10) / 10;
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
export function logged<C extends { request: Request }>(fn: (c: C, rc: RequestContext) => Response | Promise<Response>) {
  return async (c: C): Promise<Response> => {
    const rc = contextOf(c.request)!;
    const res = await fn(c, rc);
    if (!rc.deferred) rc.finish(res.status);
    return res;
  };
}
