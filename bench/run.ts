#!/usr/bin/env bun
/**
 * `bun run bench`: how much does the gateway cost against talking to the upstream
 * directly? In one run on one machine: builds dist/grok2api, starts the fast fake
 * upstream (bench/fake-upstream.ts) and the binary on 127.0.0.1, drives both with
 * autocannon (bench/load.mjs, under Node) and reports gateway-vs-direct ratios, so a
 * noisy machine still gives a fair figure. Writes bench/RESULTS.md.
 *
 *   bun run bench                  full run (sustained load 60 s), writes bench/RESULTS.md
 *   bun run bench --quick          short run, writes bench/.work/RESULTS-quick.md
 *                                  (`npm run bench --quick` works too: npm keeps the flag
 *                                  for itself and passes it on as npm_config_quick=true)
 *   bun run bench --sustained 20   sustained-load duration in seconds (env BENCH_SUSTAINED_S)
 *   bun run bench --no-build       use dist/grok2api as it is
 *   bun run bench --bin FILE       measure another build of the binary (implies --no-build)
 *   bun run bench --out FILE       write the report elsewhere
 *
 * Other knobs (env): BENCH_CONNECTIONS (default 32), BENCH_PACED_CONNECTIONS (32),
 * BENCH_IDLE_STREAMS (1000), BENCH_CHUNKS (200), BENCH_LOADGEN=node|bun (runtime for
 * autocannon, default node).
 *
 * Everything listens on 127.0.0.1 only, every load is bounded in time, and every
 * process started here is killed on the way out (normal end, error, Ctrl-C, SIGTERM).
 */
import type { Subprocess } from "bun";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dir, "..");
const WORK = join(ROOT, "bench/.work");
const DIST_BIN = join(ROOT, "dist/grok2api");
const LOAD = join(ROOT, "bench/load.mjs");
const UPSTREAM = join(ROOT, "bench/fake-upstream.ts");
const HOST = "127.0.0.1";

// ---------------------------------------------------------------- options

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    quick: { type: "boolean", default: false },
    sustained: { type: "string" },
    "no-build": { type: "boolean", default: false },
    out: { type: "string" },
    bin: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (flags.help) {
  const doc = readFileSync(import.meta.path, "utf8").split("*/")[0]!;
  process.stdout.write(doc.replace(/^#!.*\n\/\*\*\n/, "").replace(/^ \* ?/gm, "") + "\n");
  process.exit(0);
}
const env = process.env;
// npm takes `npm run bench --quick` as its own setting and hands it over in the environment.
const QUICK = flags.quick || env.BENCH_QUICK === "1" || env.npm_config_quick === "true";
const num = (v: string | undefined, d: number) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d);
const O = {
  quick: QUICK,
  sustainedS: num(flags.sustained ?? env.BENCH_SUSTAINED_S, QUICK ? 10 : 60),
  roundS: QUICK ? 2 : 5,
  rounds: QUICK ? 1 : 3,
  connections: num(env.BENCH_CONNECTIONS, 32),
  pacedConnections: num(env.BENCH_PACED_CONNECTIONS, 32),
  idleStreams: num(env.BENCH_IDLE_STREAMS, 1000),
  chunks: num(env.BENCH_CHUNKS, 200),
  coldRuns: QUICK ? 5 : 15,
  probeN: QUICK ? 300 : 2000,
  streamProbeN: QUICK ? 60 : 300,
  loadgen: env.BENCH_LOADGEN === "bun" ? process.execPath : "node",
};
const BIN = flags.bin ? resolve(flags.bin) : DIST_BIN;
const OUT = flags.out ? resolve(flags.out) : QUICK ? join(WORK, "RESULTS-quick.md") : join(ROOT, "bench/RESULTS.md");

// ---------------------------------------------------------------- processes

const children = new Set<Subprocess>();

function spawn(cmd: string[], opts: Parameters<typeof Bun.spawn>[1] = {}): Subprocess {
  const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "inherit", ...opts });
  children.add(p);
  void p.exited.then(() => children.delete(p));
  return p;
}

function killAll(): void {
  for (const p of children) {
    try {
      p.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}

async function stop(p: Subprocess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), 2000);
  await p.exited;
  clearTimeout(t);
}

process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
    killAll();
    process.exit(130);
  });
}

