/**
 * SQLite's write-ahead log is copied back into the file by the checkpoint thread
 * (src/store/checkpoint.ts), never by a commit on the thread that serves requests: the store's
 * own connection writes megabytes and its file does not grow until the thread has run.
 */
import { Database as Sqlite } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WalCheckpointer } from "../../src/store/checkpoint";
import { openDatabase } from "../../src/store/db";
import { tempDir } from "../helpers/teams";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const size = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};
const MB = 1024 * 1024;
const blob = (i: number) => `${i}:${"x".repeat(64 * 1024)}`;

describe("WAL checkpoints", () => {
  test("the store's connection never checkpoints itself; the thread copies the log back once it has grown", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, "s.db");
    const db = await openDatabase(`sqlite://${file}`);
    cleanups.push(() => db.close());
    expect(Number(Object.values((await db.sql`PRAGMA wal_autocheckpoint`)[0])[0])).toBe(0);
    await db.sql`CREATE TABLE blobs (v TEXT)`;
    // 8 MB in 128 commits: SQLite's own rule would have checkpointed on this thread twice.
    for (let i = 0; i < 128; i++) await db.sql`INSERT INTO blobs (v) VALUES (${blob(i)})`;
    // Within a few of its one-second looks, the thread has copied them into the file.
    for (let i = 0; i < 100 && size(file) < 8 * MB; i++) await Bun.sleep(100);
    expect(size(file)).toBeGreaterThan(8 * MB);
    expect(Number((await db.sql`SELECT COUNT(*) AS n FROM blobs`)[0].n)).toBe(128);
  });

  test("a checkpoint that fails is said once, not every second", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, "not-a-database");
    mkdirSync(file); // SQLite cannot open a directory
    writeFileSync(`${file}-wal`, new Uint8Array(5 * MB)); // a log past the threshold
    const warnings: string[] = [];
    const cp = new WalCheckpointer(file, (m) => warnings.push(m), 3_600_000);
    cleanups.push(() => cp.stop());
    await cp.tick();
    await cp.tick();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("SQLite checkpoint failed");
  });

  test("a small log is left as it is; a grown one is checkpointed", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, "c.db");
    const db = new Sqlite(file);
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA wal_autocheckpoint = 0");
    db.run("CREATE TABLE blobs (v TEXT)");
    const warnings: string[] = [];
    const cp = new WalCheckpointer(file, (m) => warnings.push(m), 3_600_000); // looks only when told here
    cleanups.push(async () => {
      await cp.stop();
      db.close();
    });
    db.run("INSERT INTO blobs (v) VALUES (?)", [blob(0)]);
    await cp.tick();
    expect(size(file)).toBeLessThan(64 * 1024); // under 4 MB of log: nothing done
    for (let i = 1; i < 100; i++) db.run("INSERT INTO blobs (v) VALUES (?)", [blob(i)]);
    await cp.tick();
    expect(size(file)).toBeGreaterThan(6 * MB);
    expect(warnings).toEqual([]);
  });
});
