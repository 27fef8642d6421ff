/**
 * Per-request context: the request id and the access-log entry being filled in.
 * Routes mark a streaming response as `deferred` and finish the entry when the stream ends.
 */
import type { AccessEntry, Logger } from "./log";

export class RequestContext {
  readonly start = performance.now();
  readonly entry: Partial<AccessEntry> = {};
  deferred = false;
  private done = false;

  constructor(
    readonly id: string,
    readonly method: string,
    readonly path: string,
    private readonly logger: Logger,
  ) {}

  finish(status: number, error?: string): void {
    if (this.done) return;
    this.done = true;
    this.logger.access({
      request_id: this.id,
      method: this.method,
      path: this.path,
      ...this.entry,
      status,
      duration_ms: Math.round((performance.now() - this.start) * 10) / 10,
      ...(error ? { error } : {}),
    });
  }
}

const contexts = new WeakMap<Request, RequestContext>();

export const setContext = (req: Request, ctx: RequestContext) => contexts.set(req, ctx);
export const contextOf = (req: Request): RequestContext | undefined => contexts.get(req);
