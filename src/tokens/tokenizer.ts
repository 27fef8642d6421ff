/**
 * The local tokenizer, run in a worker thread (src/tokens/worker.ts) that starts on
 * first use: loading its ranks would otherwise stall every open stream.
 */
import { bundledWorker } from "../workers/bundle" with { type: "macro" };
import type { Slicer } from "../http/slicer";
import { WorkerThread } from "../workers/thread";

const SOURCE = bundledWorker("tokens/worker.ts");

/** The thread (and the tens of MB its ranks take) is ended after this long without a count. */
export const TOKENIZER_IDLE_MS = 120_000;

/**
 * Many texts go to the thread packed: joined into a few long strings, with their lengths. A list of
 * a hundred thousand strings took the thread that serves requests a long moment to hand over;
 * a few strings and one array of numbers take none.
 */
export interface Packed {
  chunks: string[];
  lengths: Int32Array;
  /** Texts per chunk (the last may have fewer). */
  per: number;
}
const PACK_FROM = 1024;
const PACK_CHUNK = 4096;

async function pack(texts: string[], slicer: Slicer | undefined): Promise<Packed> {
  const lengths = new Int32Array(texts.length);
  const chunks: string[] = [];
  for (let i = 0; i < texts.length; i += PACK_CHUNK) {
    const some = texts.slice(i, i + PACK_CHUNK);
    for (let k = 0; k < some.length; k++) lengths[i + k] = some[k]!.length;
    chunks.push(some.join(""));
    await slicer?.pause();
  }
  return { chunks, lengths, per: PACK_CHUNK };
}

export class WorkerTokenizer {
  private readonly thread: WorkerThread<{ texts: string[] } | { packed: Packed }, number>;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    onFailure: (err: unknown) => void = () => {},
    private readonly idleMs = TOKENIZER_IDLE_MS,
  ) {
    this.thread = new WorkerThread("tokenizer", SOURCE, onFailure);
  }

  get started(): boolean {
    return this.thread.started;
  }

  start(): void {
    try {
      this.thread.start();
    } catch {
      // count() reports it
    }
  }

  /**
   * Tokens in all of `texts`. Starts the thread if needed; rejects if it cannot run, if
   * too many counts are waiting, or after `timeoutMs` — which ends the thread, so that a
   * count that jams it cannot hold up the ones behind (the next count starts a new one).
   */
  count(texts: string[], timeoutMs = 0, slicer?: Slicer): Promise<number> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const p =
      texts.length > PACK_FROM
        ? pack(texts, slicer).then((packed) => this.thread.call({ packed }, timeoutMs, [packed.lengths.buffer as ArrayBuffer]))
        : this.thread.call({ texts }, timeoutMs);
    const rest = () => this.restLater();
    p.then(rest, rest);
    return p;
  }

  /** Once nothing is waiting, end the thread after idleMs unless a count comes first. */
  private restLater(): void {
    if (this.thread.pendingCount > 0 || this.idleMs <= 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.thread.close(), this.idleMs);
    this.idleTimer.unref();
  }

  /** Counts waiting for the thread. */
  get waiting(): number {
    return this.thread.pendingCount;
  }

  stop(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.thread.stop();
  }
}
