/**
 * SQLite's write-ahead log checkpointed off the thread that serves requests. By default the
 * connection whose commit takes the log past 1000 pages copies them back into the file then and
 * there — on the main thread for the records of batches and files (a batch of 100 MB: a stall of
 * 50–80 ms now and then). The main connection turns that off (`wal_autocheckpoint = 0`); this
 * looks at the log's file now and then and, once it has grown and changed, has the checkpoint
 * thread (checkpoint-worker.ts) do it. A failure is logged (once per kind) and tried again a
 * second later. The thread ends itself when there is nothing to do. The log's file keeps the
 * largest size it reached (PASSIVE checkpoints never cut it): cutting it back
 * (`journal_size_limit`, a TRUNCATE checkpoint) makes the main connection's next write wait for
 * locks in SQLite's busy handler, asleep on the main thread — 120 ms stalls, measured.
 */
import { statSync } from "node:fs";
import { bundledWorker } from "../workers/bundle" with { type: "macro" };
import { WorkerThread } from "../workers/thread";

const SOURCE = bundledWorker("store/checkpoint-worker.ts");

/** How often the log is looked at. */
const EVERY_MS = 1000;
/** A log smaller than this waits (SQLite's own default threshold: 1000 pages of 4 kB). */
const MIN_LOG_BYTES = 4 * 1024 * 1024;
/** A checkpoint taking longer than this ends the thread (the next starts a new one). */
const TIMEOUT_MS = 60_000;
/** The thread ends after this long without a checkpoint to do. */
const IDLE_MS = 30_000;

export class WalCheckpointer {
  private readonly thread: WorkerThread<{ file: string }, number[]>;
  private readonly timer: ReturnType<typeof setInterval>;
  private running: Promise<void> | undefined;
  /** The log's modification time when it was last checkpointed whole. */
  private done = 0;
  /** The last failure's message, said already. */
  private failed: string | undefined;

  constructor(
    private readonly file: string,
    private readonly warn: (message: string) => void,
    everyMs = EVERY_MS,
  ) {
    this.thread = new WorkerThread("WAL checkpoint", SOURCE, () => {}, 1, IDLE_MS);
    this.timer = setInterval(() => void this.tick(), everyMs);
    this.timer.unref();
  }

  /** Checkpoints when the log has grown past MIN_LOG_BYTES and changed since the last checkpoint. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    let log: { size: number; mtimeMs: number };
    try {
      log = statSync(`${this.file}-wal`);
    } catch {
      return Promise.resolve(); // no log (yet)
    }
    if (log.size < MIN_LOG_BYTES || log.mtimeMs <= this.done) return Promise.resolve();
    this.running = this.thread
      .call({ file: this.file }, TIMEOUT_MS)
      .then(
        ([busy, frames, copied]) => {
          // Done only when every frame went back (a reader in the way leaves some: tried again on the next tick).
          if (busy === 0 && copied === frames) this.done = log.mtimeMs;
          this.failed = undefined;
        },
        (err: Error) => {
          // Said once per kind of failure (not every second); tried again on the next tick.
          if (err.message !== this.failed) this.warn(`SQLite checkpoint failed: ${err.message}`);
          this.failed = err.message;
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops looking; a checkpoint under way finishes first. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    this.thread.stop();
  }
}