/** Lines of a subprocess's stdout, as they come. */
async function* lines(p: Subprocess): AsyncGenerator<string> {
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

async function firstLine(p: Subprocess, what: string, timeoutMs = 10_000): Promise<string> {
  const it = lines(p);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no output in ${timeoutMs} ms`)), timeoutMs));
  const r = await Promise.race([it.next(), timeout]);
  if (r.done) throw new Error(`${what} exited before it was ready`);
  return r.value;
}

// ---------------------------------------------------------------- measures

/** Resident set size of a process, KB (VmRSS). */
function rssKB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** CPU time all threads of a process have used so far, ms (ns precision, from schedstat). */
function threadsCpuMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread ended
    }
  }
  return ns / 1e6;
}

const TICKS = 100; // USER_HZ on Linux
/** CPU time (user + system) a process has used, ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: HOST, port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};

// ---------------------------------------------------------------- the pieces

interface Upstream {
  p: Subprocess;
  base: string;
}

async function startUpstream(): Promise<Upstream> {
  const p = spawn([process.execPath, UPSTREAM, "--port", "0", "--chunks", String(O.chunks)], { stdout: "pipe" });
  const line = await firstLine(p, "fake upstream");
  const m = /^ready (\d+)$/.exec(line);
  if (!m) throw new Error(`fake upstream said ${JSON.stringify(line)}`);
  return { p, base: `http://${HOST}:${m[1]}` };
}

interface Gateway {
  p: Subprocess;
  base: string;
  pid: number;
}

function gatewayEnv(up: Upstream, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...extra,
    PATH: env.PATH ?? "/usr/bin:/bin",
    HOME: env.HOME ?? "/tmp",
    GROK2API_HOST: HOST,
    GROK2API_PORT: String(port),
    GROK2API_LOG_FILE: join(WORK, "gateway-access.log"),
    XAI_BASE_URL: `${up.base}/v1`,
    XAI_API_KEY: "bench-upstream-key",
  };
}

/** The fake upstream's default gap between chunks of a `bench-paced` stream. */
const PACED_GAP_MS = 2;
const MSG_NS = JSON.stringify({ model: "grok-3-mini", max_tokens: 256, messages: [{ role: "user", content: "Hello, Grok!" }] });
const MSG_S = JSON.stringify({ model: "grok-3-mini", max_tokens: 256, stream: true, messages: [{ role: "user", content: "Hello, Grok!" }] });
const MSG_PACED = JSON.stringify({ model: "bench-paced", max_tokens: 256, stream: true, messages: [{ role: "user", content: "Hello, Grok!" }] });
const MSG_IDLE = JSON.stringify({ model: "bench-idle", max_tokens: 256, stream: true, messages: [{ role: "user", content: "Hello, Grok!" }] });
const JSON_HEADERS = { "content-type": "application/json", "anthropic-version": "2023-06-01" };

async function post(url: string, body: string): Promise<Response> {
  return fetch(url, { method: "POST", headers: JSON_HEADERS, body });
}

