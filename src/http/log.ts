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
import { createWriteStream, fstatSync, mkdirSync, openSync, renameSync, type WriteStream } from "node:fs";
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
  /** Upstream requests made for this one (retries and key moves included). */
  upstream_attempts?: number;
  /** Set when a fallback served the request: "fallback 1", … */
  upstream_target?: string;
  /** Fingerprint of the pooled key that served it (never the key). */
  upstream_key?: string;
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

const warnStderr = (msg: string) => process.stderr.write(`grok2api: ${msg}\n`);

/** An append-only file that rotates itself by size and can be reopened. */
class LogFile {
  private stream: WriteStream;
  private size = 0;
  /** Streams replaced by a rotation or reopen, still flushing. */
  private readonly ending = new Set<Promise<void>>();

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = this.open();
  }

  /** Opened synchronously, so the file exists (and can be rotated) as soon as this returns. Throws. */
  private open(): WriteStream {
    const fd = openSync(this.path, "a");
    const size = fstatSync(fd).size;
    const s = createWriteStream(this.path, { fd });
    s.on("error", (e) => warnStderr(`cannot write log file ${this.path}: ${e.message}`));
    this.size = size;
    return s;
  }

  write(line: string): void {
    this.stream.write(line);
    this.size += Buffer.byteLength(line);
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

  /** Lines already handed to the old stream still land in the old file (it keeps its inode). */
  /** On failure the old file stays in use. */
  reopen(): void {
    let next: WriteStream;
    try {
      next = this.open();
    } catch (e) {
      warnStderr(`cannot reopen log file ${this.path}: ${(e as Error).message}`);
      return;
    }
    const old = this.stream;
    this.stream = next;
    this.end(old);
  }

  private end(stream: WriteStream): Promise<void> {
    const done = new Promise<void>((resolve) => stream.end(() => resolve()));
    this.ending.add(done);
    void done.then(() => this.ending.delete(done));
    return done;
  }

  /** Resolves when every line written so far is in the files. */
  async close(): Promise<void> {
    await this.end(this.stream);
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
  const write = (level: LogLevel, obj: Fields) => {
    if (RANK[level] < threshold) return;
    const line = scrub(JSON.stringify({ time: new Date().toISOString(), level, ...obj }) + "\n");
    file?.write(line);
    if (opts.stdout) process.stdout.write(line);
  };
  return {
    access: (e) => write("info", { msg: "request", ...e }),
    debug: (msg, fields) => write("debug", { msg, ...fields }),
    info: (msg, fields) => write("info", { msg, ...fields }),
    warn: (msg, fields) => write("warn", { msg, ...fields }),
    error: (msg, fields) => write("error", { msg, ...fields }),
    enabled: (level) => RANK[level] >= threshold,
    setLevel: (level) => void (threshold = RANK[level]),
    // Matched as they appear inside a JSON line; too-short strings would mangle unrelated text.
    setSecrets: (list) =>
      void (secrets = [...new Set(list)].filter((s) => s.length >= 8).map((s) => [JSON.stringify(s).slice(1, -1), maskSecret(s)])),
    reopen: () => file?.reopen(),
    close: () => file?.close() ?? Promise.resolve(),
  };
}
