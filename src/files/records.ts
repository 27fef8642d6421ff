/** The files table: one row per uploaded file, whoever keeps its bytes (this machine's disk or xAI). */
import type { Database } from "../store/db";

export interface FileRecord {
  id: string;
  owner: string;
  filename: string;
  mime_type: string;
  size_bytes: number;
  sha256: string;
  created_at: string;
  expires_at: string | null;
  downloadable: boolean;
  /** "local": under `[files] dir`; "xai": in xAI's Files API as `upstream_id`. */
  location: "local" | "xai";
  upstream_id: string | null;
}

type Row = Omit<FileRecord, "downloadable" | "size_bytes"> & { downloadable: unknown; size_bytes: unknown };

const fromRow = (r: Row): FileRecord => ({ ...r, size_bytes: Number(r.size_bytes), downloadable: Number(r.downloadable) === 1 });

export interface FilePage {
  data: FileRecord[];
  hasMore: boolean;
}

export class FileRecords {
  constructor(private readonly db: Database) {}

  async insert(f: FileRecord): Promise<void> {
    const { sql } = this.db;
    await sql`INSERT INTO files ${sql({ ...f, downloadable: f.downloadable ? 1 : 0 })}`;
  }

  async get(id: string): Promise<FileRecord | undefined> {
    const rows: Row[] = await this.db.sql`SELECT * FROM files WHERE id = ${id}`;
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async remove(id: string): Promise<void> {
    await this.db.sql`DELETE FROM files WHERE id = ${id}`;
  }

  /** An owner's files, newest first: after `afterId` (older), or before `beforeId` (newer), at most `limit`. */
  async page(owner: string, limit: number, cursor: { afterId?: string; beforeId?: string }): Promise<FilePage> {
    const { sql } = this.db;
    let rows: Row[];
    if (cursor.beforeId !== undefined) {
      rows = await sql`SELECT * FROM files WHERE owner = ${owner} AND id > ${cursor.beforeId} ORDER BY id ASC LIMIT ${limit + 1}`;
      const hasMore = rows.length > limit;
      return { data: rows.slice(0, limit).reverse().map(fromRow), hasMore };
    }
    rows =
      cursor.afterId !== undefined
        ? await sql`SELECT * FROM files WHERE owner = ${owner} AND id < ${cursor.afterId} ORDER BY id DESC LIMIT ${limit + 1}`
        : await sql`SELECT * FROM files WHERE owner = ${owner} ORDER BY id DESC LIMIT ${limit + 1}`;
    return { data: rows.slice(0, limit).map(fromRow), hasMore: rows.length > limit };
  }

  /** The owner's files among `ids`, newest first. */
  async some(owner: string, ids: string[]): Promise<FileRecord[]> {
    if (ids.length === 0) return [];
    const { sql } = this.db;
    const rows: Row[] = await sql`SELECT * FROM files WHERE owner = ${owner} AND id IN ${sql(ids)} ORDER BY id DESC`;
    return rows.map(fromRow);
  }

  /** Bytes kept on this machine, in all. */
  async localBytes(): Promise<number> {
    const rows: Array<{ n: unknown }> = await this.db.sql`SELECT COALESCE(SUM(size_bytes), 0) AS n FROM files WHERE location = 'local'`;
    return Number(rows[0]?.n ?? 0);
  }

  /** Files whose expiry has passed (at most `limit`). */
  async expired(nowIso: string, limit = 100): Promise<FileRecord[]> {
    const rows: Row[] = await this.db.sql`SELECT * FROM files WHERE expires_at IS NOT NULL AND expires_at <= ${nowIso} ORDER BY id LIMIT ${limit}`;
    return rows.map(fromRow);
  }
}