async function startGateway(up: Upstream, extraEnv: Record<string, string> = {}): Promise<Gateway> {
  const port = await freePort();
  const p = spawn([BIN], { env: gatewayEnv(up, port, extraEnv) });
  const base = `http://${HOST}:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (p.exitCode !== null) throw new Error(`dist/grok2api exited with code ${p.exitCode}`);
    if (Date.now() > deadline) throw new Error("dist/grok2api did not answer /health in 10 s");
    await Bun.sleep(5);
  }
  return { p, base, pid: p.pid };
}

interface CannonResult {
  requests: number;
  rps: number;
  seconds: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  p50: number;
  p99: number;
  minBytes: number;
  maxBytes: number;
}

async function load<T>(job: Record<string, unknown>, timeoutS: number): Promise<T> {
  const p = spawn([O.loadgen, LOAD, JSON.stringify(job)], { stdout: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutS * 1000);
  const text = await new Response(p.stdout as ReadableStream).text();
  const code = await p.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`load generator (${job.mode}) failed with code ${code}`);
  return JSON.parse(text.trim().split("\n").pop()!) as T;
}

function cannon(url: string, body: string, seconds: number, connections = O.connections): Promise<CannonResult> {
  return load<CannonResult>({ mode: "cannon", url, body, connections, seconds }, seconds + 60);
}

function checkCannon(what: string, r: CannonResult): void {
  const problems: string[] = [];
  if (r.errors || r.timeouts) problems.push(`${r.errors} errors, ${r.timeouts} timeouts`);
  if (r.non2xx) problems.push(`${r.non2xx} non-2xx answers`);
  if (r.requests === 0) problems.push("no request completed");
  // Every answer of one kind has (nearly) the same size: a short one is a cut stream.
  if (r.minBytes < r.maxBytes * 0.95) problems.push(`answers from ${r.minBytes} to ${r.maxBytes} bytes (a cut stream?)`);
  if (problems.length) throw new Error(`${what}: ${problems.join("; ")}`);
}

// ---------------------------------------------------------------- scenarios

interface Side {
  rps: number;
  p50: number;
  p99: number;
  rounds: number[];
  /** Gateway CPU per request, ms (gateway side only). */
  cpuPerReq?: number;
  /** Fake upstream CPU per request, ms. */
  upCpuPerReq: number;
}
interface Compared {
  direct: Side;
  gateway: Side;
  ratio: number;
  roundRatios: number[];
}

/** The same work straight to the upstream and through the gateway, in alternating rounds. */
async function compare(
  label: string,
  up: Upstream,
  gw: Gateway,
  directBody: string,
  gwBody: string,
  connections = O.connections,
  upstreamPath = "/v1/chat/completions",
): Promise<Compared> {
  const directUrl = `${up.base}${upstreamPath}`;
  const gwUrl = `${gw.base}/v1/messages`;
  // Warm-up (JIT, connection pools), not counted.
  checkCannon(`${label} warm-up direct`, await cannon(directUrl, directBody, 1, connections));
  checkCannon(`${label} warm-up gateway`, await cannon(gwUrl, gwBody, 1, connections));
  const runs: Record<"direct" | "gateway", { r: CannonResult; gwCpu: number; upCpu: number }[]> = { direct: [], gateway: [] };
  for (let round = 0; round < O.rounds; round++) {
    const order: Array<"direct" | "gateway"> = round % 2 === 0 ? ["direct", "gateway"] : ["gateway", "direct"];
    for (const side of order) {
      const g0 = cpuMs(gw.pid);
      const u0 = cpuMs(up.p.pid);
      const r = await cannon(side === "direct" ? directUrl : gwUrl, side === "direct" ? directBody : gwBody, O.roundS, connections);
      checkCannon(`${label} ${side}`, r);
      runs[side].push({ r, gwCpu: cpuMs(gw.pid) - g0, upCpu: cpuMs(up.p.pid) - u0 });
      process.stdout.write(`  ${label} round ${round + 1}/${O.rounds} ${side.padEnd(7)} ${fmtInt(r.rps)} req/s  p50 ${fmtMs(r.p50)}  p99 ${fmtMs(r.p99)}\n`);
    }
  }
  const side = (s: "direct" | "gateway"): Side => {
    const rs = runs[s];
    const reqs = rs.reduce((a, x) => a + x.r.requests, 0);
    return {
      rps: median(rs.map((x) => x.r.rps)),
      p50: median(rs.map((x) => x.r.p50)),
      p99: median(rs.map((x) => x.r.p99)),
      rounds: rs.map((x) => x.r.rps),
      cpuPerReq: s === "gateway" ? rs.reduce((a, x) => a + x.gwCpu, 0) / reqs : undefined,
      upCpuPerReq: rs.reduce((a, x) => a + x.upCpu, 0) / reqs,
    };
  };
  const direct = side("direct");
  const gateway = side("gateway");
  return {
    direct,
    gateway,
    ratio: gateway.rps / direct.rps,
    roundRatios: runs.gateway.map((g, i) => g.r.rps / runs.direct[i]!.r.rps),
  };
}

interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}
type ProbeResult = Record<"direct" | "gateway", { ttfb: Summary; total: Summary; bytes: number }>;

function probe(
  up: Upstream,
  gw: Gateway,
  directBody: string,
  gwBody: string,
  count: number,
  warmup: number,
  upstreamPath = "/v1/chat/completions",
): Promise<ProbeResult> {
  return load<ProbeResult>(
    {
      mode: "probe",
      targets: [
        { name: "direct", url: `${up.base}${upstreamPath}`, body: directBody },
        { name: "gateway", url: `${gw.base}/v1/messages`, body: gwBody },
      ],
      count,
      warmup,
    },
    600,
  );
}

interface ColdStart {
  runs: number[];
  median: number;
  min: number;
  max: number;
  /** CPU time of the binary (all threads) up to its first answer, median, ms. */
  cpuMedian: number;
}

/**
 * Spawn the binary and time it to its first answered /v1/messages request. The request
 * goes out as soon as the binary logs "listening" on stdout (no busy polling that would
 * compete with it for the two cores).
 */
async function coldStart(up: Upstream): Promise<ColdStart> {
  const runs: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < O.coldRuns; i++) {
    const port = await freePort();
    const url = `http://${HOST}:${port}/v1/messages`;
    const t0 = performance.now();
    const p = spawn([BIN], { env: gatewayEnv(up, port), stdout: "pipe" });
    const out = lines(p);
    const deadline = setTimeout(() => p.kill("SIGKILL"), 10_000);
    for (;;) {
      const line = await out.next();
      if (line.done) throw new Error(`cold start: ${relative(ROOT, BIN)} exited before listening`);
      if (line.value.includes('"msg":"listening"')) break;
    }
    let ms = NaN;
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await post(url, MSG_NS);
        if (r.status !== 200) throw new Error(`cold start: HTTP ${r.status}: ${await r.text()}`);
        await r.arrayBuffer();
        ms = performance.now() - t0;
        cpu.push(threadsCpuMs(p.pid));
        break;
      } catch (e) {
        if ((e instanceof Error && e.message.startsWith("cold start")) || attempt >= 100) throw e;
        await Bun.sleep(1);
      }
    }
    clearTimeout(deadline);
    await stop(p);
    runs.push(ms);
  }
  return { runs, median: median(runs), min: Math.min(...runs), max: Math.max(...runs), cpuMedian: median(cpu) };
}

const LIFT_CAP = "BUN_CONFIG_MAX_HTTP_REQUESTS=65535"; // the largest value Bun accepts

interface IdleStreams {
  /** Set when the gateway ran with this extra environment. */
  env?: string;
  opened: number;
  failed: number;
  gwBeforeKB: number;
  gwAfterKB: number;
  gwClosedKB: number;
  perStreamKB: number;
  upPerStreamKB: number;
}

