/**
 * Runs `src/main.ts` as a child process, the way a user or systemd does: for
 * command-line checks (runCli) and for a server that is signalled (ServerProcess).
 * The child gets a clean environment: none of the developer's keys or settings.
 */
import type { Subprocess } from "bun";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
export const BUN = join(ROOT, "node_modules", ".bin", "bun");
export const MAIN = join(ROOT, "src", "main.ts");

export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...extra };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command line to its end; one that has not ended after `timeoutMs` is killed (code null-ish: the signal's). */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<CliResult> {
  const proc = Bun.spawn([BUN, MAIN, ...args], {
    env: childEnv(env),
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    timeout: timeoutMs,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export type LogLine = Record<string, any>;
type Waiter = { from: number; match: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void };

/** A server child process whose stdout (JSON log lines) is read as it comes. */
export class ServerProcess {
  readonly lines: LogLine[] = [];
  stderr = "";
  url = "";
  readonly exited: Promise<number>;
  private ended = false;
  private waiters: Waiter[] = [];

  private constructor(private readonly proc: Subprocess<"ignore", "pipe", "pipe">) {
    this.exited = proc.exited;
    void this.readStdout();
    void new Response(proc.stderr).text().then((t) => (this.stderr = t));
  }

  /** Starts the server and waits for its "listening" line. */
  static async start(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
    const proc = Bun.spawn([BUN, MAIN, ...args], { env: childEnv(env), stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const server = new ServerProcess(proc);
    const listening = await server.waitFor((l) => l.msg === "listening");
    server.url = listening.url;
    return server;
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** The position to wait from, taken before the action whose log line is awaited. */
  mark(): number {
    return this.lines.length;
  }

  /** The first line from position `from` on that matches; rejects if the process ends first. */
  waitFor(match: (l: LogLine) => boolean, from = 0): Promise<LogLine> {
    for (let i = from; i < this.lines.length; i++) if (match(this.lines[i]!)) return Promise.resolve(this.lines[i]!);
    if (this.ended) return Promise.reject(new Error(`server ended without the awaited log line; stderr: ${this.stderr}`));
    return new Promise((resolve, reject) => this.waiters.push({ from, match, resolve, reject }));
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  /** For cleanup: kill the process if it still runs. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
    await this.exited;
  }

  private async readStdout(): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    const reader = this.proc.stdout.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text);
        } catch {
          line = { raw: text };
        }
        this.lines.push(line);
        const index = this.lines.length - 1;
        this.waiters = this.waiters.filter((w) => {
          if (index < w.from || !w.match(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    }
    this.ended = true;
    await this.exited;
    for (const w of this.waiters) w.reject(new Error(`server ended without the awaited log line; stderr: ${this.stderr}`));
    this.waiters = [];
  }
}

/** A promise with its resolve function, to hold a fake upstream stream open until a test says so. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
