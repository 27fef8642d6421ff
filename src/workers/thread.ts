/**
 * A worker thread started on first use from bundled source (bundle.ts), answering
 * `{ id, ...request }` with `{ id, result }` or `{ id, error }`. Work that would
 * stall every open stream (loading a tokenizer, parsing a PDF) runs here instead.
 * A request that takes too long ends the thread; the next request starts a new one.
 */

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> | undefined };

export class WorkerThread<Req extends object, Res> {
  private worker: Worker | null = null;
  private url: string | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly source: string,
    private readonly onFailure: (err: Error) => void = () => {},
    /** Requests waiting at most; past it a call is refused at once (the caller has a fallback). */
    private readonly maxPending = 64,
    /** When set, the thread is ended after this long without work (its memory goes back); the next call starts a new one. */
    private readonly idleMs?: number,
  ) {}

  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  /** After a call: when nothing is pending, the thread rests for idleMs, then ends. */
  private restLater(): void {
    if (this.idleMs === undefined || this.pending.size > 0 || this.stopped) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), this.idleMs);
    this.idleTimer.unref();
  }

  /** Requests sent and not yet answered. */
  get pendingCount(): number {
    return this.pending.size;
  }

  get started(): boolean {
    return this.worker !== null;
  }

  start(): void {
    if (this.worker || this.stopped) return;
    this.url ??= URL.createObjectURL(new Blob([this.source], { type: "text/javascript" }));
    const worker = new Worker(this.url);
    worker.onmessage = (e: MessageEvent<{ id: number; result?: unknown; error?: string }>) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      this.pending.delete(e.data.id);
      if (p.timer) clearTimeout(p.timer);
      if (e.data.error !== undefined) p.reject(new Error(e.data.error));
      else p.resolve(e.data.result);
    };
    worker.onerror = (e) => this.end(new Error(`${this.name} thread failed: ${e.message}`), true);
    worker.unref(); // never keeps the process alive
    this.worker = worker;
  }

  /** Send one request; rejects on the thread's error, its failure, or after `timeoutMs` (which ends the thread). */
  call(request: Req, timeoutMs = 0, transfer: Bun.Transferable[] = []): Promise<Res> {
    if (this.stopped) return Promise.reject(new Error(`${this.name} thread stopped`));
    if (this.pending.size >= this.maxPending) return Promise.reject(new Error(`${this.name} is busy (${this.maxPending} requests waiting)`));
    try {
      this.start();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const id = this.nextId++;
    const answer = new Promise<Res>((resolve, reject) => {
      const timer =
        timeoutMs > 0 ? setTimeout(() => this.end(new Error(`${this.name} took longer than ${timeoutMs} ms`), false), timeoutMs) : undefined;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.worker!.postMessage({ id, ...request }, transfer);
    });
    const rest = () => this.restLater();
    answer.then(rest, rest);
    return answer;
  }

  /** End the thread now if it has nothing to do (its memory goes back); a later call starts a new one. */
  close(): boolean {
    if (!this.worker || this.pending.size > 0) return false;
    this.worker.terminate();
    this.worker = null;
    return true;
  }

  stop(): void {
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.end(new Error(`${this.name} thread stopped`), false);
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }

  /** Ends the thread and fails what is pending; a later call starts a fresh thread. */
  private end(err: Error, report: boolean): void {
    if (report) this.onFailure(err);
    this.worker?.terminate();
    this.worker = null;
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
