/**
 * The access log: one JSON line per request, to the log file and to stdout.
 * It carries names, numbers and timings — never a key, never prompt text.
 */
import { mkdirSync, createWriteStream, type WriteStream } from "node:fs";
import { dirname } from "node:path";

export interface AccessEntry {
  request_id: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  model?: string;
  upstream_model?: string;
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

export interface Logger {
  access(entry: AccessEntry): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  close(): Promise<void>;
}

export function createLogger(opts: { file: string | null; stdout: boolean }): Logger {
  let stream: WriteStream | null = null;
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    stream = createWriteStream(opts.file, { flags: "a" });
    stream.on("error", (e) => process.stderr.write(`grok2api: cannot write log file ${opts.file}: ${e.message}\n`));
  }
  const write = (obj: Record<string, unknown>) => {
    const line = JSON.stringify(obj) + "\n";
    stream?.write(line);
    if (opts.stdout) process.stdout.write(line);
  };
  return {
    access: (e) => write({ time: new Date().toISOString(), level: "info", msg: "request", ...e }),
    warn: (msg, fields) => write({ time: new Date().toISOString(), level: "warn", msg, ...fields }),
    info: (msg, fields) => write({ time: new Date().toISOString(), level: "info", msg, ...fields }),
    close: () => new Promise((resolve) => (stream ? stream.end(() => resolve()) : resolve())),
  };
}
