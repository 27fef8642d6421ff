/**
 * Files: uploaded once, kept in xAI's Files API (when the upstream is xAI) or on this
 * machine's disk, recorded in the store, and read back when a message names one by
 * `file_id`. A file is its uploader's: anyone else is told it does not exist.
 */
import type { AppDeps } from "../deps";
import { ApiError, invalidRequest } from "../http/errors";
import type { Logger } from "../http/log";
import type { RecordsDb } from "../records/db";
import { sortableId } from "../records/ids";
import { onXai, primaryClient, type Caller } from "../records/upstream";
import { UpstreamError } from "../upstream/errors";
import { LocalBlobs } from "./local-blobs";
import { FileRecords, type FileRecord } from "./records";
import { MAX_EXPIRY_SECONDS, mb, readUpload } from "./upload";
import { UploadThread } from "./upload-thread";
import { XAI_MAX_EXPIRY_SECONDS, XAI_MAX_FILE_BYTES, XaiFiles } from "./xai-files";
import { FILES_DEFAULTS, type FilesConfig } from "../config";
import { DEFAULT_BODY_TIMEOUT_MS } from "../http/body";

/** A file's bytes kept in memory after they were fetched from xAI: a conversation names the same file on every turn. */
const CACHE_BYTES = 64 * 1024 * 1024;
const CACHE_ENTRY_MAX = 16 * 1024 * 1024;

export const notFound = (id: string) =>
  new ApiError(404, `File not found: ${id}`, { type: "not_found_error", retryable: false });

/** The metadata Anthropic's API answers with (GA and beta alike). */
export function fileMetadata(f: FileRecord) {
  return {
    id: f.id,
    type: "file" as const,
    filename: f.filename,
    mime_type: f.mime_type,
    size_bytes: f.size_bytes,
    created_at: f.created_at,
    downloadable: f.downloadable,
    expires_at: f.expires_at,
  };
}

export const filesConfig = (deps: AppDeps): FilesConfig => deps.config.files ?? FILES_DEFAULTS;

/** How often expired files are looked for. */
const SWEEP_MS = 10 * 60_000;

export class FileService {
  private readonly cache = new Map<string, Uint8Array>();
  private cached = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  /** Where large uploads are parsed and hashed (never on the thread that serves requests). */
  private readonly uploads: UploadThread;

  constructor(
    private readonly db: RecordsDb,
    private readonly logger: Logger,
  ) {
    this.uploads = new UploadThread((err) => logger.warn("upload thread failed; large uploads read in place meanwhile", { error: err.message }));
  }

