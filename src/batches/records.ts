/**
 * The batches and batch_requests tables. A batch row carries its counts (kept in step with
 * its requests' statuses: a request leaves `pending` once, and its batch's counts move in
 * the same step) and, while an instance works on it, that instance's claim (`runner`,
 * `lease_until`), so two instances sharing a store never run the same batch.
 */
import type { Database } from "../store/db";
import { sortableIdTime } from "../records/ids";
import { turn } from "../http/slicer";

export type BatchStatus = "in_progress" | "canceling" | "ended";
export type RequestStatus = "pending" | "succeeded" | "errored" | "canceled" | "expired";
export type BatchMode = "xai" | "local";

export interface BatchRecord {
  id: string;
  owner: string;
  key_id: string | null;
  key_name: string | null;
  mode: BatchMode;
  upstream_id: string | null;
  submitted: boolean;
  status: BatchStatus;
  request_count: number;
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
  cancel_initiated_at: string | null;
  archived_at: string | null;
  polled_at: string | null;
  note: string | null;
  runner: string | null;
  lease_until: string | null;
}

export interface RequestRecord {
  batch_id: string;
  seq: number;
  custom_id: string;
  /** The model the client named, and the upstream model it was routed to at create time. */
  model: string;
  upstream_model: string;
  /** The validated request (documents already read), as JSON. */
  params: string | null;
  /** The translated body for xAI's Batch API, until it is submitted. */
  upstream_body: string | null;
  submitted: boolean;
  status: RequestStatus;
  /** The result line's `result`, as JSON, once known. */
  result: string | null;
}

const NUMBERS = ["request_count", "processing", "succeeded", "errored", "canceled", "expired"] as const;

function batchFromRow(r: Record<string, unknown>): BatchRecord {
  const b = { ...r } as Record<string, unknown>;
  for (const k of NUMBERS) b[k] = Number(r[k] ?? 0);
  b.submitted = Number(r.submitted) === 1;
  return b as unknown as BatchRecord;
}

const requestFromRow = (r: Record<string, unknown>): RequestRecord =>
  ({ ...r, seq: Number(r.seq), submitted: Number(r.submitted) === 1 }) as unknown as RequestRecord;

/** Rows per INSERT (SQLite takes at most 32766 parameters; 10 columns a row). */
const INSERT_ROWS = 500;
/** About this many bytes of requests per INSERT (one statement holds the event loop while SQLite writes it). */
const INSERT_BYTES = 512 * 1024;
/** Requests per statement that updates or deletes a batch's requests, for the same reason. */
const RANGE_ROWS = 500;

const COUNT_OF: Record<Exclude<RequestStatus, "pending">, "succeeded" | "errored" | "canceled" | "expired"> = {
  succeeded: "succeeded",
  errored: "errored",
  canceled: "canceled",
  expired: "expired",
};

export class BatchRecords {
  constructor(readonly db: Database) {}

  /**
   * The batch and all its requests: the requests first, a part at a time (a statement of at most
   * INSERT_ROWS rows or about INSERT_BYTES, with a turn of the event loop between two: SQLite
   * writes on this thread, and a batch may hold 256 MB), then the batch's row. A batch is seen by
   * nothing (lists, workers, results) until its row is written, so it is accepted whole or not at
   * all; the parts of one that failed half way are taken back, and those of an instance that
   * died meanwhile are swept later (sweepOrphans). Each statement is a transaction of its own: on
   * SQLite every query shares one connection, and a plain statement issued while another piece of
   * work has a transaction open runs inside it (and is rolled back with it); a `begin` waits its turn.
   */
  async insert(b: BatchRecord, requests: RequestRecord[]): Promise<void> {
    const { sql } = this.db;
    try {
      for (let i = 0; i < requests.length; ) {
        if (i > 0) await turn();
        const part: Array<Record<string, unknown>> = [];
        for (let bytes = 0; i < requests.length && part.length < INSERT_ROWS && (part.length === 0 || bytes < INSERT_BYTES); i++) {
          const r = requests[i]!;
          bytes += (r.params?.length ?? 0) + (r.upstream_body?.length ?? 0);
          part.push({ ...r, submitted: r.submitted ? 1 : 0 });
        }
        await sql.begin((tx) => tx`INSERT INTO batch_requests ${tx(part)}`);
      }
      await sql.begin((tx) => tx`INSERT INTO batches ${tx({ ...b, submitted: b.submitted ? 1 : 0 })}`);
    } catch (e) {
      await this.removeRequests(b.id).catch(() => {});
      throw e;
    }
  }

