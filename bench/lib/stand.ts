/**
 * What the jobs measure, started on 127.0.0.1: the fast fake upstream (bench/fake-upstream.ts),
 * the bare Bun pipe in front of it (bench/pipe-proxy.ts), and the gateway binary — for each
 * upstream dialect (chat completions, Responses), with teams off (no store) or on (admin token,
 * SQLite ledger in bench/.work, a virtual key created through the admin API, used by every request).
 */
import type { Subprocess } from "bun";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { BIN, HOST, O, PIPE, ROOT, UPSTREAM, WORK } from "./options";
import { firstLine, freePort, spawn, stop } from "./proc";

export type Dialect = "chat" | "responses";

export interface Upstream {
  p: Subprocess;
  base: string;
}

export interface Gateway {
  p: Subprocess;
  base: string;
  pid: number;
  dialect: Dialect;
  /** The client key its requests carry (a virtual key when teams are on). */
  key: string;
  teams: boolean;
}

export const CLIENT_KEY = "bench-client-key";
export const ADMIN_TOKEN = "bench-admin-token-0123456789";
/** The fake upstream's default gap between chunks of a `bench-paced` stream. */
export const PACED_GAP_MS = 2;

const user = { role: "user", content: "Hello, Grok!" };
/** Client bodies, per face. */
export const BODIES = {
  messages: {
    nonStream: JSON.stringify({ model: "grok-3-mini", max_tokens: 256, messages: [user] }),
    stream: JSON.stringify({ model: "grok-3-mini", max_tokens: 256, stream: true, messages: [user] }),
    paced: JSON.stringify({ model: "bench-paced", max_tokens: 256, stream: true, messages: [user] }),
    idle: JSON.stringify({ model: "bench-idle", max_tokens: 256, stream: true, messages: [user] }),
  },
  chat: {
    nonStream: JSON.stringify({ model: "grok-3-mini", max_tokens: 256, messages: [user] }),
    stream: JSON.stringify({ model: "grok-3-mini", max_tokens: 256, stream: true, messages: [user] }),
  },
  responses: {
    nonStream: JSON.stringify({ model: "grok-3-mini", max_output_tokens: 256, input: "Hello, Grok!" }),
    stream: JSON.stringify({ model: "grok-3-mini", max_output_tokens: 256, stream: true, input: "Hello, Grok!" }),
  },
};

/** The upstream path of a dialect (the fake's, the pipe's and the OpenAI face's). */
export const pathOf = (d: Dialect) => (d === "chat" ? "/v1/chat/completions" : "/v1/responses");

const JSON_HEADERS = { "content-type": "application/json", "anthropic-version": "2023-06-01" };

export async function post(url: string, body: string, key = CLIENT_KEY): Promise<Response> {
  return fetch(url, { method: "POST", headers: { ...JSON_HEADERS, "x-api-key": key }, body });
}

export async function startUpstream(): Promise<Upstream> {
  const p = spawn([process.execPath, UPSTREAM, "--port", "0", "--chunks", String(O.chunks)], { stdout: "pipe" });
  const line = await firstLine(p, "fake upstream");
  const m = /^ready (\d+)$/.exec(line);
  if (!m) throw new Error(`fake upstream said ${JSON.stringify(line)}`);
  return { p, base: `http://${HOST}:${m[1]}` };
}

/** The bare Bun pipe proxy in front of the fake upstream. */
export async function startPipe(up: Upstream): Promise<Upstream> {
  const p = spawn([process.execPath, PIPE, "--port", "0", "--upstream", up.base], { stdout: "pipe" });
  const line = await firstLine(p, "pipe proxy");
  const m = /^ready (\d+)$/.exec(line);
  if (!m) throw new Error(`pipe proxy said ${JSON.stringify(line)}`);
  return { p, base: `http://${HOST}:${m[1]}` };
}

