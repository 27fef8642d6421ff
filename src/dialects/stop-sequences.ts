/**
 * Watches generated text for Anthropic `stop_sequences`, across chunk borders.
 * Text that could be the start of a stop sequence is held back until it is
 * known not to be one; on a match, only the text before it is released.
 *
 * All the sequences are matched at once by one Aho–Corasick automaton: the work per
 * character does not grow with the number of sequences (100,000 of them once stalled
 * a stream for seconds). Generation stops where a sequence is first complete; of the
 * sequences that end there, the longest is the one reported.
 */
export interface WatchResult {
  /** Text safe to send to the client now. */
  emit: string;
  /** The sequence that matched, if one did: the caller stops generation. */
  matched: string | null;
}

/** The automaton over UTF-16 code units, built once per set of sequences. */
class Automaton {
  /** Transitions of each node (code unit → node). */
  private readonly next: Array<Map<number, number>> = [new Map()];
  private readonly fail: number[] = [0];
  /** Depth of each node: length of the text it stands for. */
  readonly depth: number[] = [0];
  /** Index of the longest sequence ending at each node (its own, or through its fail links); -1: none. */
  private readonly match: number[] = [-1];

  constructor(readonly seqs: readonly string[]) {
    seqs.forEach((seq, i) => {
      let node = 0;
      for (let k = 0; k < seq.length; k++) {
        const c = seq.charCodeAt(k);
        let to = this.next[node]!.get(c);
        if (to === undefined) {
          to = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.depth.push(this.depth[node]! + 1);
          this.match.push(-1);
          this.next[node]!.set(c, to);
        }
        node = to;
      }
      if (this.match[node] === -1) this.match[node] = i;
    });
    // Breadth first: fail links, and matches inherited from them.
    const queue: number[] = [];
    for (const to of this.next[0]!.values()) queue.push(to);
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q]!;
      if (this.match[node] === -1) this.match[node] = this.match[this.fail[node]!]!;
      for (const [c, to] of this.next[node]!) {
        let f = this.fail[node]!;
        while (f !== 0 && !this.next[f]!.has(c)) f = this.fail[f]!;
        const via = this.next[f]!.get(c);
        this.fail[to] = via !== undefined && via !== to ? via : 0;
        queue.push(to);
      }
    }
  }

  step(node: number, c: number): number {
    for (;;) {
      const to = this.next[node]!.get(c);
      if (to !== undefined) return to;
      if (node === 0) return 0;
      node = this.fail[node]!;
    }
  }

  matchAt(node: number): number {
    return this.match[node]!;
  }
}

export class StopSequenceWatcher {
  private readonly auto: Automaton | null;
  private state = 0;
  private held = "";

  constructor(sequences: readonly string[] | undefined) {
    const seqs = [...new Set((sequences ?? []).filter((s) => s.length > 0))];
    this.auto = seqs.length > 0 ? new Automaton(seqs) : null;
  }

  get active(): boolean {
    return this.auto !== null;
  }

  push(text: string): WatchResult {
    const auto = this.auto;
    if (!auto) return { emit: text, matched: null };
    const buf = this.held + text;
    let state = this.state;
    for (let i = this.held.length; i < buf.length; i++) {
      state = auto.step(state, buf.charCodeAt(i));
      const m = auto.matchAt(state);
      if (m !== -1) {
        const seq = auto.seqs[m]!;
        this.state = 0;
        this.held = "";
        return { emit: buf.slice(0, i + 1 - seq.length), matched: seq };
      }
    }
    this.state = state;
    // The automaton's depth is the longest tail that may still become a sequence.
    const keep = auto.depth[state]!;
    this.held = buf.slice(buf.length - keep);
    return { emit: buf.slice(0, buf.length - keep), matched: null };
  }

  /** Release held text at the end of generation. */
  flush(): string {
    const rest = this.held;
    this.held = "";
    this.state = 0;
    return rest;
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
