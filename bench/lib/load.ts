/**
 * The load generator (bench/load.mjs, autocannon under Node) run as a bounded subprocess, and
 * the comparison of several targets doing the same work in alternating rounds.
 */
import { LOAD, O } from "./options";
import { fmtInt, fmtMs, mainThreadCpuMs, median, threadsCpuMs } from "./measure";
import { spawn } from "./proc";

export interface CannonResult {
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

/** One load.mjs job; killed when it overruns `timeoutS`. */
export async function load<T>(job: Record<string, unknown>, timeoutS: number): Promise<T> {
  const p = spawn([O.loadgen, LOAD, JSON.stringify(job)], { stdout: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutS * 1000);
  const text = await new Response(p.stdout as ReadableStream).text();
  const code = await p.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`load generator (${job.mode}) failed with code ${code}`);
  return JSON.parse(text.trim().split("\n").pop()!) as T;
}

export function cannon(url: string, body: string, seconds: number, connections = O.connections, key?: string): Promise<CannonResult> {
  return load<CannonResult>({ mode: "cannon", url, body, connections, seconds, ...(key ? { key } : {}) }, seconds + 60);
}

export function checkCannon(what: string, r: CannonResult): void {
  const problems: string[] = [];
  if (r.errors || r.timeouts) problems.push(`${r.errors} errors, ${r.timeouts} timeouts`);
  if (r.non2xx) problems.push(`${r.non2xx} non-2xx answers`);
  if (r.requests === 0) problems.push("no request completed");
  // Every answer of one kind has (nearly) the same size: a short one is a cut stream.
  if (r.minBytes < r.maxBytes * 0.95) problems.push(`answers from ${r.minBytes} to ${r.maxBytes} bytes (a cut stream?)`);
  if (problems.length) throw new Error(`${what}: ${problems.join("; ")}`);
}

/** One target of a comparison: where the same work is sent, and whose CPU is counted for it. */
export interface Target {
  name: string;
  url: string;
  body: string;
  key?: string;
  /** The process serving it (its CPU per request is reported); none for the fake upstream itself. */
  pid?: number;
}

export interface Side {
  rps: number;
  p50: number;
  p99: number;
  /** Requests per second of each round. */
  rounds: number[];
  /** CPU of the serving process per request, all threads (schedstat), ms. */
  cpuPerReq?: number;
  /** The same, its main (JavaScript) thread only. */
  mainCpuPerReq?: number;
  /** The fake upstream's CPU per request, ms. */
  upCpuPerReq: number;
}

/**
 * The targets in rounds of `O.roundS` seconds each, after a warm-up; the order rotates each
 * round so no target always follows another. Medians of the rounds.
 */
export async function compare(label: string, targets: Target[], upstreamPid: number, connections = O.connections): Promise<Record<string, Side>> {
  // Warm-up (JIT, connection pools), not counted: every target in turn, in one load process.
  await load({ mode: "warm", targets: targets.map(({ url, body, key }) => ({ url, body, key })), connections, seconds: O.warmupS }, 60 + targets.length * (O.warmupS + 30));
  const runs: Record<string, { r: CannonResult; cpu: number; main: number; upCpu: number }[]> = {};
  for (const t of targets) runs[t.name] = [];
  for (let round = 0; round < O.rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const t of order) {
      const c0 = t.pid ? threadsCpuMs(t.pid) : 0;
      const m0 = t.pid ? mainThreadCpuMs(t.pid) : 0;
      const u0 = threadsCpuMs(upstreamPid);
      const r = await cannon(t.url, t.body, O.roundS, connections, t.key);
      checkCannon(`${label} ${t.name}`, r);
      runs[t.name]!.push({
        r,
        cpu: t.pid ? threadsCpuMs(t.pid) - c0 : 0,
        main: t.pid ? mainThreadCpuMs(t.pid) - m0 : 0,
        upCpu: threadsCpuMs(upstreamPid) - u0,
      });
      process.stdout.write(`  ${label} ${round + 1}/${O.rounds} ${t.name.padEnd(24)} ${fmtInt(r.rps).padStart(7)} req/s  p50 ${fmtMs(r.p50)}  p99 ${fmtMs(r.p99)}\n`);
    }
  }
  const out: Record<string, Side> = {};
  for (const t of targets) {
    const rs = runs[t.name]!;
    const reqs = rs.reduce((a, x) => a + x.r.requests, 0);
    out[t.name] = {
      rps: median(rs.map((x) => x.r.rps)),
      p50: median(rs.map((x) => x.r.p50)),
      p99: median(rs.map((x) => x.r.p99)),
      rounds: rs.map((x) => x.r.rps),
      cpuPerReq: t.pid ? rs.reduce((a, x) => a + x.cpu, 0) / reqs : undefined,
      mainCpuPerReq: t.pid ? rs.reduce((a, x) => a + x.main, 0) / reqs : undefined,
      upCpuPerReq: rs.reduce((a, x) => a + x.upCpu, 0) / reqs,
    };
  }
  return out;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}
export type ProbeResult = Record<string, { ttfb: Summary; total: Summary; bytes: number }>;

/** One request at a time on a kept-alive connection per target, the targets interleaved. */
export function probe(targets: Target[], count: number, warmup: number): Promise<ProbeResult> {
  return load<ProbeResult>({ mode: "probe", targets: targets.map(({ name, url, body, key }) => ({ name, url, body, key })), count, warmup }, 600);
}
