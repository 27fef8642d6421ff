/**
 * Processes the benchmark starts: every one is tracked and killed on the way out (normal end,
 * error, Ctrl-C, SIGTERM), and every wait on one is bounded.
 */
import type { Subprocess } from "bun";
import { HOST } from "./options";

const children = new Set<Subprocess>();

export function spawn(cmd: string[], opts: Parameters<typeof Bun.spawn>[1] = {}): Subprocess {
  const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "inherit", ...opts });
  children.add(p);
  void p.exited.then(() => children.delete(p));
  return p;
}

export function killAll(): void {
  for (const p of children) {
    try {
      p.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stop(p: Subprocess, graceMs = 2000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), graceMs);
  await p.exited;
  clearTimeout(t);
}

/** Kill everything this process started when it ends or is told to stop. */
export function killOnExit(): void {
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** Lines of a subprocess's stdout, as they come. */
export async function* lines(p: Subprocess): AsyncGenerator<string> {
  const stream = p.stdout as ReadableStream<Uint8Array>;
  const dec = new TextDecoder();
  let buf = "";
  for await (const bytes of stream) {
    buf += dec.decode(bytes, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf) yield buf;
}

export async function firstLine(p: Subprocess, what: string, timeoutMs = 10_000): Promise<string> {
  const it = lines(p);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no output in ${timeoutMs} ms`)), timeoutMs)));
  try {
    const r = await Promise.race([it.next(), timeout]);
    if (r.done) throw new Error(`${what} exited before it was ready`);
    return r.value;
  } finally {
    clearTimeout(timer);
  }
}

export async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: HOST, port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Output of a short command, or "unknown". */
export async function cmdOut(cmd: string[]): Promise<string> {
  try {
    const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
    const t = (await new Response(p.stdout).text()).trim();
    await p.exited;
    return t;
  } catch {
    return "unknown";
  }
}