  /**
   * What a process that died half way left: requests whose batch has no row (an insert that
   * never finished, or a removal) and requests of an archived batch (an archive). Only batches
   * made before `beforeMs`: a younger one may be an insert still on its way, on this instance or
   * another. The batches with requests are found one index seek at a time (never a scan of every
   * request), with a turn of the event loop now and then. Returns how many batches were swept.
   */
  async sweepOrphans(beforeMs: number): Promise<number> {
    const { sql } = this.db;
    let swept = 0;
    let after = "";
    for (let n = 1; ; n++) {
      if (n % 64 === 0) await turn();
      const next: Array<{ batch_id: string }> = await sql`SELECT batch_id FROM batch_requests WHERE batch_id > ${after} ORDER BY batch_id LIMIT 1`;
      if (next.length === 0) return swept;
      const id = next[0]!.batch_id;
      after = id;
      // By the time in the id, here: the store's collation need not order ids as they were made.
      if ((sortableIdTime(id, "msgbatch_") ?? 0) >= beforeMs) continue;
      const kept: Array<{ archived_at: string | null }> = await sql`SELECT archived_at FROM batches WHERE id = ${id}`;
      if (kept.length > 0 && kept[0]!.archived_at === null) continue;
      await this.removeRequests(id);
      swept++;
    }
  }

  async get(id: string): Promise<BatchRecord | undefined> {
    const rows: Array<Record<string, unknown>> = await this.db.sql`SELECT * FROM batches WHERE id = ${id}`;
    return rows[0] ? batchFromRow(rows[0]) : undefined;
  }

  /** An owner's batches, newest first (all owners' when `owner` is undefined). */
  async page(owner: string | undefined, limit: number, cursor: { afterId?: string; beforeId?: string }): Promise<{ data: BatchRecord[]; hasMore: boolean }> {
    const { sql } = this.db;
    const mine = owner === undefined ? sql`1 = 1` : sql`owner = ${owner}`;
    if (cursor.beforeId !== undefined) {
      const rows: Array<Record<string, unknown>> = await sql`SELECT * FROM batches WHERE ${mine} AND id > ${cursor.beforeId} ORDER BY id ASC LIMIT ${limit + 1}`;
      return { data: rows.slice(0, limit).reverse().map(batchFromRow), hasMore: rows.length > limit };
    }
    const rows: Array<Record<string, unknown>> =
      cursor.afterId !== undefined
        ? await sql`SELECT * FROM batches WHERE ${mine} AND id < ${cursor.afterId} ORDER BY id DESC LIMIT ${limit + 1}`
        : await sql`SELECT * FROM batches WHERE ${mine} ORDER BY id DESC LIMIT ${limit + 1}`;
    return { data: rows.slice(0, limit).map(batchFromRow), hasMore: rows.length > limit };
  }

  /** Batches not yet ended (the work of every instance). */
  async unfinished(): Promise<BatchRecord[]> {
    const rows: Array<Record<string, unknown>> = await this.db.sql`SELECT * FROM batches WHERE status <> 'ended' ORDER BY id`;
    return rows.map(batchFromRow);
  }

  /** Ended batches created before `beforeIso` whose results are still kept. */
  async toArchive(beforeIso: string): Promise<BatchRecord[]> {
    const rows: Array<Record<string, unknown>> = await this.db
      .sql`SELECT * FROM batches WHERE status = 'ended' AND archived_at IS NULL AND created_at < ${beforeIso} ORDER BY id LIMIT 100`;
    return rows.map(batchFromRow);
  }

  /** Claims the batch for `runner` until `untilIso`, unless another instance holds a claim that has not run out. */
  async claim(id: string, runner: string, nowIso: string, untilIso: string): Promise<boolean> {
    const r = await this.db.sql`UPDATE batches SET runner = ${runner}, lease_until = ${untilIso}
      WHERE id = ${id} AND (runner IS NULL OR runner = ${runner} OR lease_until IS NULL OR lease_until < ${nowIso})`;
    return r.count === 1;
  }

  /** Gives up every claim of `runner` (a stopping instance: another may take over at once). */
  async release(runner: string): Promise<void> {
    await this.db.sql`UPDATE batches SET runner = NULL, lease_until = NULL WHERE runner = ${runner}`;
  }

