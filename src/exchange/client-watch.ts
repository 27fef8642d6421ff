/**
 * The client's side of an upstream exchange: the upstream request's AbortController, and what
 * happens when the client goes away. The upstream is not dropped at once: it is read on for a
 * short while (`drainMs`, at most `drainBytes`) so that its final usage — what the upstream
 * bills — is seen and charged; then it is aborted (in Bun, only abort() closes the socket).
 * With `drainMs` 0 it is aborted at once, and the request is charged what was counted.
 */

export interface DrainPolicy {
  /** How long the upstream is read on after the client went; 0: abort at once. */
  ms: number;
  /** How many bytes it may send meanwhile before it is aborted anyway. */
  bytes: number;
}

/** The reason an upstream request is aborted once the client is gone (and the drain is over). */
export class ClientGone extends Error {
  constructor() {
    super("the client closed the request");
    this.name = "ClientGone";
  }
}

export class ClientWatch {
  /** Aborts the upstream request. */
  readonly abort = new AbortController();
  private goneAt: number | undefined;
  private drained = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = () => this.gone();
  private listeners: Array<() => void> = [];

  constructor(
    private readonly request: Request,
    private readonly drain: DrainPolicy,
  ) {
    request.signal.addEventListener("abort", this.onAbort, { once: true });
    if (request.signal.aborted) this.gone(); // gone already, before we listened
  }

  /** The client went away (nothing more is written to it). */
  get isGone(): boolean {
    return this.goneAt !== undefined;
  }

  /** The client is gone: the upstream is read on within the drain policy, then aborted. Idempotent. */
  gone(): void {
    if (this.goneAt !== undefined) return;
    this.goneAt = performance.now();
    if (this.drain.ms <= 0 || this.abort.signal.aborted) this.stop();
    else this.timer = setTimeout(() => this.stop(), this.drain.ms);
    const listeners = this.listeners;
    this.listeners = [];
    for (const f of listeners) f();
  }

  /** Calls `f` once when the client goes (at once if it has). */
  onGone(f: () => void): void {
    if (this.goneAt !== undefined) f();
    else this.listeners.push(f);
  }

  /** Bytes read from the upstream; past the drain's byte bound once the client is gone, the upstream is stopped. */
  read(n: number): void {
    if (this.goneAt === undefined) return;
    this.drained += n;
    if (this.drained > this.drain.bytes) this.stop();
  }

  /** Stops the upstream now (the client is gone and the drain is over, or the answer is not needed). */
  stop(reason: unknown = new ClientGone()): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.abort.signal.aborted) this.abort.abort(reason);
  }

  /** The exchange is over: no more listening, no timer left behind. */
  release(): void {
    this.listeners = [];
    this.request.signal.removeEventListener("abort", this.onAbort);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
