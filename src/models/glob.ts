/**
 * `*` globs for model names: `claude-*-sonnet-*`. Everything else is literal.
 *
 * Matched without a regular expression, in time linear in the name: the literal pieces
 * between the stars must appear in order, the first at the start and the last at the end,
 * and taking each middle piece where it first appears is always a match when one exists.
 * (A compiled `^claude-.*-sonnet-.*x$` backtracks: a long name took time quadratic in its length.)
 */

export type GlobMatcher = (name: string) => boolean;

export function globMatcher(glob: string): GlobMatcher {
  const parts = glob.split("*");
  if (parts.length === 1) return (name) => name === glob;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p.length > 0);
  const fixed = first.length + last.length;
  return (name) => {
    if (name.length < fixed || !name.startsWith(first) || !name.endsWith(last)) return false;
    let at = first.length;
    const end = name.length - last.length;
    for (const piece of middle) {
      const found = name.indexOf(piece, at);
      if (found === -1 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}

export const isGlob = (pattern: string) => pattern.includes("*");
