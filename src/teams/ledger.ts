/**
 * The usage ledger: one row per request served through a model route. Each row is written when
 * its request is answered — before the answer's last bytes go out (RequestContext.commit) — by
 * one INSERT (with the rows of the other requests answered in the same turn of the event loop,
 * one statement for them all): SQLite in WAL mode with synchronous=NORMAL has it once the statement returns, so a
 * crash of the process (kill -9) loses no row whose answer a client received; Postgres has it
 * once the server acknowledged it. A row that cannot be written at once (the database failing,
 * or slower than COMMIT_WAIT_MS) is queued and written with the next batch, off the hot path;
 * the queue is written on shutdown (`close`). Writes are idempotent: a row whose request id is
 * in the ledger already is left as it is (a unique index), so a retried batch counts nothing twice.
 */
import type { Database } from "../store/db";
import type { Logger } from "../http/log";
import { turn } from "../http/slicer";
import { sqlWriter, type RowWriter } from "./ledger-writer";

export interface LedgerRow {
  at: string;
  key_id: string | null;
  model: string | null;
  upstream_model: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cost_ticks: number;
  status: number;
  duration_ms: number;
  path: string;
  request_id: string;
  /** 1 when the usage was estimated rather than reported by the upstream. */
  estimated: 0 | 1;
}

export type GroupBy = "model" | "key" | "day";

export interface UsageQuery {
  keyId?: string;
  /** ISO 8601 bounds: from inclusive, to exclusive (a bare date `to` means through that day). */
  from?: string;
  to?: string;
  groupBy: GroupBy;
}

export interface UsageRow {
  group: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  cost_ticks: number;
}

/** Past this many queued rows (the database is down), the oldest are dropped and the log says so. */
const MAX_QUEUED = 100_000;
/** How long an answer waits for its row; past it, the answer goes on and the row is written when it can. */
export const COMMIT_WAIT_MS = 1000;

