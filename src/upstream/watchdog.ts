/**
 * One timer per open upstream response, for three jobs:
 * - idle: the upstream sent nothing for `idleMs` → abort it with a timeout error;
 * - total: the request's deadline passed → abort it with a timeout error;
 * - keep-alive: the client got nothing for `pingMs` → call `onPing`.
 * The hot path only stores a timestamp (`touch`, `sent`); the timer re-arms
 * itself when it fires, so no timer is created per chunk.
 */
import { clampDelay } from "./backoff";
import { timeoutError, type UpstreamError } from "./errors";

export interface WatchdogOptions {
  /** 0 or less: no idle limit. */
  idleMs: number;
  /** Absolute deadline on the `performance.now()` clock; Infinity for none. */
  deadline: number;
  /** Stops the upstream; the error becomes the reason its body reads reject with. */
  abort: (reason: UpstreamError) => void;
}

export class Watchdog {
  private lastUpstream = performance.now();
  private lastClient = this.lastUpstream;
  private pingMs = 0;
  private onPing: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly opts: WatchdogOptions) {
    this.arm();
  }

  /** The upstream sent something. */
  touch(): void {
    this.lastUpstream = performance.now();
  }

  /** The client was sent something. */
  sent(): void {
    this.lastClient = performance.now();
  }

  /** Call `onPing` whenever the client has had nothing for `ms` (0: never). */
  keepAlive(ms: number, onPing: () => void): void {
    this.pingMs = ms > 0 ? ms : 0;
    this.onPing = onPing;
    this.lastClient = performance.now();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private nextDue(): number {
    let due = this.opts.deadline;
    if (this.opts.idleMs > 0) due = Math.min(due, this.lastUpstream + this.opts.idleMs);
    if (this.pingMs > 0) due = Math.min(due, this.lastClient + this.pingMs);
    return due;
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const due = this.nextDue();
    if (due === Infinity) return;
    this.timer = setTimeout(this.check, clampDelay(Math.ceil(due - performance.now())));
  }

  private readonly check = () => {
    this.timer = null;
    if (this.stopped) return;
    const now = performance.now();
    if (now >= this.opts.deadline) {
      this.stop();
      this.opts.abort(timeoutError("the request took longer than the total timeout"));
      return;
    }
    if (this.opts.idleMs > 0 && now - this.lastUpstream >= this.opts.idleMs) {
      this.stop();
      this.opts.abort(timeoutError(`it sent nothing for ${Math.round(this.opts.idleMs / 100) / 10} s`));
      return;
    }
    if (this.pingMs > 0 && now - this.lastClient >= this.pingMs) {
      this.lastClient = now;
      this.onPing?.();
    }
    this.arm();
  };
}
