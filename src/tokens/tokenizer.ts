/**
 * The local tokenizer, run in a worker thread (src/tokens/worker.ts) that starts on
 * first use: loading its ranks would otherwise stall every open stream.
 */
import { bundledWorker } from "../workers/bundle" with { type: "macro" };
import { WorkerThread } from "../workers/thread";

const SOURCE = bundledWorker("tokens/worker.ts");

export class WorkerTokenizer {
  private readonly thread: WorkerThread<{ texts: string[] }, number>;

  constructor(onFailure: (err: unknown) => void = () => {}) {
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
    return this.thread.call({ texts }, timeoutMs);
  }

  /** Counts waiting for the thread. */
  get waiting(): number {
    return this.thread.pendingCount;
  }

  stop(): void {
    this.thread.stop();
  }
}
