/**
 * The local tokenizer's thread (started by tokenizer.ts from bundled source).
 * gpt-tokenizer's o200k ranks take a second or more to load and tokenizing a long
 * prompt takes milliseconds, so both happen here, never on the thread that serves requests.
 * In: `{ id, texts }`. Out: `{ id, result: total }` or `{ id, error }`.
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

self.onmessage = (e: MessageEvent<{ id: number; texts: string[] }>) => {
  const { id, texts } = e.data;
  try {
    let total = 0;
    for (const t of texts) total += count(t);
    self.postMessage({ id, result: total });
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
