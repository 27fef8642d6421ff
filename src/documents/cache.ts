/**
 * The texts of recently read documents, keyed by the document's hash: clients resend
 * the same PDF on every turn of a conversation. Bounded by entries and by the total
 * length of the texts, least recently used out first, so it cannot hold on to
 * megabytes after the conversations that needed them are over.
 */
export class TextCache {
  private readonly map = new Map<string, string>();
  private chars = 0;

  constructor(
    private readonly maxEntries = 32,
    private readonly maxChars = 4_000_000,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** Total length of the texts held. */
  get totalChars(): number {
    return this.chars;
  }

  get(key: string): string | undefined {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      this.map.delete(key); // most recently used goes last
      this.map.set(key, hit);
    }
    return hit;
  }

  set(key: string, text: string): void {
    if (text.length > this.maxChars) return; // would push everything else out
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.chars -= old.length;
    }
    this.map.set(key, text);
    this.chars += text.length;
    while (this.map.size > this.maxEntries || this.chars > this.maxChars) {
      const [oldest, value] = this.map.entries().next().value!;
      this.map.delete(oldest);
      this.chars -= value.length;
    }
  }
}
