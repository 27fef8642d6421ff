/**
 * Text cut into pieces the tokenizer handles in linear time. BPE on one pre-token is
 * quadratic in its length, and a run with no whitespace is one pre-token: 2 MB of one
 * repeated character took 15 s and jammed every count behind it. Runs longer than
 * MAX_RUN are counted in slices of that length (a count, not an encoding: a slice
 * border costs at most a token or so, well within the estimate's error).
 */
export const MAX_RUN = 128;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN + 1},}`, "g");

/** `text` as pieces with no whitespace-free run longer than MAX_RUN; joined, they are `text`. */
export function countablePieces(text: string): string[] {
  LONG_RUN.lastIndex = 0;
  if (!LONG_RUN.test(text)) return [text];
  const out: string[] = [];
  let from = 0;
  LONG_RUN.lastIndex = 0;
  for (let m = LONG_RUN.exec(text); m !== null; m = LONG_RUN.exec(text)) {
    if (m.index > from) out.push(text.slice(from, m.index));
    const run = m[0];
    for (let i = 0; i < run.length; i += MAX_RUN) out.push(run.slice(i, i + MAX_RUN));
    from = m.index + run.length;
  }
  if (from < text.length) out.push(text.slice(from));
  return out;
}
