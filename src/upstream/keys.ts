/**
 * The pool of upstream keys: round robin over the keys that are healthy now.
 * A key the upstream rejects (401/403, or xAI's 400 "incorrect API key") leaves
 * the rotation for a quarantine (the last usable key excepted); a rate-limited key
 * cools down for its retry-after. Keys are only ever shown by fingerprint.
 */
export function fingerprint(key: string): string {
  return "key_" + new Bun.CryptoHasher("sha256").update(key).digest("hex").slice(0, 8);
}

/** `message` with every occurrence of `key` replaced by its fingerprint. */
export function redact(message: string, key: string): string {
  return key.length >= 8 ? message.split(key).join(fingerprint(key)) : message;
}

/** The longest a rate-limited key rests, whatever the upstream asked for. */
export const MAX_REST_MS = 5 * 60_000;

interface KeyState {
  readonly key: string;
  readonly fp: string;
  /** Not used before this time (ms, `now()` clock); 0 = available. */
  until: number;
  /** Out of rotation because the upstream rejected it (as opposed to cooling down). */
  rejected: boolean;
}

export class KeyPool {
  private next = 0;
  private readonly states: KeyState[];

  constructor(
    keys: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    this.states = [...new Set(keys)].map((key) => ({ key, fp: fingerprint(key), until: 0, rejected: false }));
  }

  get size(): number {
    return this.states.length;
  }

  has(key: string): boolean {
    return this.states.some((s) => s.key === key);
  }

  /** The next healthy key in rotation, or null when none is usable right now. */
  pick(): string | null {
    const n = this.states.length;
    const now = this.now();
    for (let i = 0; i < n; i++) {
      const s = this.states[(this.next + i) % n]!;
      if (s.until <= now) {
        if (s.rejected) s.rejected = false; // quarantine over: give it another chance
        s.until = 0;
        this.next = (this.next + i + 1) % n;
        return s.key;
      }
    }
    return null;
  }

  /**
   * Take a key out of rotation (rejected by the upstream) for `forMs`, unless it is the
   * last usable key: that one stays, so that a rejection that was not really about the
   * key (a 403 for one model, say) cannot lock every request out for the whole quarantine.
   * Returns whether the key left the rotation.
   */
  reject(key: string, forMs: number): boolean {
    const s = this.find(key);
    if (!s) return false;
    const now = this.now();
    const othersUsable = this.states.some((o) => o !== s && !(o.rejected && o.until > now));
    if (!othersUsable) return false;
    s.rejected = true;
    s.until = now + Math.max(0, forMs);
    return true;
  }

  /** Rest a rate-limited key for `forMs`, at most MAX_REST_MS (never shortens a longer rest). */
  coolDown(key: string, forMs: number): void {
    const s = this.find(key);
    if (!s || s.rejected) return;
    const rest = Number.isFinite(forMs) ? Math.min(MAX_REST_MS, Math.max(0, forMs)) : MAX_REST_MS;
    s.until = Math.max(s.until, this.now() + rest);
  }

  /**
   * Milliseconds until some key that is merely cooling down is usable again;
   * null when every unusable key was rejected (waiting would not help).
   */
  msUntilCooled(): number | null {
    const now = this.now();
    let best: number | null = null;
    for (const s of this.states) {
      if (s.rejected) continue;
      const wait = Math.max(0, s.until - now);
      if (best === null || wait < best) best = wait;
    }
    return best;
  }

  /** How many keys are out of rotation because the upstream rejected them. */
  get rejectedCount(): number {
    const now = this.now();
    return this.states.filter((s) => s.rejected && s.until > now).length;
  }

  fingerprintOf(key: string): string {
    return this.find(key)?.fp ?? fingerprint(key);
  }

  private find(key: string): KeyState | undefined {
    return this.states.find((s) => s.key === key);
  }
}
