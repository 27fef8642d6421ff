/**
 * How ledger rows reach the database: one INSERT (or one transaction of many rows) per call, a row
 * whose request id is there already left as it is. Postgres: Bun's SQL client (the network does not
 * hold up the event loop). SQLite: a thread of its own (sqlite-writer.ts), since bun:sqlite works on
 * the calling thread and a WAL checkpoint can take tens of ms; an in-memory database (tests) or a
 * thread that cannot start falls back to the main thread.
 */
import { bundledWorker } from "../workers/bundle" with { type: "macro" };
import { WorkerThread } from "../workers/thread";
import type { Database } from "../store/db";
import type { LedgerRow } from "./ledger";

const SOURCE = bundledWorker("teams/sqlite-writer.ts");

export interface RowWriter {
  /** Written (committed) when it resolves; rejects when the database refused them. */
  write(rows: LedgerRow[]): Promise<void>;
  close(): void;
}

/** Rows per INSERT statement (SQLite's bound-parameter limit is 32766; 13 columns a row). */
const BATCH = 1000;

/** On the database's own connection. */
export function sqlWriter(db: Database): RowWriter {
  const { sql } = db;
  return {
    async write(rows) {
      for (let i = 0; i < rows.length; i += BATCH) {
        const part = rows.slice(i, i + BATCH);
        await sql`INSERT INTO ledger ${sql(part.length === 1 ? part[0]! : part)} ON CONFLICT (request_id) DO NOTHING`;
      }
    },
    close() {},
  };
}

/**
 * SQLite's rows on a thread of its own; on the main thread if that thread cannot start. `warn` is
 * told when it cannot, or when it failed (a later write starts it again; what failed is retried).
 */
export async function sqliteWriter(db: Database, file: string, warn: (message: string) => void): Promise<RowWriter> {
  const thread = new WorkerThread<{ file: string; rows: LedgerRow[] }, number>(
    "ledger writer",
    SOURCE,
    (err) => warn(`${err.message}; it is started again`),
    100_000,
  );
  try {
    await thread.call({ file, rows: [] }, 10_000); // opens the file there
  } catch (err) {
    thread.stop();
    warn(`the ledger's writer thread cannot start (${(err as Error).message}): rows are written on the main thread`);
    return sqlWriter(db);
  }
  return {
    async write(rows) {
      for (let i = 0; i < rows.length; i += BATCH) await thread.call({ file, rows: rows.slice(i, i + BATCH) });
    },
    close() {
      thread.stop();
    },
  };
}
