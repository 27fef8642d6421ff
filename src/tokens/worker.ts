/**
 * The local tokenizer's thread (started by tokenizer.ts from bundled source).
 * gpt-tokenizer's o200k ranks take a second or more to load and tokenizing a long
 * prompt takes milliseconds, so both happen here, never on the thread that serves requests.
 * In: `{ id, texts }` or `{ id, packed: { chunks, lengths } }` (many texts, joined). Out: `{ id, result: total }` or `{ id, error }`.
 * Counts of long texts are memoised: a conversation resends the same blocks every turn.
 */
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { countablePieces } from "./pieces";

declare const self: Worker;

/** Special-token strings in a prompt ("<|endoftext|>") are plain text to us. */
const OPTIONS = { disallowedSpecial: new Set<string>() };
const MEMO_MIN_CHARS = 256;
const MEMO_MAX_ENTRIES = 20_000;
const memo = new Map<bigint, number>();

/** 64-bit hash of the text with its length folded in, to make a collision even less likely. */
const memoKey = (text: string) => BigInt.asUintN(64, BigInt(Bun.hash(text)) ^ (BigInt(text.length) << 40n));

/** Tokens in `text`, long runs counted in slices (pieces.ts): linear time whatever the text. */
function countLinear(text: string): number {
  let n = 0;
  for (const piece of countablePieces(text)) n += countTokens(piece, OPTIONS);
  return n;
}

function count(text: string): number {
  if (text.length === 0) return 0;
  if (text.length < MEMO_MIN_CHARS) return countLinear(text);
  const key = memoKey(text);
  const hit = memo.get(key);
  if (hit !== undefined) {
    memo.delete(key); // refresh: the map's order is least recently used first
    memo.set(key, hit);
    return hit;
  }
  const n = countLinear(text);
  if (memo.size >= MEMO_MAX_ENTRIES) memo.delete(memo.keys().next().value!);
  memo.set(key, n);
  return n;
}

/** The texts of a packed list (tokenizer.ts): chunk c holds texts c·per … c·per + per − 1, one after another. */
function* unpacked(p: { chunks: string[]; lengths: Int32Array; per: number }): Generator<string> {
  for (let c = 0; c < p.chunks.length; c++) {
    const chunk = p.chunks[c]!;
    let at = 0;
    for (let i = c * p.per; i < Math.min(p.lengths.length, (c + 1) * p.per); i++) {
      const n = p.lengths[i]!;
      yield chunk.slice(at, at + n);
      at += n;
    }
  }
}

self.onmessage = (e: MessageEvent<{ id: number; texts?: string[]; packed?: { chunks: string[]; lengths: Int32Array; per: number } }>) => {
  const { id, texts, packed } = e.data;
  try {
    let total = 0;
    for (const t of packed ? unpacked(packed) : (texts ?? [])) total += count(t);
    self.postMessage({ id, result: total });
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
