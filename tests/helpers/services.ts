/**
 * Real Redis and Postgres servers for tests, started on a free loopback port in
 * a temp directory and killed after. A missing binary skips the tests that need
 * it, with a message — except under CI, where it is a failure (`.ci/run`
 * installs them).
 */
import type { Subprocess } from "bun";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free loopback port (bound, then released). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** Whether tests needing `what` should run; logs why not. Under CI a missing service throws. */
export function serviceAvailable(what: string, binary: string | undefined): binary is string {
  if (binary) return true;
  const message = `${what} not found: install it (apt-get install -y ${what === "postgres" ? "postgresql" : "redis-server"}) to run these tests`;
  if (process.env.CI) throw new Error(`${message} (required under CI)`);
  console.warn(`skipping: ${message}`);
  return false;
}

async function waitUntil(check: () => Promise<boolean>, what: string, maxMs = 20_000): Promise<void> {
  for (let waited = 0; waited < maxMs; waited += 50) {
    if (await check().catch(() => false)) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what} did not start within ${maxMs} ms`);
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.end();
          resolve(true);
        },
        data() {},
        error() {
          resolve(false);
        },
        connectError() {
          resolve(false);
        },
      },
    }).catch(() => resolve(false));
  });

export const redisBinary = (): string | undefined => Bun.which("redis-server") ?? (existsSync("/usr/bin/redis-server") ? "/usr/bin/redis-server" : undefined);

export class RedisServer {
  private proc: Subprocess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly binary: string,
    private readonly persist: boolean,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * A server on a free port, started unless `started` is false (then `restart()` starts it).
   * `persist`: every write is in its append-only file before it answers, so a killed and
   * restarted server still has its data (an outage of the network, not of the data).
   */
  static async start(binary: string, started = true, opts: { persist?: boolean } = {}): Promise<RedisServer> {
    const dir = mkdtempSync(join(tmpdir(), "grok2api-redis-"));
    const r = new RedisServer(freePort(), dir, binary, opts.persist ?? false);
    if (started) await r.restart();
    return r;
  }

  /** (Re)start on the same port. */
  async restart(): Promise<void> {
    const aof = this.persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    this.proc = Bun.spawn(
      [this.binary, "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", ...aof, "--dir", this.dir, "--daemonize", "no"],
      { stdout: "ignore", stderr: "ignore", stdin: "ignore" },
    );
    await waitUntil(() => canConnect(this.port), "redis-server");
  }

  /** Kill the server (the data is gone with it, unless it persists). */
  async kill(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill("SIGKILL");
      await this.proc.exited;
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** initdb and postgres, from PATH or Debian's /usr/lib/postgresql/<version>/bin. */
export function postgresBin(): string | undefined {
  const candidates: string[] = [];
  const onPath = Bun.which("initdb");
  if (onPath) candidates.push(join(onPath, ".."));
  if (existsSync("/usr/lib/postgresql")) {
    for (const v of readdirSync("/usr/lib/postgresql").sort().reverse()) candidates.push(join("/usr/lib/postgresql", v, "bin"));
  }
  return candidates.find((d) => existsSync(join(d, "initdb")) && existsSync(join(d, "postgres")));
}

export class PostgresServer {
  private constructor(
    private readonly proc: Subprocess,
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(bin: string): Promise<PostgresServer> {
    const dir = mkdtempSync(join(tmpdir(), "grok2api-pg-"));
    const data = join(dir, "data");
    // As root, the server must run as the postgres user (it refuses root).
    const asRoot = process.getuid?.() === 0;
    const wrap = (cmd: string[]) => (asRoot ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd);
    if (asRoot) {
      const pw = Bun.spawnSync(["id", "-u", "postgres"]);
      const gid = Bun.spawnSync(["id", "-g", "postgres"]);
      chownSync(dir, Number(pw.stdout.toString().trim()), Number(gid.stdout.toString().trim()));
    }
    const init = Bun.spawnSync(wrap([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]), {
      stdout: "pipe",
      stderr: "pipe",
    });
    if (init.exitCode !== 0) throw new Error(`initdb failed: ${init.stderr.toString()}`);
    const port = freePort();
    const proc = Bun.spawn(wrap([join(bin, "postgres"), "-D", data, "-k", dir, "-p", String(port), "-h", "127.0.0.1", "-F"]), {
      stdout: "ignore",
      stderr: "ignore",
      stdin: "ignore",
    });
    const pg = new PostgresServer(proc, port, dir);
    try {
      await waitUntil(async () => {
        const { SQL } = await import("bun");
        const sql = new SQL(pg.url, { max: 1, connectionTimeout: 2 });
        try {
          await sql`SELECT 1`;
          return true;
        } finally {
          await sql.close().catch(() => {});
        }
      }, "postgres");
    } catch (e) {
      await pg.stop();
      throw e;
    }
    return pg;
  }

  /** A fresh database on this server, for one test's ledger. */
  async database(name: string): Promise<string> {
    const { SQL } = await import("bun");
    const sql = new SQL(this.url, { max: 1 });
    try {
      await sql.unsafe(`CREATE DATABASE ${name}`);
    } finally {
      await sql.close();
    }
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      // Signal the postmaster itself (runuser does not pass signals on): SIGINT = fast shutdown.
      const pidFile = join(this.dir, "data", "postmaster.pid");
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : NaN;
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, "SIGINT");
      else this.proc.kill("SIGINT");
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
      await this.proc.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
