/**
 * Memory back to the system once traffic stops: a burst of requests leaves the heap
 * (and the JIT's code) larger than the gateway needs while idle, and JavaScriptCore
 * keeps it. When no request has arrived for a moment and none is in flight — on any
 * server of the process — one full collection runs and the heap is asked to shrink:
 * once per quiet spell, never while a request is being served. The collection runs
 * concurrently (`Bun.gc(false)`: pauses of a few ms), and the heap is asked to shrink on the
 * next few ticks while the spell lasts, as the collection frees its pages: a synchronous
 * collection stopped the whole process 100–150 ms when a large request had left the heap
 * big, and a request arriving then waited that long.
 *
 * The collection is not free afterwards either: shrinking the heap throws away the JIT's
 * compiled code, so the next burst of requests runs cold until it is compiled again (in
 * 4 s load rounds after 5 s pauses, ~25 % more CPU per small request). So a pause in heavy
 * traffic is not taken for idleness every time: after a collection that ends a busy spell
 * (BUSY requests or more since the one before), the next waits for a quiet spell four
 * times as long, up to a minute; after a lighter one (start-up, a few requests, a batch of
 * streams), the wait is back to QUIET_MS. That wait is a second, not less: gaps of a few
 * hundred milliseconds between bursts of streams (a few thousand streams, under BUSY) are
 * not idleness, and collecting in each of them made every burst run cold (~20 % more CPU per
 * stream in 2 s bursts, bench/ab.ts).
 */
const TICK_MS = 250;
/** Quiet for this long after the last request before collecting (after light traffic). */
const QUIET_MS = 1000;
/** The longest quiet spell waited for (the wait grows ×4 per busy spell up to this). */
const MAX_QUIET_MS = 60_000;
/** Requests since the last collection that make a spell busy. */
const BUSY = 5_000;
/** Ticks after a collection on which the heap is asked to shrink (while it stays quiet). */
const SHRINK_TICKS = 4;

const servers = new Set<() => number>();
let last = 0;
let collected = true;
let quietMs = QUIET_MS;
/** Requests since the last collection. */
let served = 0;
/** Shrinks left after the last collection, and when it started. */
let shrinks = 0;
let collectedAt = 0;
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  if (shrinks > 0) {
    // A request since the collection: the spell is over, and shrinking now would throw away the JIT's code it runs.
    if (last > collectedAt) shrinks = 0;
    else {
      shrinks--;
      shrink();
    }
    return;
  }
  if (collected || performance.now() - last < quietMs) return;
  for (const inFlight of servers) if (inFlight() > 0) return;
  collected = true;
  quietMs = served >= BUSY ? Math.min(quietMs * 4, MAX_QUIET_MS) : QUIET_MS;
  served = 0;
  collectedAt = performance.now();
  Bun.gc(false);
  shrinks = SHRINK_TICKS;
}

/** The heap's free pages back to the system. */
function shrink(): void {
  // Deprecated in the types, still the one call that returns the heap's free pages.
  const fn = (Bun as unknown as { shrink?: () => void }).shrink;
  if (typeof fn === "function") fn();
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
      served++;
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
