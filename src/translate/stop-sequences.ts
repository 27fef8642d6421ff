/**
 * Watches generated text for Anthropic `stop_sequences`, across chunk borders.
 * Text that could be the start of a stop sequence is held back until it is
 * known not to be one; on a match, only the text before it is released.
 */
export interface WatchResult {
  /** Text safe to send to the client now. */
  emit: string;
  /** The sequence that matched, if one did: the caller stops generation. */
  matched: string | null;
}

export class StopSequenceWatcher {
  private readonly seqs: string[];
  private held = "";

  constructor(sequences: readonly string[] | undefined) {
    this.seqs = (sequences ?? []).filter((s) => s.length > 0);
  }

  get active(): boolean {
    return this.seqs.length > 0;
  }

  push(text: string): WatchResult {
    if (this.seqs.length === 0) return { emit: text, matched: null };
    const buf = this.held + text;
    let at = -1;
    let matched: string | null = null;
    for (const seq of this.seqs) {
      const i = buf.indexOf(seq);
      if (i !== -1 && (at === -1 || i < at)) {
        at = i;
        matched = seq;
      }
    }
    if (matched !== null) {
      this.held = "";
      return { emit: buf.slice(0, at), matched };
    }
    const keep = this.partialSuffix(buf);
    this.held = buf.slice(buf.length - keep);
    return { emit: buf.slice(0, buf.length - keep), matched: null };
  }

  /** Release held text at the end of generation. */
  flush(): string {
    const rest = this.held;
    this.held = "";
    return rest;
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of a sequence. */
  private partialSuffix(buf: string): number {
    let best = 0;
    for (const seq of this.seqs) {
      const max = Math.min(seq.length - 1, buf.length);
      for (let n = max; n > best; n--) {
        if (buf.endsWith(seq.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}

/** Non-stream: cut `text` at the first stop sequence. */
export function cutAtStopSequence(
  text: string,
  sequences: readonly string[] | undefined,
): { text: string; matched: string | null } {
  const w = new StopSequenceWatcher(sequences);
  const r = w.push(text);
  return r.matched !== null ? { text: r.emit, matched: r.matched } : { text, matched: null };
}