export class Ledger {
  private queue: LedgerRow[] = [];
  private writing: LedgerRow[] = [];
  /** Rows being inserted right now, and those inserts. */
  private inserting = new Map<LedgerRow, Promise<void>>();
  /** The rows recorded in this turn of the event loop, written together at its end. */
  private group: { rows: LedgerRow[]; insert: Promise<void> } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> | undefined;
  private failing = false;
  private closed = false;
  /** Rows dropped since the database last took a write (the queue was full). */
  private dropped = 0;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly flushMs = 1000,
    /** How rows reach the database (ledger-writer.ts); default: the database's own connection. */
    private readonly writer: RowWriter = sqlWriter(db),
  ) {}

  /**
   * Write a row now. Resolves once it is in the database, or once it is queued for the next batch
   * (the database failing, or slower than COMMIT_WAIT_MS). Never rejects.
   */
  record(row: LedgerRow): Promise<void> {
    if (this.closed) return Promise.resolve();
    // The database is failing: the row waits with the others for the next attempt.
    if (this.failing) {
      this.enqueue(row);
      return Promise.resolve();
    }
    // Rows of the requests that end in the same turn of the event loop go in together: one
    // statement, one commit (under load, dozens of answers end in one turn).
    let group = this.group;
    if (!group) {
      const rows: LedgerRow[] = [];
      const insert = turn().then(async () => {
        if (this.group?.rows === rows) this.group = undefined;
        try {
          await this.writer.write(rows);
        } catch (e) {
          this.failed(e);
          for (const r of rows) this.enqueue(r);
        } finally {
          for (const r of rows) this.inserting.delete(r);
        }
      });
      group = this.group = { rows, insert };
    }
    group.rows.push(row);
    this.inserting.set(row, group.insert);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<void>((resolve) => (timer = setTimeout(resolve, COMMIT_WAIT_MS)));
    return Promise.race([group.insert, slow]).finally(() => clearTimeout(timer));
  }

  /** Queue a row for the next batch (written within `flushMs`). */
  private enqueue(row: LedgerRow): void {
    if (this.queue.length >= MAX_QUEUED) {
      // A tenth at once: no O(n) shift on every request while the database is away.
      const n = Math.ceil(MAX_QUEUED / 10);
      this.queue.splice(0, n);
      if (this.dropped === 0) this.logger.error("the ledger's queue is full (the database is unreachable): the oldest rows are being dropped", { rows: n });
      this.dropped += n;
    }
    this.queue.push(row);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  private failed(e: unknown): void {
    if (!this.failing) this.logger.error("ledger write failed; rows kept and retried", { error: (e as Error).message });
    this.failing = true;
  }

  /** Write everything queued so far (waits for a write already running). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    this.flushing = this.write().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async write(): Promise<void> {
    this.writing = this.queue;
    this.queue = [];
    try {
      await this.writer.write(this.writing);
      if (this.failing) this.logger.info("ledger writes work again", this.dropped ? { rows_dropped_meanwhile: this.dropped } : {});
      this.failing = false;
      this.dropped = 0;
    } catch (e) {
      // Keep the rows for the next attempt, in order.
      this.queue = [...this.writing, ...this.queue];
      this.failed(e);
      if (!this.closed) this.timer ??= setTimeout(() => ((this.timer = undefined), void this.flush()), Math.max(this.flushMs, 1000));
    } finally {
      this.writing = [];
    }
  }

  /** Rows not yet in the database (queued or being written). */
  private pending(): LedgerRow[] {
    return [...this.inserting.keys(), ...this.writing, ...this.queue];
  }

  /** USD ticks a key spent since `from` (ISO), written or still queued. */
  async spentSince(keyId: string, from: string | undefined): Promise<number> {
    // Inserts under way first: a row is then either in the table or still pending, rarely both.
    await Promise.all(this.inserting.values());
    const { sql } = this.db;
    const rows: Array<{ s: unknown }> = from
      ? await sql`SELECT COALESCE(SUM(cost_ticks), 0) AS s FROM ledger WHERE key_id = ${keyId} AND at >= ${from}`
      : await sql`SELECT COALESCE(SUM(cost_ticks), 0) AS s FROM ledger WHERE key_id = ${keyId}`;
    let ticks = Number(rows[0]?.s ?? 0);
    for (const r of this.pending()) if (r.key_id === keyId && (!from || r.at >= from)) ticks += r.cost_ticks;
    return ticks;
  }

  /** Totals grouped by model, key or UTC day, written rows and queued ones alike. */
  async usage(q: UsageQuery): Promise<UsageRow[]> {
    await Promise.all(this.inserting.values());
    await this.flush();
    const { sql } = this.db;
    const group =
      q.groupBy === "model" ? sql`upstream_model` : q.groupBy === "key" ? sql`key_id` : sql`SUBSTR(at, 1, 10)`;
    const conds = [sql`1 = 1`];
    if (q.keyId) conds.push(sql`key_id = ${q.keyId}`);
    if (q.from) conds.push(sql`at >= ${q.from}`);
    if (q.to) conds.push(sql`at < ${q.to}`);
    let where = conds[0]!;
    for (const c of conds.slice(1)) where = sql`${where} AND ${c}`;
    const rows: Array<Record<string, unknown>> = await sql`
      SELECT ${group} AS grp, COUNT(*) AS requests,
        COALESCE(SUM(input_tokens), 0) AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens,
        COALESCE(SUM(cached_tokens), 0) AS cached_tokens, COALESCE(SUM(cost_ticks), 0) AS cost_ticks
      FROM ledger WHERE ${where} GROUP BY ${group} ORDER BY ${group}`;
    return rows.map((r) => ({
      group: r.grp === null || r.grp === undefined ? null : String(r.grp),
      requests: Number(r.requests),
      input_tokens: Number(r.input_tokens),
      output_tokens: Number(r.output_tokens),
      cached_tokens: Number(r.cached_tokens),
      cost_ticks: Number(r.cost_ticks),
    }));
  }

  /** Stop the timer and write what is queued (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all(this.inserting.values());
    await this.flush().catch(() => {});
    this.writer.close();
  }
}