/** Open many streams that stay idle and see what each costs the gateway in memory. */
async function idleStreams(up: Upstream, gw: Gateway): Promise<IdleStreams> {
  const gwBeforeKB = rssKB(gw.pid);
  const upBeforeKB = rssKB(up.p.pid);
  const p = spawn([O.loadgen, LOAD, JSON.stringify({ mode: "idle", url: `${gw.base}/v1/messages`, body: MSG_IDLE, count: O.idleStreams, holdSeconds: 60 })], {
    stdin: "pipe",
    stdout: "pipe",
  });
  const first = JSON.parse(await firstLine(p, "idle streams", 60_000)) as { open: number; failed: number };
  await Bun.sleep(1000); // let allocations settle
  const gwAfterKB = rssKB(gw.pid);
  const upAfterKB = rssKB(up.p.pid);
  const stdin = p.stdin as import("bun").FileSink;
  stdin.write("close\n");
  await stdin.end();
  await p.exited;
  await Bun.sleep(1000);
  const gwClosedKB = rssKB(gw.pid);
  if (first.open === 0) throw new Error("idle streams: none could be opened");
  return {
    opened: first.open,
    failed: first.failed,
    gwBeforeKB,
    gwAfterKB,
    gwClosedKB,
    perStreamKB: (gwAfterKB - gwBeforeKB) / first.open,
    upPerStreamKB: (upAfterKB - upBeforeKB) / first.open,
  };
}

interface Sustained {
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  rssBeforeKB: number;
  rssPeakKB: number;
  rssAfterKB: number;
}

async function sustained(up: Upstream, gw: Gateway): Promise<Sustained> {
  const rssBeforeKB = rssKB(gw.pid);
  let rssPeakKB = rssBeforeKB;
  const sampler = setInterval(() => {
    try {
      rssPeakKB = Math.max(rssPeakKB, rssKB(gw.pid));
    } catch {
      // gone: the load run reports it
    }
  }, 1000);
  let r: CannonResult;
  try {
    r = await cannon(`${gw.base}/v1/messages`, MSG_S, O.sustainedS);
  } finally {
    clearInterval(sampler);
  }
  checkCannon("sustained", r);
  await Bun.sleep(2000);
  const rssAfterKB = rssKB(gw.pid);
  return { seconds: r.seconds, rps: r.rps, p50: r.p50, p99: r.p99, requests: r.requests, rssBeforeKB, rssPeakKB: Math.max(rssPeakKB, rssAfterKB), rssAfterKB };
}

/** A few requests of each kind, so the first measured ones do not pay for warm-up. */
async function warmUp(gw: Gateway): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const a = await post(`${gw.base}/v1/messages`, MSG_NS);
    await a.arrayBuffer();
    const b = await post(`${gw.base}/v1/messages`, MSG_S);
    await b.arrayBuffer();
  }
}

/** The body the gateway sends upstream for a client body: sent once, read back from the fake. */
async function upstreamBodyFor(up: Upstream, gw: Gateway, body: string): Promise<string> {
  const r = await post(`${gw.base}/v1/messages`, body);
  if (r.status !== 200) throw new Error(`gateway answered HTTP ${r.status}: ${await r.text()}`);
  await r.arrayBuffer();
  return (await fetch(`${up.base}/__last`)).text();
}

// ---------------------------------------------------------------- machine

async function cmdOut(cmd: string[]): Promise<string> {
  try {
    const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
    const t = (await new Response(p.stdout).text()).trim();
    await p.exited;
    return t;
  } catch {
    return "unknown";
  }
}

async function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const osRelease = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  const autocannonPkg = JSON.parse(readFileSync(join(ROOT, "node_modules/autocannon/package.json"), "utf8")) as { version: string };
  return {
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memGiB: os.totalmem() / 1024 ** 3,
    os: `${/PRETTY_NAME="([^"]+)"/.exec(osRelease)?.[1] ?? os.type()}, Linux ${os.release()}`,
    bun: Bun.version,
    node: O.loadgen === "node" ? await cmdOut(["node", "--version"]) : "(not used)",
    loadgen: `autocannon ${autocannonPkg.version} under ${O.loadgen === "node" ? "Node" : "Bun"}`,
    commit: await cmdOut(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
    dirty: (await cmdOut(["git", "-C", ROOT, "status", "--porcelain", "--", "src"])) !== "",
    load: os.loadavg(),
  };
}

// ---------------------------------------------------------------- report

const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");
const fmtMs = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1)) + " ms";
const fmtMB = (kb: number) => (kb / 1024).toFixed(1) + " MB";
const fmtKB = (kb: number) => kb.toFixed(1) + " KB";
const fmtX = (r: number) => r.toFixed(2) + "×";

