/**
 * The SQLite ledger's writer thread (started by ledger-writer.ts from bundled source). bun:sqlite
 * runs on the calling thread: a commit, and above all the WAL checkpoint that now and then follows
 * one (copying pages back and syncing the file: tens of ms, more on a busy disk), would stall every
 * request on the server. Here they stall only the answers waiting for their rows.
 * In: `{ id, file, rows }`. Out: `{ id, result: rows written }` or `{ id, error }`. Each message is
 * one transaction; a request id already in the ledger is left as it is.
 */
import { Database, type Statement } from "bun:sqlite";

declare const self: Worker;

const COLUMNS = [
  "at",
  "key_id",
  "model",
  "upstream_model",
  "input_tokens",
  "output_tokens",
  "cached_tokens",
  "cost_ticks",
  "status",
  "duration_ms",
  "path",
  "request_id",
  "estimated",
] as const;

type Row = Record<(typeof COLUMNS)[number], string | number | null>;

let open: { file: string; db: Database; insert: (rows: Row[]) => void } | undefined;

function connect(file: string) {
  if (open?.file === file) return open;
  open?.db.close();
  const db = new Database(file);
  db.run("PRAGMA journal_mode = WAL");
  // In the file once the commit returns, whatever becomes of the process (see db.ts).
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA busy_timeout = 5000");
  const stmt: Statement = db.prepare(
    `INSERT INTO ledger (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")}) ON CONFLICT (request_id) DO NOTHING`,
  );
  const insert = db.transaction((rows: Row[]) => {
    for (const r of rows) stmt.run(...COLUMNS.map((c) => r[c] ?? null));
  });
  open = { file, db, insert };
  return open;
}

self.onmessage = (e: MessageEvent<{ id: number; file: string; rows: Row[] }>) => {
  const { id, file, rows } = e.data;
  try {
    const c = connect(file);
    if (rows.length > 0) c.insert(rows);
    self.postMessage({ id, result: rows.length });
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};
