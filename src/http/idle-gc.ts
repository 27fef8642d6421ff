/**
 * Memory back to the system once traffic stops: a burst of requests leaves the heap
 * (and the JIT's code) larger than the gateway needs while idle, and JavaScriptCore
 * keeps it. When no request has arrived for a moment and none is in flight, one full
 * collection runs and the heap is asked to shrink — once per quiet spell, never while
 * requests are being served.
 */
const TICK_MS = 250;
/** Quiet for this long after the last request before collecting. */
const QUIET_MS = 250;

export interface IdleCollector {
  /** Call on every request. */
  touch(): void;
  stop(): void;
}

export function idleCollector(inFlight: () => number, now: () => number = () => performance.now()): IdleCollector {
  let last = 0;
  let collected = true;
  const timer = setInterval(() => {
    if (collected || inFlight() > 0 || now() - last < QUIET_MS) return;
    collected = true;
    Bun.gc(true);
    // Deprecated in the types, still the one call that returns the heap's free pages.
    const shrink = (Bun as unknown as { shrink?: () => void }).shrink;
    if (typeof shrink === "function") shrink();
  }, TICK_MS);
  timer.unref();
  return {
    touch() {
      last = now();
      collected = false;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
