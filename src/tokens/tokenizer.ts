/**
 * The local tokenizer, run in a worker thread (src/tokens/worker.ts) that starts on
 * first use: loading its ranks would otherwise stall every open stream.
 * The compiled binary carries the worker as a second entry point (see `npm run build`).
 */

/**
 * Where the worker's module is: beside this file when running from source; in the
 * compiled binary everything is bundled into one module at the root of its virtual
 * file system, with the worker kept at its path relative to `src/`.
 */
function workerUrl(): string {
  const fromSource = import.meta.url.endsWith("/tokens/tokenizer.ts");
  return new URL(fromSource ? "./worker.ts" : "./tokens/worker.ts", import.meta.url).href;
}

type Pending = { resolve: (n: number) => void; reject: (e: Error) => void };

export class WorkerTokenizer {
  private worker: Worker | null = null;
  private failure: Error | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly onFailure: (err: unknown) => void = () => {}) {}

  get started(): boolean {
    return this.worker !== null || this.failure !== null;
  }

  start(): void {
    if (this.started) return;
    try {
      const worker = new Worker(workerUrl());
      worker.onmessage = (e: MessageEvent<{ id: number; total?: number; error?: string }>) => {
        const p = this.pending.get(e.data.id);
        if (!p) return;
        this.pending.delete(e.data.id);
        if (e.data.error !== undefined) p.reject(new Error(e.data.error));
        else p.resolve(e.data.total ?? 0);
      };
      worker.onerror = (e) => this.fail(new Error(`tokenizer thread failed: ${e.message}`));
      worker.unref(); // never keeps the process alive
      this.worker = worker;
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Tokens in all of `texts`. Starts the thread if needed; rejects if it cannot run. */
  count(texts: string[]): Promise<number> {
    this.start();
    if (this.failure || !this.worker) return Promise.reject(this.failure ?? new Error("tokenizer unavailable"));
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ id, texts });
    });
  }

  stop(): void {
    this.fail(new Error("tokenizer stopped"), false);
  }

  private fail(err: Error, report = true): void {
    if (!this.failure && report) this.onFailure(err);
    this.failure = err;
    this.worker?.terminate();
    this.worker = null;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