export function gatewayEnv(up: Upstream, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...extra,
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    GROK2API_HOST: HOST,
    GROK2API_PORT: String(port),
    GROK2API_LOG_FILE: extra.GROK2API_LOG_FILE ?? join(WORK, "gateway-access.log"),
    XAI_BASE_URL: `${up.base}/v1`,
    XAI_API_KEY: "bench-upstream-key",
  };
}

export interface GatewayOptions {
  dialect?: Dialect;
  teams?: boolean;
  /** More environment (a lifted fetch cap). */
  env?: Record<string, string>;
  /** Another command than the binary (the source under `bun --cpu-prof`). */
  cmd?: string[];
}

let teamsN = 0;

/** Starts the binary and waits for /health; with teams, opens the store and creates the virtual key. */
export async function startGateway(up: Upstream, o: GatewayOptions = {}): Promise<Gateway> {
  const dialect = o.dialect ?? "chat";
  const port = await freePort();
  const extra: Record<string, string> = { ...(dialect === "responses" ? { GROK2API_UPSTREAM_API: "responses" } : {}), ...o.env };
  if (o.teams) {
    const db = join(WORK, `teams-${process.pid}-${++teamsN}.db`);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
    Object.assign(extra, { GROK2API_ADMIN_TOKEN: ADMIN_TOKEN, GROK2API_STORE_URL: `sqlite://${db}` });
  }
  const p = spawn(o.cmd ?? [BIN], { env: gatewayEnv(up, port, extra), cwd: ROOT });
  const base = `http://${HOST}:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (p.exitCode !== null || p.signalCode !== null) throw new Error(`${(o.cmd ?? [BIN]).join(" ")} exited (${p.exitCode ?? p.signalCode}) before answering /health`);
    if (Date.now() > deadline) {
      await stop(p);
      throw new Error(`${(o.cmd ?? [BIN]).join(" ")} did not answer /health in 10 s`);
    }
    await Bun.sleep(5);
  }
  let key = CLIENT_KEY;
  if (o.teams) {
    // Every limit set, so every check of a virtual key runs on each request.
    const r = await fetch(`${base}/admin/api/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "bench", budget_usd: 1e9, rpm: 1e9, tpm: 1e12, models: ["*"] }),
    });
    if (r.status !== 200 && r.status !== 201) throw new Error(`creating the virtual key: HTTP ${r.status}: ${await r.text()}`);
    key = ((await r.json()) as { key: string }).key;
  }
  return { p, base, pid: p.pid, dialect, key, teams: o.teams ?? false };
}

/** A few requests of each kind, so the first measured ones do not pay for warm-up. */
export async function warmUp(gw: Gateway, n = O.warmupRequests): Promise<void> {
  const faces: Array<[string, string, string]> = [
    ["/v1/messages", BODIES.messages.nonStream, BODIES.messages.stream],
    gw.dialect === "chat" ? ["/v1/chat/completions", BODIES.chat.nonStream, BODIES.chat.stream] : ["/v1/responses", BODIES.responses.nonStream, BODIES.responses.stream],
  ];
  for (let i = 0; i < n; i++) {
    for (const [path, ns, s] of faces) {
      for (const body of [ns, s]) {
        const r = await post(`${gw.base}${path}`, body, gw.key);
        if (r.status !== 200) throw new Error(`warm-up ${path}: HTTP ${r.status}: ${await r.text()}`);
        await r.arrayBuffer();
      }
    }
  }
}

/** The body the gateway sends upstream for a client body: sent once, read back from the fake. */
export async function upstreamBodyFor(up: Upstream, gw: Gateway, path: string, body: string): Promise<string> {
  const r = await post(`${gw.base}${path}`, body, gw.key);
  if (r.status !== 200) throw new Error(`gateway answered HTTP ${r.status}: ${await r.text()}`);
  await r.arrayBuffer();
  return (await fetch(`${up.base}/__last`)).text();
}
