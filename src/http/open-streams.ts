/**
 * The streams one server is sending right now, so that they can be ended with an error
 * event (`event: error` on /v1/messages, the OpenAI error event on relayed streams) instead
 * of being cut silently:
 * - when the server stops (the shutdown grace is over, or a second SIGTERM): every stream,
 *   with ShuttingDown;
 * - when the virtual key a stream was made with is withdrawn (revoked, expired, gone —
 *   here or on another instance sharing the store): its streams, with the reason.
 * Each stream's upstream is aborted with a StreamEnded as the reason, which its route sends
 * as the stream's last event.
 */
import { ApiError, type AnthropicErrorType } from "./errors";

/** Why the gateway itself ended a stream: sent to the client as the stream's last event. */
export class StreamEnded extends ApiError {
  constructor(
    status: number,
    message: string,
    type: AnthropicErrorType,
    /** The `error` of the request's access-log line. */
    readonly logAs: string,
  ) {
    super(status, message, { type });
    this.name = "StreamEnded";
  }
}

export class ShuttingDown extends StreamEnded {
  constructor() {
    super(503, "the server is shutting down: this stream was ended before it was complete; retry the request", "overloaded_error", "shutting_down");
    this.name = "ShuttingDown";
  }
}

/** The stream's virtual key may no longer be used: `why` (401 authentication_error) says why. */
export class KeyWithdrawn extends StreamEnded {
  constructor(why: ApiError) {
    super(why.status, `${why.message}: this stream was ended`, why.type, "key_withdrawn");
    this.name = "KeyWithdrawn";
  }
}

/** An open stream as the admin API lists it (never its key). */
export interface StreamInfo {
  request_id: string;
  key_id: string | null;
  key_name: string | null;
  model: string | null;
  path: string;
  started_at: string;
}

export class OpenStreams {
  /** What the admin API lists: each open stream's description, by request id. */
  private readonly listed = new Map<string, { describe: () => Omit<StreamInfo, "request_id" | "started_at">; startedAt: string }>();

  /** Lists a stream (a RequestContext describes itself); call the returned function when it ends. */
  list(requestId: string, describe: () => Omit<StreamInfo, "request_id" | "started_at">): () => void {
    this.listed.set(requestId, { describe, startedAt: new Date().toISOString() });
    return () => void this.listed.delete(requestId);
  }

  /** The streams open now, oldest first. */
  listing(): StreamInfo[] {
    return [...this.listed].map(([request_id, { describe, startedAt }]) => ({ request_id, ...describe(), started_at: startedAt }));
  }

  /** Each stream's upstream AbortController, and the id of the virtual key it was made with. */
  private readonly open = new Map<AbortController, string | undefined>();
  private emptied: (() => void) | undefined;

  get size(): number {
    return this.open.size;
  }

  /** Registers a stream by its upstream's AbortController; call the returned function when it ends. */
  add(abort: AbortController, keyId?: string): () => void {
    this.open.set(abort, keyId);
    return () => {
      this.open.delete(abort);
      if (this.open.size === 0) this.emptied?.();
    };
  }

  /** Ends every stream of a virtual key that `withdrawn` gives a reason for; returns how many. */
  endWithdrawn(withdrawn: (keyId: string) => ApiError | undefined): number {
    let n = 0;
    const reasons = new Map<string, ApiError | undefined>();
    for (const [abort, keyId] of [...this.open]) {
      if (keyId === undefined || abort.signal.aborted) continue;
      if (!reasons.has(keyId)) reasons.set(keyId, withdrawn(keyId));
      const why = reasons.get(keyId);
      if (!why) continue;
      abort.abort(new KeyWithdrawn(why));
      n++;
    }
    return n;
  }

  /** Ends every open stream with ShuttingDown; resolves once all have ended, or after `waitMs`. */
  async cutAll(waitMs: number): Promise<number> {
    const n = this.open.size;
    if (n === 0) return 0;
    const reason = new ShuttingDown();
    for (const abort of [...this.open.keys()]) abort.abort(reason);
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
