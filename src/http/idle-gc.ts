/**
 * Memory back to the system once traffic stops: a burst of requests leaves the heap
 * (and the JIT's code) larger than the gateway needs while idle, and JavaScriptCore
 * keeps it. When no request has arrived for a moment and none is in flight — on any
 * server of the process — one full collection runs and the heap is asked to shrink:
 * once per quiet spell, never while a request is being served (a full collection
 * stops the whole process for a moment).
 */
const TICK_MS = 250;
/** Quiet for this long after the last request before collecting. */
const QUIET_MS = 250;

const servers = new Set<() => number>();
let last = 0;
let collected = true;
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  if (collected || performance.now() - last < QUIET_MS) return;
  for (const inFlight of servers) if (inFlight() > 0) return;
  collected = true;
  Bun.gc(true);
  // Deprecated in the types, still the one call that returns the heap's free pages.
  const shrink = (Bun as unknown as { shrink?: () => void }).shrink;
  if (typeof shrink === "function") shrink();
}

export interface IdleCollector {
  /** Call on every request. */
  touch(): void;
  stop(): void;
}

/** Watch one server (`inFlight`: its requests being served); stop() when it closes. */
export function idleCollector(inFlight: () => number): IdleCollector {
  servers.add(inFlight);
  if (!timer) {
    timer = setInterval(tick, TICK_MS);
    timer.unref();
  }
  return {
    touch() {
      last = performance.now();
      collected = false;
    },
    stop() {
      servers.delete(inFlight);
      if (servers.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    },
  };
}
