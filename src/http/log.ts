/**
 * The log: one JSON line per event, to the log file and to stdout.
 * Access entries carry names, numbers and timings — never a key, never prompt
 * text. Only the `debug` level (explicit opt-in) logs request bodies, with
 * secret-named fields masked. Any configured key that still finds its way into
 * a line is replaced by its fingerprint before the line is written.
 *
 * The file is rotated by size (`app.log` → `app.log.1` …) and reopened on
 * request (SIGUSR1, for logrotate).
 */
import type { FileSink } from "bun";
import { closeSync, fstatSync, mkdirSync, openSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { maskSecret } from "../redact";

export const LogLevelSchema = Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")]);
export type LogLevel = Static<typeof LogLevelSchema>;
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface AccessEntry {
  request_id: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  /** Time to the first streamed token, for streams. */
  ttft_ms?: number;
  model?: string;
  upstream_model?: string;
  /** The routing rule that chose the upstream model. */
  route?: string;
  stream?: boolean;
  input_tokens?: number;
  output_tokens?: number;
  /** Input tokens read from the upstream's prompt cache (not in input_tokens). */
  cached_tokens?: number;
  /** What the upstream said it cost (xAI's `cost_in_usd_ticks`; 10^10 ticks = 1 USD). */
  cost_ticks?: number;
  /** What the request cost: cost_ticks, else the usage × the catalog's prices. */
  cost_usd?: number;
  /** The upstream reported no usage (client gone, stream cut, timeout): the token counts are the gateway's estimates (the ledger row says so too). */
  estimated?: boolean;
  /** Upstream requests made for this one (retries and key moves included). */
  upstream_attempts?: number;
  /** Set when a fallback served the request: "fallback 1", … */
  upstream_target?: string;
  /** Fingerprint of the pooled key that served it (never the key). */
  upstream_key?: string;
  /** The name of the virtual key the request was made with (never the key). */
  key_name?: string;
  /** The message batch a request ran for (a batch run by the gateway itself). */
  batch_id?: string;
  /** Grok's encrypted reasoning items given back to it, and whence: "signature", "store" or "signature+store". */
  reasoning_restored?: number;
  reasoning_from?: string;
  error?: string;
}

export type Fields = Record<string, unknown>;

export interface Logger {
  /** One access entry per request, at info level. */
  access(entry: AccessEntry): void;
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** Whether a line at `level` would be written: check before building costly fields. */
  enabled(level: LogLevel): boolean;
  setLevel(level: LogLevel): void;
  /** Strings that must never be written (the configured keys); replaced by their fingerprint. */
  setSecrets(secrets: readonly string[]): void;
  /** Close and reopen the file at its path (after logrotate moved it). */
  reopen(): void;
  close(): Promise<void>;
}

export interface LoggerOptions {
  file: string | null;
  stdout: boolean;
  level?: LogLevel;
  /** Rotate the file when it reaches this many bytes; 0 = never. */
  maxBytes?: number;
  /** Rotated files kept (`app.log.1` … `app.log.N`). */
  keep?: number;
}

/**
 * Longest line written, in characters: a request can name thousands of things (3,000
 * server tools once made a 30 MB warning), and a few such lines would rotate the whole
 * history away. `debug` lines (request bodies, by explicit opt-in) get more room.
 */
export const MAX_LINE_CHARS = 64 * 1024;
export const MAX_DEBUG_LINE_CHARS = 8 * 1024 * 1024;
/** Past the line limit, each field keeps at most this much of its JSON. */
const FIELD_CHARS = 1024;

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}… (${s.length} characters)` : s);

/** A line too long for the log: each long field cut short (as text), and a note of what was cut. */
function boundedLine(obj: Fields, length: number, max: number): string {
  const out: Fields = {};
  const cutFields: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const json = typeof v === "string" ? v : JSON.stringify(v);
    if (json !== undefined && json.length > FIELD_CHARS) {
      out[k] = cut(json, FIELD_CHARS);
      cutFields.push(k);
    } else out[k] = v;
  }
  out.truncated = { characters: length, fields: cutFields.slice(0, 20) };
  const line = JSON.stringify(out);
  if (line.length <= max) return line;
  // Too many fields even so: what matters most, and a note.
  const { time, level, msg, request_id } = out;
  return JSON.stringify({ time, level, msg, request_id, truncated: { characters: length, fields: Object.keys(obj).length } });
}

const warnStderr = (msg: string) => process.stderr.write(`grok2api: ${msg}\n`);

/**
 * An append-only file that rotates itself by size and can be reopened. Writes go
 * through a native FileSink (one write per batch of lines), not Node's stream
 * machinery, which cost a quarter of the CPU of a small request.
 */
class LogFile {
  private fd: number;
  private sink: FileSink;
  private size = 0;
  private failed = false;
  /** Files replaced by a rotation or reopen, still flushing. */
  private readonly ending = new Set<Promise<void>>();

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    [this.fd, this.sink] = this.open();
  }

  /** Opened synchronously, so the file exists (and can be rotated) as soon as this returns. Throws. */
  private open(): [number, FileSink] {
    const fd = openSync(this.path, "a");
    this.size = fstatSync(fd).size;
    return [fd, Bun.file(fd).writer()];
  }

  private readonly fail = (e: unknown) => {
    if (this.failed) return;
    this.failed = true; // once: a full disk must not flood stderr
    warnStderr(`cannot write log file ${this.path}: ${(e as Error).message}`);
  };

  write(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.maxBytes > 0 && this.size + bytes >= this.maxBytes && text.indexOf("\n") < text.length - 1) {
      // This batch crosses the size limit: line by line, so rotation happens at the right line.
      for (const line of text.slice(0, -1).split("\n")) this.write(line + "\n");
      return;
    }
    try {
      this.sink.write(text);
      const f = this.sink.flush();
      if (typeof f !== "number") f.catch(this.fail);
    } catch (e) {
      this.fail(e);
    }
    this.size += bytes;
    if (this.maxBytes > 0 && this.size >= this.maxBytes) this.rotate();
  }

  /** app.log.(N-1) → app.log.N, …, app.log → app.log.1, then a fresh app.log. */
  private rotate(): void {
    try {
      for (let i = this.keep - 1; i >= 1; i--) {
        try {
          renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        }
      }
      renameSync(this.path, `${this.path}.1`);
    } catch (e) {
      warnStderr(`cannot rotate log file ${this.path}: ${(e as Error).message}`);
      this.size = 0; // try again after another maxBytes, not on every line
      return;
    }
    this.reopen();
  }

  /** Lines already handed to the old file still land in it (it keeps its inode). On failure the old file stays in use. */
  reopen(): void {
    let next: [number, FileSink];
    try {
      next = this.open();
    } catch (e) {
      warnStderr(`cannot reopen log file ${this.path}: ${(e as Error).message}`);
      return;
    }
    const [oldFd, oldSink] = [this.fd, this.sink];
    [this.fd, this.sink] = next;
    this.failed = false;
    this.end(oldFd, oldSink);
  }

  private end(fd: number, sink: FileSink): Promise<void> {
    const done: Promise<void> = Promise.resolve()
      .then(() => sink.end())
      .then(
        () => {},
        () => {},
      )
      .finally(() => closeSync(fd));
    this.ending.add(done);
    void done.then(() => this.ending.delete(done));
    return done;
  }

  /** Resolves when every line written so far is in the files. */
  async close(): Promise<void> {
    await this.end(this.fd, this.sink);
    await Promise.all([...this.ending]);
  }
}

export function createLogger(opts: LoggerOptions): Logger {
  const file = opts.file ? new LogFile(opts.file, opts.maxBytes ?? 0, Math.max(1, opts.keep ?? 5)) : null;
  let threshold = RANK[opts.level ?? "info"];
  let secrets: Array<[string, string]> = [];

  const scrub = (line: string): string => {
    for (const [secret, fp] of secrets) if (line.includes(secret)) line = line.replaceAll(secret, fp);
    return line;
  };
  // Lines are gathered and written once per turn of the event loop: one write per batch,
  // in order, as soon as the current turn ends.
  let pending = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const text = scrub(pending);
    pending = "";
    file?.write(text);
    if (opts.stdout) process.stdout.write(text);
  };
  /** One line: `{ time, level, msg, ...obj }` as JSON. */
  const write = (level: LogLevel, msg: string, obj: object = {}) => {
    if (RANK[level] < threshold) return;
    const time = new Date().toISOString();
    const whole = (): Fields => ({ time, level, msg, ...obj });
    let line: string;
    try {
      // The same text as JSON.stringify(whole()), without copying every field of obj into a
      // new object first (an access entry has ~20 fields: those copies were ~4 % of a request).
      const fields = "time" in obj || "level" in obj || "msg" in obj ? "" : JSON.stringify(obj);
      line = fields.length > 2 ? `{"time":"${time}","level":"${level}","msg":${JSON.stringify(msg)},${fields.slice(1)}` : JSON.stringify(whole());
    } catch {
      // A field JSON cannot hold (a cycle, a BigInt): logging must never throw at its caller.
      line = JSON.stringify({ time, level, msg: String(whole().msg), unloggable: true });
    }
    const max = level === "debug" ? MAX_DEBUG_LINE_CHARS : MAX_LINE_CHARS;
    if (line.length > max) line = boundedLine(whole(), line.length, max);
    pending += line + "\n";
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return {
    access: (e) => write("info", "request", e),
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    enabled: (level) => RANK[level] >= threshold,
    setLevel: (level) => void (threshold = RANK[level]),
    // Matched as they appear inside a JSON line; too-short strings would mangle unrelated text.
    setSecrets: (list) =>
      void (secrets = [...new Set(list)].filter((s) => s.length >= 8).map((s) => [JSON.stringify(s).slice(1, -1), maskSecret(s)])),
    reopen: () => {
      flush();
      file?.reopen();
    },
    close: () => {
      flush();
      return file?.close() ?? Promise.resolve();
    },
  };
}