interface Results {
  machine: Awaited<ReturnType<typeof machine>>;
  loadAfter: number[];
  date: string;
  durationS: number;
  cold: ColdStart;
  fresh: { rssKB: number };
  idleRssKB: number;
  idle: IdleStreams;
  /** The same, on a gateway started as a user would (differs from idle when a cap stopped it). */
  idleDefault: IdleStreams;
  nonStream: Compared;
  nonStreamProbe: ProbeResult;
  stream: Compared;
  streamProbe: ProbeResult;
  sustained: Sustained;
  paced: Compared;
  upstreamBodies: { nonStream: string; stream: string; paced: string };
  /** The same non-stream and stream work with the gateway speaking xAI's Responses API. */
  responses: { nonStream: Compared; nonStreamProbe: ProbeResult; stream: Compared; streamProbe: ProbeResult; upstreamBodies: { nonStream: string; stream: string } };
}

function targets(r: Results) {
  const addedP50 = r.nonStreamProbe.gateway.total.p50 - r.nonStreamProbe.direct.total.p50;
  const rx = r.responses;
  const rAddedP50 = rx.nonStreamProbe.gateway.total.p50 - rx.nonStreamProbe.direct.total.p50;
  return [
    { name: "stream throughput, gateway ÷ direct (chat completions)", target: "≥ 0.60×", value: fmtX(r.stream.ratio), pass: r.stream.ratio >= 0.6 },
    { name: "added p50 latency, non-stream (one at a time, chat completions)", target: "< 1 ms", value: fmtMs(addedP50), pass: addedP50 < 1 },
    { name: "stream throughput, gateway ÷ direct (Responses)", target: "≥ 0.60×", value: fmtX(rx.stream.ratio), pass: rx.stream.ratio >= 0.6 },
    { name: "added p50 latency, non-stream (one at a time, Responses)", target: "< 1 ms", value: fmtMs(rAddedP50), pass: rAddedP50 < 1 },
    { name: "idle RSS (after warm-up)", target: "< 60 MB", value: fmtMB(r.idleRssKB), pass: r.idleRssKB < 60 * 1024 },
    {
      name: `${O.idleStreams} idle streams open at once (default settings)`,
      target: `${O.idleStreams} open`,
      value: `${r.idleDefault.opened} open`,
      pass: r.idleDefault.opened === O.idleStreams,
    },
    {
      name: `memory per open idle stream (${r.idle.opened} open${r.idle.env ? `, with ${r.idle.env}` : ""})`,
      target: "< 50 KB",
      value: fmtKB(r.idle.perStreamKB),
      pass: r.idle.perStreamKB < 50 && r.idle.opened === O.idleStreams,
    },
    { name: "cold start to first answered request (median)", target: "< 100 ms", value: fmtMs(r.cold.median), pass: r.cold.median < 100 },
  ];
}

function table(rows: string[][]): string {
  const [head, ...body] = rows;
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head!), line(head!.map(() => "---")), ...body.map(line)].join("\n");
}

