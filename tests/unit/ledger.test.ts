/** The ledger on a real SQLite file: one row per request, however often it is written; old duplicates merged by the migration. */
import { Database as Sqlite } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { createLogger } from "../../src/http/log";
import { openDatabase } from "../../src/store/db";
import { Ledger, type LedgerRow } from "../../src/teams/ledger";
import { tempDir } from "../helpers/teams";

const dirs: Array<() => void> = [];
afterEach(() => {
  for (const c of dirs.splice(0)) c();
});
const logger = createLogger({ file: null, stdout: false });

const row = (id: string, extra: Partial<LedgerRow> = {}): LedgerRow => ({
  at: "2026-02-28T13:45:10.000Z",
  key_id: "key_1",
  model: "grok-3-mini",
  upstream_model: "grok-3-mini",
  input_tokens: 10,
  output_tokens: 5,
  cached_tokens: 0,
  cost_ticks: 1000,
  status: 200,
  duration_ms: 12.5,
  path: "/v1/messages",
  request_id: id,
  estimated: 0,
  ...extra,
});

describe("ledger rows", () => {
  test("a request written twice (a retry, a replayed batch) is counted once; estimated usage is marked", async () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    const db = await openDatabase(`sqlite://${t.dir}/l.db`);
    const ledger = new Ledger(db, logger, 10);
    await ledger.record(row("req_a"));
    await ledger.record(row("req_a", { cost_ticks: 99 }));
    await ledger.record(row("req_b", { estimated: 1 }));
    expect(await ledger.spentSince("key_1", undefined)).toBe(2000);
    const rows = await db.sql`SELECT request_id, cost_ticks, estimated FROM ledger ORDER BY request_id`;
    expect(rows.map((r: any) => [r.request_id, Number(r.cost_ticks), Number(r.estimated)])).toEqual([
      ["req_a", 1000, 0],
      ["req_b", 1000, 1],
    ]);
    await ledger.close();
    await db.close();
  });

  test("opening a ledger written before request ids were unique keeps each request's first row", async () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    const file = `${t.dir}/old.db`;
    // The first schema, as version 1 made it, with a request recorded twice.
    const old = new Sqlite(file);
    old.run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
    old.run("INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00Z')");
    old.run(`CREATE TABLE ledger (at TEXT NOT NULL, key_id TEXT, model TEXT, upstream_model TEXT, input_tokens BIGINT NOT NULL,
      output_tokens BIGINT NOT NULL, cached_tokens BIGINT NOT NULL, cost_ticks BIGINT NOT NULL, status INTEGER NOT NULL,
      duration_ms REAL NOT NULL, path TEXT NOT NULL, request_id TEXT NOT NULL)`);
    old.run(`CREATE TABLE virtual_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, key_hint TEXT NOT NULL,
      budget_usd REAL, budget_period TEXT, rpm INTEGER, tpm INTEGER, models TEXT, expires_at TEXT, created_at TEXT NOT NULL, revoked_at TEXT)`);
    for (const [id, ticks] of [["req_x", 100], ["req_x", 100], ["req_y", 50]] as const) {
      old.run("INSERT INTO ledger VALUES ('2026-01-02T00:00:00Z', 'key_1', 'm', 'm', 1, 1, 0, ?, 200, 1, '/v1/messages', ?)", [ticks, id]);
    }
    old.close();
    const db = await openDatabase(`sqlite://${file}`);
    const ledger = new Ledger(db, logger, 10);
    expect(await ledger.spentSince("key_1", undefined)).toBe(150);
    await ledger.record(row("req_y"));
    expect(await ledger.spentSince("key_1", undefined)).toBe(150);
    await ledger.close();
    await db.close();
  });
});
