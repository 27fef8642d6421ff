/** Backoff between attempts, and a sleep that a client disconnect cuts short. */

/**
 * Exponential backoff with jitter: the n-th retry (0-based) waits between half
 * and all of `initial · 2^n`, capped at `max`. The spread keeps many clients
 * that failed together from coming back together.
 */
export function backoffMs(retry: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(retry, 30));
  return cap / 2 + random() * (cap / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, clampDelay(ms));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Timers take at most 2^31-1 ms; 0 or less means "no timeout" to callers, not here. */
export function clampDelay(ms: number): number {
  return Math.min(Math.max(0, ms), 2_147_483_647);
}
