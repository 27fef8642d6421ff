/**
 * Long synchronous work cut into slices, so one large request never holds the event loop:
 * the work calls `await slicer.pause()` often (every few hundred items), and the pause gives
 * the loop a turn — other requests' I/O, /health, open streams — once the current slice has
 * run SLICE_MS. A pause within the slice costs a clock read and returns at once.
 *
 * Only large bodies take the sliced paths (see LARGE_BODY_BYTES): for the usual request the
 * one synchronous call is cheaper, and short.
 */

/** How long a slice of work may hold the event loop. */
export const SLICE_MS = 8;

/** Bodies from this size on are read, checked and serialized in slices. */
export const LARGE_BODY_BYTES = 512 * 1024;

/** One turn of the event loop: resolves once other I/O and timers had their chance. */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Slicer {
  private since = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  /** Resolves at once while the slice lasts; after it, once the event loop has had a turn. */
  pause(): Promise<void> | undefined {
    if (performance.now() - this.since < this.sliceMs) return undefined;
    return turn().then(() => void (this.since = performance.now()));
  }
}
