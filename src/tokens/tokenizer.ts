/**
 * The local tokenizer: gpt-tokenizer's o200k_base, loaded on first use (its
 * ranks take most of a second to load, so they stay off the start-up path),
 * with a memo of the counts of long texts: a conversation resends the same
 * blocks turn after turn, and only the new ones need tokenizing.
 */

type CountFn = (text: string) => number;

/** Texts shorter than this are cheap to tokenize again; longer ones are memoised. */
const MEMO_MIN_CHARS = 256;
const MEMO_MAX_ENTRIES = 20_000;

export class LocalTokenizer {
  private count: CountFn | null = null;
  private loading: Promise<void> | null = null;
  private readonly memo = new Map<bigint, number>();

  constructor(private readonly onLoadError: (err: unknown) => void = () => {}) {}

  get ready(): boolean {
    return this.count !== null;
  }

  /** Starts loading if it has not started; resolves when the tokenizer is usable (or failed to load). */
  load(): Promise<void> {
    this.loading ??= import("gpt-tokenizer/encoding/o200k_base").then(
      (enc) => {
        // Special-token strings in a prompt ("<|endoftext|>") are plain text to us.
        const options = { disallowedSpecial: new Set<string>() };
        this.count = (text) => enc.countTokens(text, options);
      },
      (err) => this.onLoadError(err),
    );
    return this.loading;
  }

  /** Tokens in `text`; only call when `ready`. */
  tokens(text: string): number {
    const count = this.count;
    if (!count) throw new Error("the tokenizer is not loaded yet");
    if (text.length < MEMO_MIN_CHARS) return text.length === 0 ? 0 : count(text);
    const key = memoKey(text);
    const hit = this.memo.get(key);
    if (hit !== undefined) {
      // Refresh its place, so the map's order is least recently used first.
      this.memo.delete(key);
      this.memo.set(key, hit);
      return hit;
    }
    const n = count(text);
    if (this.memo.size >= MEMO_MAX_ENTRIES) this.memo.delete(this.memo.keys().next().value!);
    this.memo.set(key, n);
    return n;
  }
}

/** 64-bit hash of the text, with its length folded in to make a collision even less likely. */
function memoKey(text: string): bigint {
  return BigInt.asUintN(64, BigInt(Bun.hash(text)) ^ (BigInt(text.length) << 40n));
}
