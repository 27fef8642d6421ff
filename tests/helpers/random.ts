/** A seeded PRNG (mulberry32) and random splitting, so property tests are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [lo, hi]. */
export const between = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** `bytes` cut at random places into at most `maxPieces` non-empty pieces (may cut inside UTF-8 sequences). */
export function randomSplit(bytes: Uint8Array, r: () => number, maxPieces: number): Uint8Array[] {
  const n = Math.min(maxPieces, bytes.length);
  const cuts = new Set<number>();
  const want = between(r, 0, n - 1);
  for (let i = 0; i < want * 2 && cuts.size < want; i++) cuts.add(between(r, 1, bytes.length - 1));
  const points = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) out.push(bytes.subarray(points[i - 1]!, points[i]!));
  return out;
}

/** Every piece one byte long. */
export const byteByByte = (bytes: Uint8Array) => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
