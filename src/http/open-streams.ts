/**
 * The streams one server is sending right now, so that stopping it ends each
 * with an error event (`event: error` on /v1/messages, the OpenAI error event on
 * relayed chat streams) instead of cutting it silently: when the shutdown grace
 * is over, or at a second SIGTERM, every stream's upstream is aborted with
 * ShuttingDown as the reason, which its route sends as the stream's last event.
 */
import { ApiError } from "./errors";

export class ShuttingDown extends ApiError {
  constructor() {
    super(503, "the server is shutting down: this stream was ended before it was complete; retry the request", {
      type: "overloaded_error",
    });
    this.name = "ShuttingDown";
  }
}

export class OpenStreams {
  private readonly open = new Set<AbortController>();
  private emptied: (() => void) | undefined;

  get size(): number {
    return this.open.size;
  }

  /** Registers a stream by its upstream's AbortController; call the returned function when it ends. */
  add(abort: AbortController): () => void {
    this.open.add(abort);
    return () => {
      this.open.delete(abort);
      if (this.open.size === 0) this.emptied?.();
    };
  }

  /** Ends every open stream with ShuttingDown; resolves once all have ended, or after `waitMs`. */
  async cutAll(waitMs: number): Promise<number> {
    const n = this.open.size;
    if (n === 0) return 0;
    const reason = new ShuttingDown();
    for (const abort of [...this.open]) abort.abort(reason);
    if (this.open.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.emptied = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.emptied = undefined;
    }
    return n;
  }
}
