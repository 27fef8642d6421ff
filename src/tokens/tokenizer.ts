/**
 * The local tokenizer, run in a worker thread (src/tokens/worker.ts) that starts on
 * first use: loading its ranks would otherwise stall every open stream.
 */
import { bundledWorker } from "../workers/bundle" with { type: "macro" };
import { WorkerThread } from "../workers/thread";

const SOURCE = bundledWorker("tokens/worker.ts");

/** The thread (and the tens of MB its ranks take) is ended after this long without a count. */
export const TOKENIZER_IDLE_MS = 120_000;

export class WorkerTokenizer {
  private readonly thread: WorkerThread<{ texts: string[] }, number>;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    onFailure: (err: unknown) => void = () => {},
    private readonly idleMs = TOKENIZER_IDLE_MS,
  ) {
    this.thread = new WorkerThread("tokenizer", SOURCE, onFailure);
  }

  get started(): boolean {
    return this.thread.started;
  }

  start(): void {
    try {
      this.thread.start();
    } catch {
      // count() reports it
    }
  }

  /**
   * Tokens in all of `texts`. Starts the thread if needed; rejects if it cannot run, if
   * too many counts are waiting, or after `timeoutMs` — which ends the thread, so that a
   * count that jams it cannot hold up the ones behind (the next count starts a new one).
   */
  count(texts: string[], timeoutMs = 0): Promise<number> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const p = this.thread.call({ texts }, timeoutMs);
    const rest = () => this.restLater();
    p.then(rest, rest);
    return p;
  }

  /** Once nothing is waiting, end the thread after idleMs unless a count comes first. */
  private restLater(): void {
    if (this.thread.pendingCount > 0 || this.idleMs <= 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.thread.close(), this.idleMs);
    this.idleTimer.unref();
  }

  /** Counts waiting for the thread. */
  get waiting(): number {
    return this.thread.pendingCount;
  }

  stop(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.thread.stop();
  }
}
