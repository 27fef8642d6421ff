/** The pool of upstream keys, used round robin. Keys are only ever logged by fingerprint. */
export function fingerprint(key: string): string {
  return "key_" + new Bun.CryptoHasher("sha256").update(key).digest("hex").slice(0, 8);
}

export class KeyPool {
  private next = 0;
  constructor(private readonly keys: readonly string[]) {}

  get size(): number {
    return this.keys.length;
  }

  /** The next key in rotation, or null when the pool is empty. */
  pick(): string | null {
    if (this.keys.length === 0) return null;
    const key = this.keys[this.next % this.keys.length]!;
    this.next = (this.next + 1) % this.keys.length;
    return key;
  }
}