function figures(r: Results): string[][] {
  const ns = r.nonStream;
  const s = r.stream;
  const nsp = r.nonStreamProbe;
  const sp = r.streamProbe;
  return [
    ["scenario", "figure", "direct", "gateway", "gateway ÷ direct"],
    ["non-stream, small answer", `req/s (${O.connections} connections)`, fmtInt(ns.direct.rps), fmtInt(ns.gateway.rps), fmtX(ns.ratio)],
    ["", "p50 / p99 under that load", `${fmtMs(ns.direct.p50)} / ${fmtMs(ns.direct.p99)}`, `${fmtMs(ns.gateway.p50)} / ${fmtMs(ns.gateway.p99)}`, ""],
    ["", "p50 / p99, one request at a time", `${fmtMs(nsp.direct.total.p50)} / ${fmtMs(nsp.direct.total.p99)}`, `${fmtMs(nsp.gateway.total.p50)} / ${fmtMs(nsp.gateway.total.p99)}`, `+${fmtMs(nsp.gateway.total.p50 - nsp.direct.total.p50)} at p50`],
    ["", "gateway CPU per request", "", fmtMs(ns.gateway.cpuPerReq!), ""],
    [`stream, ${O.chunks} chunks`, `streams/s (${O.connections} connections)`, fmtInt(s.direct.rps), fmtInt(s.gateway.rps), fmtX(s.ratio)],
    ["", "chunks/s", fmtInt(s.direct.rps * O.chunks), fmtInt(s.gateway.rps * O.chunks), ""],
    ["", "p50 / p99 whole stream under that load", `${fmtMs(s.direct.p50)} / ${fmtMs(s.direct.p99)}`, `${fmtMs(s.gateway.p50)} / ${fmtMs(s.gateway.p99)}`, ""],
    ["", "time to first byte p50 / p99 (one at a time)", `${fmtMs(sp.direct.ttfb.p50)} / ${fmtMs(sp.direct.ttfb.p99)}`, `${fmtMs(sp.gateway.ttfb.p50)} / ${fmtMs(sp.gateway.ttfb.p99)}`, `+${fmtMs(sp.gateway.ttfb.p50 - sp.direct.ttfb.p50)} at p50`],
    ["", "whole stream p50 / p99 (one at a time)", `${fmtMs(sp.direct.total.p50)} / ${fmtMs(sp.direct.total.p99)}`, `${fmtMs(sp.gateway.total.p50)} / ${fmtMs(sp.gateway.total.p99)}`, ""],
    ["", "gateway CPU per stream", "", fmtMs(s.gateway.cpuPerReq!), `${((s.gateway.cpuPerReq! * 1000) / O.chunks).toFixed(1)} µs per chunk`],
    [
      `paced stream, a chunk every ${PACED_GAP_MS} ms`,
      `streams/s (${O.pacedConnections} connections)`,
      fmtInt(r.paced.direct.rps),
      fmtInt(r.paced.gateway.rps),
      fmtX(r.paced.ratio),
    ],
    [
      "",
      "p50 / p99 whole stream",
      `${fmtMs(r.paced.direct.p50)} / ${fmtMs(r.paced.direct.p99)}`,
      `${fmtMs(r.paced.gateway.p50)} / ${fmtMs(r.paced.gateway.p99)}`,
      `+${fmtMs(r.paced.gateway.p50 - r.paced.direct.p50)} at p50`,
    ],
    ...responsesFigures(r),
    ["idle", "RSS fresh / after warm-up", "", `${fmtMB(r.fresh.rssKB)} / ${fmtMB(r.idleRssKB)}`, ""],
    ...(r.idle.env
      ? [[`${O.idleStreams} idle streams`, "opened with default settings", "", `${r.idleDefault.opened} (the rest wait: Bun's fetch cap)`, ""]]
      : []),
    [
      `${r.idle.opened} of ${O.idleStreams} idle streams open${r.idle.env ? ` (${r.idle.env})` : ""}`,
      "RSS before / open / after closing",
      "",
      `${fmtMB(r.idle.gwBeforeKB)} / ${fmtMB(r.idle.gwAfterKB)} / ${fmtMB(r.idle.gwClosedKB)}`,
      "",
    ],
    ["", "memory per open stream", `${fmtKB(r.idle.upPerStreamKB)} (fake upstream, plain Bun.serve)`, fmtKB(r.idle.perStreamKB), ""],
    ["cold start", `spawn → first answer, median of ${r.cold.runs.length} (min–max)`, "", `${fmtMs(r.cold.median)} (${fmtMs(r.cold.min)}–${fmtMs(r.cold.max)})`, ""],
    ["", "CPU used by then (all threads), median", "", fmtMs(r.cold.cpuMedian), ""],
    [`sustained, ${Math.round(r.sustained.seconds)} s of streams`, "streams/s, p50 / p99", "", `${fmtInt(r.sustained.rps)}, ${fmtMs(r.sustained.p50)} / ${fmtMs(r.sustained.p99)}`, ""],
    ["", "RSS before / peak / after (2 s idle)", "", `${fmtMB(r.sustained.rssBeforeKB)} / ${fmtMB(r.sustained.rssPeakKB)} / ${fmtMB(r.sustained.rssAfterKB)}`, ""],
  ];
}

/** The Responses dialect's rows: the same work, the gateway speaking POST /v1/responses. */
function responsesFigures(r: Results): string[][] {
  const { nonStream: ns, stream: s, nonStreamProbe: nsp, streamProbe: sp } = r.responses;
  return [
    ["Responses API: non-stream", `req/s (${O.connections} connections)`, fmtInt(ns.direct.rps), fmtInt(ns.gateway.rps), fmtX(ns.ratio)],
    ["", "p50 / p99, one request at a time", `${fmtMs(nsp.direct.total.p50)} / ${fmtMs(nsp.direct.total.p99)}`, `${fmtMs(nsp.gateway.total.p50)} / ${fmtMs(nsp.gateway.total.p99)}`, `+${fmtMs(nsp.gateway.total.p50 - nsp.direct.total.p50)} at p50`],
    ["", "gateway CPU per request", "", fmtMs(ns.gateway.cpuPerReq!), ""],
    [`Responses API: stream, ${O.chunks} deltas`, `streams/s (${O.connections} connections)`, fmtInt(s.direct.rps), fmtInt(s.gateway.rps), fmtX(s.ratio)],
    ["", "time to first byte p50 / p99 (one at a time)", `${fmtMs(sp.direct.ttfb.p50)} / ${fmtMs(sp.direct.ttfb.p99)}`, `${fmtMs(sp.gateway.ttfb.p50)} / ${fmtMs(sp.gateway.ttfb.p99)}`, `+${fmtMs(sp.gateway.ttfb.p50 - sp.direct.ttfb.p50)} at p50`],
    ["", "gateway CPU per stream", "", fmtMs(s.gateway.cpuPerReq!), `${((s.gateway.cpuPerReq! * 1000) / O.chunks).toFixed(1)} µs per delta`],
  ];
}

const NOTES_MARKER = "<!-- Everything below this line is written by hand and kept by bench/run.ts across runs. -->";

