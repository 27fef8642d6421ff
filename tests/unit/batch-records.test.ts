/**
 * The batch tables on a real SQLite file (src/batches/records.ts): a batch is written whole or
 * not at all, its requests a part at a time; a removal or an archive takes every request away;
 * what a process that died half way left is swept once it is old enough, and only that.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { BatchRecords, type BatchRecord, type RequestRecord } from "../../src/batches/records";
import { sortableId, sortableIdTime } from "../../src/records/ids";
import { openDatabase, type Database } from "../../src/store/db";
import { tempDir } from "../helpers/teams";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function records(): Promise<{ recs: BatchRecords; db: Database }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const db = await openDatabase(`sqlite://${t.dir}/b.db`);
  cleanups.push(() => db.close());
  return { recs: new BatchRecords(db), db };
}

function batch(id: string, n: number): BatchRecord {
  return {
    id, owner: "o", key_id: null, key_name: null, mode: "local", upstream_id: null, submitted: true, status: "in_progress",
    request_count: n, processing: n, succeeded: 0, errored: 0, canceled: 0, expired: 0,
    created_at: new Date().toISOString(), expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    ended_at: null, cancel_initiated_at: null, archived_at: null, polled_at: null, note: null, runner: null, lease_until: null,
  };
}

/** `n` requests of about `bytes` bytes each. */
const requests = (id: string, n: number, bytes = 100): RequestRecord[] =>
  Array.from({ length: n }, (_, seq) => ({
    batch_id: id, seq, custom_id: `r${seq}`, model: "grok-4", upstream_model: "grok-4",
    params: JSON.stringify({ pad: "x".repeat(bytes) }), upstream_body: null, submitted: true, status: "pending", result: null,
  }));

const countOf = async (db: Database, id: string) => Number((await db.sql`SELECT COUNT(*) AS n FROM batch_requests WHERE batch_id = ${id}`)[0].n);

describe("batch records", () => {
  test("ids carry their time", () => {
    const t = Date.UTC(2026, 11, 6, 17, 0, 0, 123);
    expect(sortableIdTime(sortableId("msgbatch_", t), "msgbatch_")).toBe(t);
    expect(sortableIdTime("msgbatch_!!", "msgbatch_")).toBeUndefined();
    expect(sortableIdTime("file_0000000000000000000000", "msgbatch_")).toBeUndefined();
  });

  test("a batch of many parts (by rows and by bytes) is written whole; removed, nothing of it is left", async () => {
    const { recs, db } = await records();
    const id = sortableId("msgbatch_");
    // 1,200 small rows (three parts by count) and 3 rows of 1.5 MB (a part each, by bytes).
    const rows = [...requests(id, 1200), ...requests(id, 3, 1_500_000).map((r, k) => ({ ...r, seq: 1200 + k, custom_id: `big${k}` }))];
    await recs.insert(batch(id, rows.length), rows);
    expect((await recs.get(id))?.request_count).toBe(1203);
    expect(await countOf(db, id)).toBe(1203);
    expect((await recs.pending(id, 5000)).map((r) => r.seq)).toEqual(rows.map((r) => r.seq));
    await recs.remove(id);
    expect(await recs.get(id)).toBeUndefined();
    expect(await countOf(db, id)).toBe(0);
  });

  test("an insert that fails half way leaves nothing: no batch, no request", async () => {
    const { recs, db } = await records();
    const id = sortableId("msgbatch_");
    const rows = requests(id, 1500);
    rows[1200] = { ...rows[1200]!, seq: 3 }; // a second row 3: the third part fails
    await expect(recs.insert(batch(id, rows.length), rows)).rejects.toThrow();
    expect(await recs.get(id)).toBeUndefined();
    expect(await countOf(db, id)).toBe(0);
  });

  test("settling every pending request of a large batch, range by range: all but those in flight, counts in step", async () => {
    const { recs, db } = await records();
    const id = sortableId("msgbatch_");
    await recs.insert(batch(id, 4500), requests(id, 4500));
    expect(await recs.settleAllPending(id, "canceled", new Set([5, 4001]))).toBe(4498);
    expect(await recs.get(id)).toMatchObject({ processing: 2, canceled: 4498 });
    const left = await db.sql`SELECT seq FROM batch_requests WHERE batch_id = ${id} AND status = 'pending' ORDER BY seq`;
    expect(left.map((r: { seq: number }) => Number(r.seq))).toEqual([5, 4001]);
    await recs.setAllPending(id, "errored", { type: "error" });
    expect(Number((await db.sql`SELECT COUNT(*) AS n FROM batch_requests WHERE batch_id = ${id} AND status = 'errored'`)[0].n)).toBe(2);
    expect(await recs.get(id)).toMatchObject({ processing: 2, canceled: 4498 }); // setAllPending leaves the counts alone
  });

  test("another piece of work's transaction that fails meanwhile takes none of the batch's rows with it (one SQLite connection)", async () => {
    const { recs, db } = await records();
    const id = sortableId("msgbatch_");
    const other = db.sql
      .begin(async (tx) => {
        await tx`SELECT 1`;
        await Bun.sleep(10);
        throw new Error("the other transaction failed");
      })
      .catch((e: Error) => e.message);
    await recs.insert(batch(id, 20_000), requests(id, 20_000, 10));
    expect(await other).toBe("the other transaction failed");
    expect((await recs.get(id))?.request_count).toBe(20_000);
    expect(await countOf(db, id)).toBe(20_000);
  });

  test("archived: the batch stays, its requests go", async () => {
    const { recs, db } = await records();
    const id = sortableId("msgbatch_");
    await recs.insert(batch(id, 4500), requests(id, 4500));
    await recs.archive(id, new Date().toISOString());
    expect((await recs.get(id))?.archived_at).not.toBeNull();
    expect(await countOf(db, id)).toBe(0);
  });

  test("the sweep takes what a dead process left, when it is old enough, and nothing else", async () => {
    const { recs, db } = await records();
    const now = Date.now();
    const hourAgo = now - 3600_000;
    const live = sortableId("msgbatch_", now - 7200_000);
    const orphan = sortableId("msgbatch_", now - 7200_000); // its batch row never written
    const young = sortableId("msgbatch_", now - 60_000); // maybe still being written
    const archived = sortableId("msgbatch_", now - 7200_000); // archived, its requests half removed
    await recs.insert(batch(live, 3), requests(live, 3));
    await recs.insert(batch(archived, 3), requests(archived, 3));
    await db.sql`UPDATE batches SET archived_at = ${new Date().toISOString()} WHERE id = ${archived}`;
    for (const id of [orphan, young]) await db.sql`INSERT INTO batch_requests ${db.sql(requests(id, 2500).map((r) => ({ ...r, submitted: 1 })).slice(0, 400))}`;
    expect(await recs.sweepOrphans(hourAgo)).toBe(2);
    expect(await countOf(db, orphan)).toBe(0);
    expect(await countOf(db, archived)).toBe(0);
    expect(await countOf(db, young)).toBe(400);
    expect(await countOf(db, live)).toBe(3);
    expect(await recs.sweepOrphans(hourAgo)).toBe(0);
  });
});