  /** Expired files out now and then (once the store may hold files). */
  start(current: () => AppDeps, everyMs = SWEEP_MS): void {
    const sweep = () => {
      if (!this.db.active) return;
      this.sweep(current()).catch((e) => this.logger.warn("looking for expired files failed", { error: (e as Error).message }));
    };
    this.timer = setInterval(sweep, everyMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.uploads.stop();
  }

  /** Whether any file may exist (else the store is not opened to find out). */
  get active(): boolean {
    return this.db.active;
  }

  async records(): Promise<FileRecords> {
    return new FileRecords(await this.db.get());
  }

  private blobs(deps: AppDeps): LocalBlobs {
    return new LocalBlobs(filesConfig(deps).dir);
  }

  /** Reads the upload from the request, keeps its bytes, records it. */
  async upload(deps: AppDeps, who: Caller, request: Request): Promise<FileRecord> {
    const cfg = filesConfig(deps);
    const xai = onXai(cfg.upstream, deps.upstream.baseUrl);
    const limit = xai ? Math.min(cfg.maxBytes, XAI_MAX_FILE_BYTES) : cfg.maxBytes;
    const why = xai && limit === XAI_MAX_FILE_BYTES ? "(xAI's Files API takes at most 50 MB a file)" : "([files] max_bytes)";
    const limits = { limit, why, maxExpirySeconds: xai ? XAI_MAX_EXPIRY_SECONDS : MAX_EXPIRY_SECONDS };
    const up = await readUpload(request, limits, deps.config.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS, this.uploads);
    const records = await this.records();
    const now = new Date();
    const record: FileRecord = {
      id: sortableId("file_", now.getTime()),
      owner: who.owner,
      filename: up.filename,
      mime_type: up.mimeType,
      size_bytes: up.bytes.byteLength,
      sha256: up.sha256,
      created_at: now.toISOString(),
      expires_at: up.expiresInSeconds === undefined ? null : new Date(now.getTime() + up.expiresInSeconds * 1000).toISOString(),
      downloadable: false, // as Anthropic: what a client uploaded is not downloaded back
      location: xai ? "xai" : "local",
      upstream_id: null,
    };
    if (xai) {
      const x = await new XaiFiles(primaryClient(deps), who.key).upload(up.filename, up.mimeType, up.bytes, up.expiresInSeconds, request.signal);
      record.upstream_id = x.id;
      try {
        await records.insert(record);
      } catch (e) {
        await new XaiFiles(primaryClient(deps), who.key).remove(x.id, AbortSignal.timeout(30_000)).catch(() => {});
        throw e;
      }
    } else {
      const used = await records.localBytes();
      if (used + up.bytes.byteLength > cfg.storeMaxBytes) {
        throw new ApiError(400, `the file store is full: ${mb(used)} of ${mb(cfg.storeMaxBytes)} used ([files] store_max_bytes); delete files to make room`, {
          retryable: false,
          details: { error_code: "storage_quota_exceeded" },
        });
      }
      await this.blobs(deps).put(record.id, up.bytes);
      try {
        await records.insert(record);
      } catch (e) {
        this.blobs(deps).remove(record.id);
        throw e;
      }
    }
    this.logger.info("file uploaded", { file_id: record.id, bytes: record.size_bytes, mime_type: record.mime_type, location: record.location });
    return record;
  }

  /** The caller's file, or a 404 (missing, someone else's, expired). */
  async get(who: Caller, id: string): Promise<FileRecord> {
    if (!this.db.active) throw notFound(id); // nothing was ever uploaded here: the store is not even opened
    const f = await (await this.records()).get(id);
    if (!f || f.owner !== who.owner) throw notFound(id);
    if (f.expires_at && Date.parse(f.expires_at) <= Date.now()) {
      throw new ApiError(404, `File ${id} expired at ${f.expires_at}`, { type: "not_found_error", retryable: false, details: { error_code: "file_expired" } });
    }
    return f;
  }

  /** The bytes of the caller's file (for a message that names it). */
  async read(deps: AppDeps, who: Caller, id: string, signal: AbortSignal): Promise<{ file: FileRecord; bytes: Uint8Array }> {
    const file = await this.get(who, id);
    if (file.location === "local") {
      const bytes = await this.blobs(deps).get(file.id);
      if (!bytes) throw new ApiError(500, `the bytes of file ${id} are missing from ${filesConfig(deps).dir}`, { type: "api_error" });
      return { file, bytes };
    }
    const hit = this.cache.get(file.id);
    if (hit) {
      this.cache.delete(file.id); // most recently used last
      this.cache.set(file.id, hit);
      return { file, bytes: hit };
    }
    let bytes: Uint8Array;
    try {
      bytes = await new XaiFiles(primaryClient(deps), who.key).download(file.upstream_id!, file.size_bytes + 1024 * 1024, signal);
    } catch (e) {
      if (e instanceof UpstreamError && e.upstreamStatus === 404) {
        throw new ApiError(404, `File ${id} is no longer in xAI's Files API (it expired or was deleted there)`, { type: "not_found_error", retryable: false });
      }
      throw e;
    }
    this.remember(file.id, bytes);
    return { file, bytes };
  }

  private remember(id: string, bytes: Uint8Array): void {
    if (bytes.byteLength > CACHE_ENTRY_MAX) return;
    this.cache.set(id, bytes);
    this.cached += bytes.byteLength;
    for (const [k, v] of this.cache) {
      if (this.cached <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.cached -= v.byteLength;
    }
  }

  private forget(id: string): void {
    const b = this.cache.get(id);
    if (b) this.cached -= b.byteLength;
    this.cache.delete(id);
  }

  /** Deletes the caller's file: its upstream copy first (a failure there leaves the record, to try again), then the record. */
  async remove(deps: AppDeps, who: Caller, id: string, signal: AbortSignal): Promise<void> {
    if (!this.db.active) throw notFound(id);
    const records = await this.records();
    const f = await records.get(id);
    if (!f || f.owner !== who.owner) throw notFound(id);
    await this.dropBytes(deps, f, who.key, signal);
    await records.remove(id);
    this.logger.info("file deleted", { file_id: id, location: f.location });
  }

  private async dropBytes(deps: AppDeps, f: FileRecord, key: string | undefined, signal: AbortSignal): Promise<void> {
    this.forget(f.id);
    if (f.location === "local") return this.blobs(deps).remove(f.id);
    try {
      await new XaiFiles(primaryClient(deps), key).remove(f.upstream_id!, signal);
    } catch (e) {
      if (!(e instanceof UpstreamError && e.upstreamStatus === 404)) throw e; // gone already: fine
    }
  }

  /** Expired files out, with their bytes (called now and then by the server). */
  async sweep(deps: AppDeps): Promise<number> {
    const records = await this.records();
    const gone = await records.expired(new Date().toISOString());
    let n = 0;
    for (const f of gone) {
      try {
        // xAI expires its copy itself (the same expiry was given at upload); a pooled key can still delete it.
        if (f.location === "local" || deps.pool.size > 0) await this.dropBytes(deps, f, undefined, AbortSignal.timeout(30_000));
        await records.remove(f.id);
        n++;
      } catch (e) {
        this.logger.warn("an expired file could not be removed yet", { file_id: f.id, error: (e as Error).message });
      }
    }
    return n;
  }
}

/** `limit` of a list: 1 to 1000, default 20. */
export function listLimit(raw: string | null): number {
  if (raw === null || raw === "") return 20;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 1000) throw invalidRequest(`limit: expected an integer from 1 to 1000 (got ${JSON.stringify(raw)})`);
  return n;
}