  async update(id: string, fields: Partial<BatchRecord>): Promise<void> {
    const { sql } = this.db;
    const row: Record<string, unknown> = { ...fields };
    if (fields.submitted !== undefined) row.submitted = fields.submitted ? 1 : 0;
    await sql`UPDATE batches SET ${sql(row)} WHERE id = ${id}`;
  }

  /** Moves the batch to `ended` unless it is already there; true for the one caller that moved it. */
  async end(id: string, nowIso: string): Promise<boolean> {
    const r = await this.db.sql`UPDATE batches SET status = 'ended', ended_at = ${nowIso}, runner = NULL, lease_until = NULL WHERE id = ${id} AND status <> 'ended'`;
    return r.count === 1;
  }

  /** The batch and its requests: its row first (nothing sees the batch from then on), then its requests a part at a time. */
  async remove(id: string): Promise<void> {
    await this.db.sql.begin((tx) => tx`DELETE FROM batches WHERE id = ${id}`);
    await this.removeRequests(id);
  }

  /** The batch's requests are gone; the batch stays, with its counts, marked archived (first: what is left of a crash is swept). */
  async archive(id: string, nowIso: string): Promise<void> {
    await this.db.sql.begin((tx) => tx`UPDATE batches SET archived_at = ${nowIso} WHERE id = ${id}`);
    await this.removeRequests(id);
  }

  /** A batch's requests, a range at a time (inRanges). */
  private async removeRequests(id: string): Promise<void> {
    await this.inRanges(id, async (from, to) => {
      await this.db.sql.begin((tx) => tx`DELETE FROM batch_requests WHERE batch_id = ${id} AND seq >= ${from} AND seq < ${to}`);
    });
  }

  /** Pending requests in order, from `afterSeq` on, at most `limit`. */
  async pending(batchId: string, limit: number, afterSeq = -1): Promise<RequestRecord[]> {
    const rows: Array<Record<string, unknown>> = await this.db
      .sql`SELECT * FROM batch_requests WHERE batch_id = ${batchId} AND status = 'pending' AND seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`;
    return rows.map(requestFromRow);
  }

  /** Requests not yet sent to xAI, in order. */
  async unsubmitted(batchId: string, limit: number): Promise<RequestRecord[]> {
    const rows: Array<Record<string, unknown>> = await this.db
      .sql`SELECT * FROM batch_requests WHERE batch_id = ${batchId} AND submitted = 0 ORDER BY seq LIMIT ${limit}`;
    return rows.map(requestFromRow);
  }

  async markSubmitted(batchId: string, seqs: number[]): Promise<void> {
    const { sql } = this.db;
    await sql`UPDATE batch_requests SET submitted = 1, upstream_body = NULL WHERE batch_id = ${batchId} AND seq IN ${sql(seqs)}`;
  }

  /** Requests in order from `afterSeq` on (the results, a page at a time). */
  async requests(batchId: string, afterSeq: number, limit: number): Promise<RequestRecord[]> {
    const rows: Array<Record<string, unknown>> = await this.db
      .sql`SELECT * FROM batch_requests WHERE batch_id = ${batchId} AND seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`;
    return rows.map(requestFromRow);
  }

  /**
   * A pending request's outcome, and its batch's counts in the same transaction. A request
   * that is no longer pending (settled by another path) is left alone: false.
   */
  async settle(batchId: string, seq: number, status: Exclude<RequestStatus, "pending">, result: unknown): Promise<boolean> {
    const col = COUNT_OF[status];
    return this.db.sql.begin(async (tx) => {
      const r = await tx`UPDATE batch_requests SET status = ${status}, result = ${JSON.stringify(result)}, params = NULL
        WHERE batch_id = ${batchId} AND seq = ${seq} AND status = 'pending'`;
      if (r.count !== 1) return false;
      await tx`UPDATE batches SET processing = processing - 1, ${tx.unsafe(col)} = ${tx.unsafe(col)} + 1 WHERE id = ${batchId}`;
      return true;
    });
  }

