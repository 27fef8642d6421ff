/**
 * Ids that sort by creation time (`msgbatch_…`, `file_…`): lists are newest first and
 * page by id, as Anthropic's do. 8 characters of milliseconds, then 16 random ones.
 */
import { randomId } from "../dialects/ids";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function timePart(ms: number): string {
  let s = "";
  let n = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 8; i++) {
    s = ALPHABET[n % 62]! + s;
    n = Math.floor(n / 62);
  }
  return s;
}

export const sortableId = (prefix: string, now = Date.now()) => randomId(prefix + timePart(now), 16);

/** When an id of sortableId's was made (ms since the epoch); undefined for any other string. */
export function sortableIdTime(id: string, prefix: string): number | undefined {
  if (!id.startsWith(prefix) || id.length < prefix.length + 8) return undefined;
  let ms = 0;
  for (const c of id.slice(prefix.length, prefix.length + 8)) {
    const d = ALPHABET.indexOf(c);
    if (d < 0) return undefined;
    ms = ms * 62 + d;
  }
  return ms;
}

/** Anthropic's ids use these characters only: a path segment that could be one of ours. */
export const looksLikeId = (s: string, prefix: string) => s.startsWith(prefix) && /^[A-Za-z0-9_]{1,80}$/.test(s);
