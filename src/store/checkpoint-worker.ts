/**
 * The WAL checkpoint thread (started by checkpoint.ts from bundled source): copies the pages a
 * SQLite database's write-ahead log holds back into the file, on a connection of its own, so
 * that the thread serving requests never does (tens of ms, more on a busy disk).
 * In: `{ id, file }`. Out: `{ id, result: [busy, log frames, checkpointed frames] }` or `{ id, error }`.
 */
import { Database } from "bun:sqlite";

declare const self: Worker;

let open: { file: string; db: Database } | undefined;

self.onmessage = (e: MessageEvent<{ id: number; file: string }>) => {
  const { id, file } = e.data;
  try {
    if (open?.file !== file) {
      open?.db.close();
      const db = new Database(file);
      db.run("PRAGMA busy_timeout = 5000");
      open = { file, db };
    }
    const r = open.db.query("PRAGMA wal_checkpoint(PASSIVE)").values()[0] ?? [];
    self.postMessage({ id, result: r.map(Number) });
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
