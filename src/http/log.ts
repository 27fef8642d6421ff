/**
 * The access log: one JSON line per request, to the log file and to stdout.
 * It carries names, numbers and timings — never a key, never prompt text.
 */
import type { FileSink } from "bun";
import { closeSync, mkdirSync, openSync } from "node:fs";
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
  error?: string;
}

export interface Logger {
  access(entry: AccessEntry): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  close(): Promise<void>;
}

/**
 * Lines are gathered and written once per turn of the event loop (setImmediate), to the
 * file through a native FileSink opened for appending: one write per batch instead of
 * a trip through Node's stream machinery per line, which cost a quarter of the CPU of a
 * small request. Lines reach the file in order, as soon as the current turn ends.
 */
export function createLogger(opts: { file: string | null; stdout: boolean }): Logger {
  let fd: number | null = null;
  let sink: FileSink | null = null;
  let failed = false;
  const fileFailed = (e: unknown) => {
    sink = null;
    if (failed) return;
    failed = true;
    process.stderr.write(`grok2api: cannot write log file ${opts.file}: ${(e as Error).message}\n`);
  };
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    try {
      fd = openSync(opts.file, "a");
      sink = Bun.file(fd).writer();
    } catch (e) {
      fileFailed(e);
    }
  }
  let pending = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const text = pending;
    pending = "";
    if (sink) {
      try {
        sink.write(text);
        const f = sink.flush();
        if (typeof f !== "number") f.catch(fileFailed);
      } catch (e) {
        fileFailed(e);
      }
    }
    if (opts.stdout) process.stdout.write(text);
  };
  const write = (obj: Record<string, unknown>) => {
    pending += JSON.stringify(obj) + "\n";
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return {
    access: (e) => write({ time: new Date().toISOString(), level: "info", msg: "request", ...e }),
    warn: (msg, fields) => write({ time: new Date().toISOString(), level: "warn", msg, ...fields }),
    info: (msg, fields) => write({ time: new Date().toISOString(), level: "info", msg, ...fields }),
    async close() {
      flush();
      const s = sink;
      sink = null;
      if (s) await Promise.resolve(s.end()).catch(() => {});
      if (fd !== null) {
        closeSync(fd);
        fd = null;
      }
    },
  };
}
