/**
 * The usage ledger: one row per request served through a model route. Rows are
 * queued in memory and written in batches off the hot path: at most one second
 * after they were queued, and on shutdown (`close`). A crash loses at most the
 * last second. A failed write is kept and tried again with the next batch.
 */
import type { Database } from "./db";
import type { Logger } from "../http/log";

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
/** Rows per INSERT statement (SQLite's bound-parameter limit is 32766; 12 columns a row). */
const BATCH = 1000;

export class Ledger {
  private queue: LedgerRow[] = [];
  private writing: LedgerRow[] = [];
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
  ) {}

  /** Queue a row; it is written within `flushMs`. */
  record(row: LedgerRow): void {
    if (this.closed) return;
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
    const { sql } = this.db;
    try {
      while (this.writing.length > 0) {
        const part = this.writing.slice(0, BATCH);
        await sql`INSERT INTO ledger ${sql(part)}`;
        this.writing = this.writing.slice(part.length);
      }
      if (this.failing) this.logger.info("ledger writes work again", this.dropped ? { rows_dropped_meanwhile: this.dropped } : {});
      this.failing = false;
      this.dropped = 0;
    } catch (e) {
      // Keep the rows for the next attempt, in order.
      this.queue = [...this.writing, ...this.queue];
      if (!this.failing) this.logger.error("ledger write failed; rows kept and retried", { error: (e as Error).message });
      this.failing = true;
      if (!this.closed) this.timer ??= setTimeout(() => ((this.timer = undefined), void this.flush()), Math.max(this.flushMs, 1000));
    } finally {
      this.writing = [];
    }
  }

  /** Rows not yet in the database (queued or being written). */
  private pending(): LedgerRow[] {
    return [...this.writing, ...this.queue];
  }

  /** USD ticks a key spent since `from` (ISO), written or still queued. */
  async spentSince(keyId: string, from: string | undefined): Promise<number> {
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
    await this.flush().catch(() => {});
  }
}