function markdown(r: Results, keptNotes: string): string {
  const m = r.machine;
  const t = targets(r);
  return `# Benchmark: grok2api against talking to the upstream directly

Written by \`bun run bench${O.quick ? " --quick" : ""}\` (bench/run.ts) on ${r.date}, in ${Math.round(r.durationS)} s.
${O.quick ? "\n**Quick run**: short rounds, not the real report.\n" : ""}
## Machine

| | |
| --- | --- |
| CPU | ${m.cpu}, ${m.cores} cores |
| memory | ${m.memGiB.toFixed(1)} GiB |
| OS | ${m.os} |
| Bun (runtime of the binary and the fake upstream) | ${m.bun} |
| load generator | ${m.loadgen}${m.node !== "(not used)" ? ` ${m.node}` : ""} |
| binary | ${relative(ROOT, BIN)}${flags.bin ? "" : `, built from commit ${m.commit}${m.dirty ? " with uncommitted changes in src/" : ""}`} |
| load average before / after | ${m.load.map((x) => x.toFixed(2)).join(" ")} / ${r.loadAfter.map((x) => x.toFixed(2)).join(" ")} |

All processes (load generator, gateway, fake upstream) share these cores, so absolute figures move
with whatever else the machine does; the ratios are measured in the same run, in alternating rounds.

## Targets

${table([["target", "goal", "measured", ""], ...t.map((x) => [x.name, x.target, x.value, x.pass ? "PASS" : "**MISS**"])])}

## Figures

${table(figures(r))}

Per-round stream ratios: ${r.stream.roundRatios.map(fmtX).join(", ")}; non-stream: ${r.nonStream.roundRatios.map(fmtX).join(", ")}.

## How it was measured

- **Fake upstream** (\`bench/fake-upstream.ts\`): Bun.serve on 127.0.0.1 answering from bytes prepared
  at start-up in xAI's format: a small completion, or ${O.chunks} text chunks + finish chunk + usage chunk +
  \`[DONE]\`, written and flushed one chunk at a time. On \`/v1/responses\` the same in the Responses
  format (a small response object, or created / in_progress / item and part events around ${O.chunks}
  \`response.output_text.delta\` events / completed), for a second gateway started with
  \`GROK2API_UPSTREAM_API=responses\` ("Responses API" rows and targets).
- **Direct** requests go to the fake upstream with exactly the body the gateway sends it (read back
  from the fake once), so both sides ask for the same work; **gateway** requests go to
  \`dist/grok2api\` \`/v1/messages\` (access log on, as by default).
- **Throughput**: autocannon, ${O.connections} connections, ${O.rounds} round(s) of ${O.roundS} s per side after 1 s of
  warm-up, direct and gateway alternating; medians of the rounds. Latency percentiles come from
  every response's own time (autocannon's histogram keeps whole milliseconds only).
- **One at a time**: ${O.probeN} non-stream and ${O.streamProbeN} stream requests per side, one after another on a
  kept-alive connection, direct and gateway interleaved; time to first body byte and to the end.
- **Paced stream**: the same ${O.chunks}-chunk stream with the fake upstream waiting ${PACED_GAP_MS} ms between chunks, as a
  model produces tokens, at ${O.pacedConnections} connections (few enough that one read and one write per chunk do not saturate 2 cores): what a
  client sees when the upstream, not the CPU, sets the pace.
- **Idle streams**: ${O.idleStreams} streams opened at once through the gateway against an upstream that sends
  one chunk and then nothing; VmRSS of the gateway (from /proc) before, 1 s after all got their
  first byte, and 1 s after closing them.
- **Cold start**: spawn of the binary until its first \`/v1/messages\` answer, sent as soon as it logs
  "listening" on stdout (page cache warm); CPU is what all its threads used by then (/proc schedstat).
- **Sustained**: a fresh gateway, warmed up, then streams for ${O.sustainedS} s at ${O.connections} connections; VmRSS sampled every second.
- **CPU per request**: utime + stime of the process from /proc (10 ms ticks) over all rounds ÷ requests.

${NOTES_MARKER}
${keptNotes}`;
}

function printSummary(r: Results): void {
  const rows = figures(r);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  process.stdout.write("\n" + fmt(rows[0]!) + "\n" + widths.map((w) => "-".repeat(w)).join("  ") + "\n");
  for (const row of rows.slice(1)) process.stdout.write(fmt(row) + "\n");
  process.stdout.write("\n");
  for (const t of targets(r)) process.stdout.write(`${t.pass ? "PASS" : "MISS"}  ${t.name}: ${t.value} (target ${t.target})\n`);
}

// ---------------------------------------------------------------- main

async function build(): Promise<void> {
  if (flags["no-build"] || flags.bin) {
    if (!existsSync(BIN)) throw new Error(`${flags.bin ?? "dist/grok2api"} does not exist${flags.bin ? "" : ": run without --no-build"}`);
    return;
  }
  process.stdout.write("building dist/grok2api …\n");
  const p = spawn([process.execPath, "run", "build"], { cwd: ROOT, stdout: "ignore", stderr: "inherit" });
  if ((await p.exited) !== 0) throw new Error("npm run build failed");
}

