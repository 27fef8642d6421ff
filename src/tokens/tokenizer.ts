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

  /** Tokens in all of `texts`. Starts the thread if needed; rejects if it cannot run. */
  count(texts: string[]): Promise<number> {
    return this.thread.call({ texts });
  }

  stop(): void {
    this.thread.stop();
  }
}
