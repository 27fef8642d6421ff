/**
 * The store's database: Bun's built-in SQL client, one code path for SQLite
 * (`sqlite://relative/path.db`, `sqlite:///absolute/path.db`) and Postgres
 * (`postgres://…`), and the migrations that both run. Only portable SQL here:
 * times are ISO 8601 UTC text (they sort as text), money is integer USD ticks.
 */
import { SQL } from "bun";
import { mkdirSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { urlPasswords } from "../redact";
import { WalCheckpointer } from "./checkpoint";

export type Dialect = "sqlite" | "postgres";

export interface Database {
  sql: SQL;
  dialect: Dialect;
  /** SQLite's file (absent for Postgres and an in-memory database). */
  file?: string;
  close(): Promise<void>;
}


/** A URL as shown to people: its password replaced by "***". */
export function maskUrlPassword(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

/** The URL's kind and, for SQLite, the file it names (its directory is created). */
export function parseStoreUrl(url: string): { dialect: Dialect; file?: string } {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: "postgres" };
  const m = /^sqlite:\/\/(.+)$/i.exec(url);
  if (!m) throw new Error("the store URL must start with sqlite:// or postgres://");
  const path = m[1]!;
  if (path === ":memory:") return { dialect: "sqlite", file: ":memory:" };
  return { dialect: "sqlite", file: isAbsolute(path) ? path : resolve(path) };
}

/** Each step runs once, in order; the applied ones are listed in schema_migrations. */
const MIGRATIONS: Array<(sql: SQL, dialect: Dialect) => Promise<unknown>> = [
  async (sql, dialect) => {
    const real = dialect === "postgres" ? sql.unsafe("DOUBLE PRECISION") : sql.unsafe("REAL");
    await sql`CREATE TABLE virtual_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      key_hash TEXT NOT NULL UNIQUE,
      key_hint TEXT NOT NULL,
      budget_usd ${real},
      budget_period TEXT,
      rpm INTEGER,
      tpm INTEGER,
      models TEXT,
      expires_at TEXT,
      created_at TEXT NOT NULL,
      revoked_at TEXT
    )`;
    await sql`CREATE TABLE ledger (
      at TEXT NOT NULL,
      key_id TEXT,
      model TEXT,
      upstream_model TEXT,
      input_tokens BIGINT NOT NULL,
      output_tokens BIGINT NOT NULL,
      cached_tokens BIGINT NOT NULL,
      cost_ticks BIGINT NOT NULL,
      status INTEGER NOT NULL,
      duration_ms ${real} NOT NULL,
      path TEXT NOT NULL,
      request_id TEXT NOT NULL
    )`;
    await sql`CREATE INDEX ledger_at ON ledger (at)`;
    await sql`CREATE INDEX ledger_key_at ON ledger (key_id, at)`;
  },
  // Files and message batches (src/files, src/batches): their records, whoever keeps the bytes.
  async (sql) => {
    await sql`CREATE TABLE files (
      id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      filename TEXT NOT NULL,
      mime_type TEXT NOT NULL,
      size_bytes BIGINT NOT NULL,
      sha256 TEXT NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT,
      downloadable INTEGER NOT NULL,
      location TEXT NOT NULL,
      upstream_id TEXT
    )`;
    await sql`CREATE INDEX files_owner_id ON files (owner, id)`;
    await sql`CREATE TABLE batches (
      id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      key_id TEXT,
      key_name TEXT,
      mode TEXT NOT NULL,
      upstream_id TEXT,
      submitted INTEGER NOT NULL,
      status TEXT NOT NULL,
      request_count INTEGER NOT NULL,
      processing INTEGER NOT NULL,
      succeeded INTEGER NOT NULL,
      errored INTEGER NOT NULL,
      canceled INTEGER NOT NULL,
      expired INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      expires_at TEXT NOT NULL,
      ended_at TEXT,
      cancel_initiated_at TEXT,
      archived_at TEXT,
      polled_at TEXT,
      note TEXT,
      runner TEXT,
      lease_until TEXT
    )`;
    await sql`CREATE INDEX batches_owner_id ON batches (owner, id)`;
    await sql`CREATE INDEX batches_status ON batches (status)`;
    await sql`CREATE TABLE batch_requests (
      batch_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      custom_id TEXT NOT NULL,
      model TEXT NOT NULL,
      upstream_model TEXT NOT NULL,
      params TEXT,
      upstream_body TEXT,
      submitted INTEGER NOT NULL,
      status TEXT NOT NULL,
      result TEXT,
      PRIMARY KEY (batch_id, seq)
    )`;
    await sql`CREATE INDEX batch_requests_status ON batch_requests (batch_id, status)`;
  },
  // Each request once (rows are written with ON CONFLICT DO NOTHING), and whether its usage was estimated.
  async (sql, dialect) => {
    // A row written twice before (a batch retried after a lost answer) is kept once.
    if (dialect === "sqlite") await sql`DELETE FROM ledger WHERE rowid NOT IN (SELECT MIN(rowid) FROM ledger GROUP BY request_id)`;
    else await sql`DELETE FROM ledger a USING ledger b WHERE a.request_id = b.request_id AND a.ctid > b.ctid`;
    await sql`CREATE UNIQUE INDEX ledger_request_id ON ledger (request_id)`;
    await sql`ALTER TABLE ledger ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0`;
  },
];

/** The advisory lock instances take while they migrate a Postgres store (an arbitrary constant: "g2a" + 1). */
const MIGRATION_LOCK = 0x67326101;

async function migrate(sql: SQL, dialect: Dialect): Promise<void> {
  if (dialect === "postgres") {
    // Instances starting at once on one database migrate one after another: two concurrent
    // CREATE TABLE … IF NOT EXISTS can both fail in Postgres (pg_type's unique index).
    const conn = await sql.reserve();
    try {
      await conn`SELECT pg_advisory_lock(${MIGRATION_LOCK})`;
      try {
        await migrateSteps(sql, dialect);
      } finally {
        await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`;
      }
    } finally {
      conn.release();
    }
    return;
  }
  await migrateSteps(sql, dialect);
}

async function migrateSteps(sql: SQL, dialect: Dialect): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`;
  const rows: Array<{ version: number | string }> = await sql`SELECT version FROM schema_migrations`;
  const applied = new Set(rows.map((r) => Number(r.version)));
  for (let v = 1; v <= MIGRATIONS.length; v++) {
    if (applied.has(v)) continue;
    try {
      await sql.begin(async (tx) => {
        // Several instances starting at once: the primary key lets only one apply a step.
        await tx`INSERT INTO schema_migrations (version, applied_at) VALUES (${v}, ${new Date().toISOString()})`;
        await MIGRATIONS[v - 1]!(tx as unknown as SQL, dialect);
      });
    } catch (e) {
      // Another instance applied it meanwhile: fine. Anything else is a real failure.
      const again: Array<{ version: number | string }> = await sql`SELECT version FROM schema_migrations WHERE version = ${v}`;
      if (again.length === 0) throw e;
    }
  }
}

/** `warn`: told when the SQLite checkpoint thread fails (it is started again). */
export async function openDatabase(url: string, warn: (message: string) => void = () => {}): Promise<Database> {
  const { dialect, file } = parseStoreUrl(url);
  let sql: SQL;
  let checkpointer: WalCheckpointer | undefined;
  if (dialect === "sqlite") {
    if (file !== ":memory:") mkdirSync(dirname(file!), { recursive: true });
    sql = new SQL({ adapter: "sqlite", filename: file! });
    await sql`PRAGMA journal_mode = WAL`;
    // In WAL mode a commit is in the file once the statement returns: a crash of the process loses
    // nothing (only the machine losing power could lose the last commits; FULL would fsync each one).
    await sql`PRAGMA synchronous = NORMAL`;
    await sql`PRAGMA busy_timeout = 5000`;
    // The log is copied back into the file on the checkpoint thread, never by a commit here (checkpoint.ts).
    if (file !== ":memory:") {
      await sql`PRAGMA wal_autocheckpoint = 0`;
      checkpointer = new WalCheckpointer(file!, warn);
    }
  } else {
    sql = new SQL(url, { max: 5 });
  }
  try {
    await migrate(sql, dialect);
  } catch (e) {
    await checkpointer?.stop();
    await sql.close().catch(() => {});
    let message = (e as Error).message ?? String(e);
    for (const p of urlPasswords(url)) message = message.replaceAll(p, "***");
    throw new Error(message);
  }
  const close = async () => {
    await checkpointer?.stop();
    await sql.close();
  };
  return { sql, dialect, ...(file && file !== ":memory:" ? { file } : {}), close };
}