async function main(): Promise<void> {
  const t0 = performance.now();
  process.stdout.write(`bench: ${O.quick ? "quick run" : "full run"}\n`);
  mkdirSync(WORK, { recursive: true });
  rmSync(join(WORK, "gateway-access.log"), { force: true });
  const mach = await machine();
  await build();

  const up = await startUpstream();
  process.stdout.write(`fake upstream on ${up.base}; ${O.quick ? "quick run" : "full run"}\n`);

  process.stdout.write("cold start …\n");
  const cold = await coldStart(up);

  let gw = await startGateway(up);
  await Bun.sleep(500);
  const fresh = { rssKB: rssKB(gw.pid) };
  const upstreamBodies = {
    nonStream: await upstreamBodyFor(up, gw, MSG_NS),
    stream: await upstreamBodyFor(up, gw, MSG_S),
    paced: await upstreamBodyFor(up, gw, MSG_PACED),
  };
  await warmUp(gw);
  await Bun.sleep(1000);
  const idleRssKB = rssKB(gw.pid);

  process.stdout.write(`${O.idleStreams} idle streams …\n`);
  const idleDefault = await idleStreams(up, gw);
  let idle = idleDefault;
  if (idleDefault.opened < O.idleStreams) {
    // Bun's fetch holds at most 256 requests in flight unless told otherwise at start-up:
    // measure the memory per stream with that cap lifted, on a fresh gateway.
    process.stdout.write(`  only ${idleDefault.opened} opened; again with ${LIFT_CAP} …\n`);
    const lifted = await startGateway(up, { BUN_CONFIG_MAX_HTTP_REQUESTS: LIFT_CAP.split("=")[1]! });
    await warmUp(lifted);
    await Bun.sleep(1000);
    idle = { ...(await idleStreams(up, lifted)), env: LIFT_CAP };
    await stop(lifted.p);
  }

  process.stdout.write("non-stream …\n");
  const nonStream = await compare("non-stream", up, gw, upstreamBodies.nonStream, MSG_NS);
  const nonStreamProbe = await probe(up, gw, upstreamBodies.nonStream, MSG_NS, O.probeN, 100);

  process.stdout.write("stream …\n");
  const stream = await compare("stream", up, gw, upstreamBodies.stream, MSG_S);
  const streamProbe = await probe(up, gw, upstreamBodies.stream, MSG_S, O.streamProbeN, 20);

  process.stdout.write("paced stream …\n");
  const paced = await compare("paced", up, gw, upstreamBodies.paced, MSG_PACED, O.pacedConnections);
  await stop(gw.p);

  process.stdout.write("Responses API (GROK2API_UPSTREAM_API=responses) …\n");
  gw = await startGateway(up, { GROK2API_UPSTREAM_API: "responses" });
  const rBodies = { nonStream: await upstreamBodyFor(up, gw, MSG_NS), stream: await upstreamBodyFor(up, gw, MSG_S) };
  await warmUp(gw);
  const RPATH = "/v1/responses";
  const responses = {
    nonStream: await compare("responses non-stream", up, gw, rBodies.nonStream, MSG_NS, O.connections, RPATH),
    nonStreamProbe: await probe(up, gw, rBodies.nonStream, MSG_NS, O.probeN, 100, RPATH),
    stream: await compare("responses stream", up, gw, rBodies.stream, MSG_S, O.connections, RPATH),
    streamProbe: await probe(up, gw, rBodies.stream, MSG_S, O.streamProbeN, 20, RPATH),
    upstreamBodies: rBodies,
  };
  await stop(gw.p);

  process.stdout.write(`sustained, ${O.sustainedS} s …\n`);
  gw = await startGateway(up);
  await warmUp(gw);
  await Bun.sleep(1000);
  const sus = await sustained(up, gw);
  await stop(gw.p);
  await stop(up.p);

  const results: Results = {
    machine: mach,
    loadAfter: os.loadavg(),
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    durationS: (performance.now() - t0) / 1000,
    cold,
    fresh,
    idleRssKB,
    idle,
    idleDefault,
    nonStream,
    nonStreamProbe,
    stream,
    streamProbe,
    paced,
    sustained: sus,
    upstreamBodies,
    responses,
  };
  printSummary(results);
  let kept = "";
  if (existsSync(OUT)) {
    const old = readFileSync(OUT, "utf8");
    const at = old.indexOf(NOTES_MARKER);
    if (at >= 0) kept = old.slice(at + NOTES_MARKER.length).replace(/^\n/, "");
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, markdown(results, kept));
  writeFileSync(join(WORK, "last-results.json"), JSON.stringify(results, null, 2));
  rmSync(join(WORK, "gateway-access.log"), { force: true });
  process.stdout.write(`\nwrote ${relative(process.cwd(), OUT) || OUT}\n`);
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  killAll();
  process.exit(1);
}
killAll();
process.exit(0);