  /** Every pending request of the batch settled with the same outcome (cancel, expiry); the counts follow. */
  async settleAllPending(batchId: string, status: "canceled" | "expired", except: ReadonlySet<number> = new Set()): Promise<number> {
    const result = JSON.stringify({ type: status });
    const col = COUNT_OF[status];
    let total = 0;
    // A range of requests per transaction (its counts moved in the same step), a turn of the event loop between two.
    // `except` is read again for each range: a request that started meanwhile is in flight too.
    await this.inRanges(batchId, async (from, to) => {
      const skip = [...except].filter((seq) => seq >= from && seq < to);
      total += await this.db.sql.begin(async (tx) => {
        const r =
          skip.length > 0
            ? await tx`UPDATE batch_requests SET status = ${status}, result = ${result}, params = NULL
                WHERE batch_id = ${batchId} AND seq >= ${from} AND seq < ${to} AND status = 'pending' AND seq NOT IN ${tx(skip)}`
            : await tx`UPDATE batch_requests SET status = ${status}, result = ${result}, params = NULL
                WHERE batch_id = ${batchId} AND seq >= ${from} AND seq < ${to} AND status = 'pending'`;
        const n = r.count;
        if (n > 0) await tx`UPDATE batches SET processing = processing - ${n}, ${tx.unsafe(col)} = ${tx.unsafe(col)} + ${n} WHERE id = ${batchId}`;
        return n;
      });
    });
    return total;
  }

  /**
   * Runs `step` over a batch's requests by ranges of seq, RANGE_ROWS wide, with a turn of the event
   * loop between two: SQLite works on this thread, and one statement over 100,000 requests held it.
   */
  private async inRanges(batchId: string, step: (from: number, to: number) => Promise<void>): Promise<void> {
    const rows: Array<{ last: number | string | null }> = await this.db.sql`SELECT MAX(seq) AS last FROM batch_requests WHERE batch_id = ${batchId}`;
    const last = rows[0]?.last === null || rows[0]?.last === undefined ? -1 : Number(rows[0].last);
    for (let from = 0; from <= last; from += RANGE_ROWS) {
      if (from > 0) await turn();
      await step(from, from + RANGE_ROWS);
    }
  }

  /**
   * A pending request's outcome without touching the counts (xAI's results, written before
   * `recount`); false when it was no longer pending (a finish interrupted and done again).
   */
  async setResult(batchId: string, seq: number, status: Exclude<RequestStatus, "pending">, result: unknown): Promise<boolean> {
    const r = await this.db.sql`UPDATE batch_requests SET status = ${status}, result = ${JSON.stringify(result)}, params = NULL
      WHERE batch_id = ${batchId} AND seq = ${seq} AND status = 'pending'`;
    return r.count === 1;
  }

  /** Every request still pending gets the same outcome, counts untouched (see setResult). */
  async setAllPending(batchId: string, status: Exclude<RequestStatus, "pending">, result: unknown): Promise<void> {
    const json = JSON.stringify(result);
    await this.inRanges(batchId, async (from, to) => {
      await this.db.sql.begin(
        (tx) => tx`UPDATE batch_requests SET status = ${status}, result = ${json}, params = NULL
          WHERE batch_id = ${batchId} AND seq >= ${from} AND seq < ${to} AND status = 'pending'`,
      );
    });
  }

  /** The pending requests among `customIds`. */
  async pendingByCustomId(batchId: string, customIds: string[]): Promise<RequestRecord[]> {
    if (customIds.length === 0) return [];
    const { sql } = this.db;
    const rows: Array<Record<string, unknown>> = await sql`SELECT * FROM batch_requests
      WHERE batch_id = ${batchId} AND status = 'pending' AND custom_id IN ${sql(customIds)}`;
    return rows.map(requestFromRow);
  }

  /** The batch's counts from its requests' statuses. */
  async recount(batchId: string): Promise<void> {
    const rows: Array<{ status: string; n: unknown }> = await this.db
      .sql`SELECT status, COUNT(*) AS n FROM batch_requests WHERE batch_id = ${batchId} GROUP BY status`;
    const c = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    for (const r of rows) {
      const n = Number(r.n);
      if (r.status === "pending") c.processing += n;
      else if (r.status in c) c[r.status as keyof typeof c] += n;
    }
    await this.update(batchId, c);
  }

  /** Pending requests left. */
  async pendingCount(batchId: string): Promise<number> {
    const rows: Array<{ n: unknown }> = await this.db.sql`SELECT COUNT(*) AS n FROM batch_requests WHERE batch_id = ${batchId} AND status = 'pending'`;
    return Number(rows[0]?.n ?? 0);
  }
}
