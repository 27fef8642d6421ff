/**
 * Where the gateway's CPU goes, from a CPU profile: the gateway run from source under
 * `bun --cpu-prof` (the compiled binary dies of SIGPWR with BUN_OPTIONS=--cpu-prof on Bun
 * 1.4.5), loaded for a few seconds per scenario; the profile's samples inside each load window
 * give the JavaScript thread's busy time per request and the functions it went to.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import type { Ctx, Job, Row } from "../lib/job";
import { cannon, checkCannon } from "../lib/load";
import { fmtUs, mainThreadCpuMs, median, threadsCpuMs } from "../lib/measure";
import { O, ROOT, WORK } from "../lib/options";
import { stop } from "../lib/proc";
import { BODIES, pathOf, startGateway, warmUp, type Dialect, type Gateway } from "../lib/stand";

const INTERVAL_US = 250;

interface Scenario {
  name: string;
  dialect: Dialect;
  path: string;
  body: string;
}

interface Window {
  name: string;
  requests: number;
  /** The JavaScript thread's time in the VM per request (profile samples × the sampling period: wall time, so preemption counts), ms. */
  profiledPerReq: number;
  /** CPU time of the main (JavaScript) thread per request (schedstat), ms. */
  mainPerReq: number;
  /** CPU time of all threads per request (schedstat), ms. */
  allPerReq: number;
  /** Self time by function: its share of the samples, the largest first. */
  top: Array<{ fn: string; share: number }>;
}

const SCENARIOS: Scenario[] = [
  { name: "/v1/messages non-stream (chat completions upstream)", dialect: "chat", path: "/v1/messages", body: BODIES.messages.nonStream },
  { name: "/v1/chat/completions non-stream", dialect: "chat", path: pathOf("chat"), body: BODIES.chat.nonStream },
  { name: "/v1/messages stream (chat completions upstream)", dialect: "chat", path: "/v1/messages", body: BODIES.messages.stream },
  { name: "/v1/chat/completions stream", dialect: "chat", path: pathOf("chat"), body: BODIES.chat.stream },
  { name: "/v1/responses non-stream", dialect: "responses", path: pathOf("responses"), body: BODIES.responses.nonStream },
  { name: "/v1/messages stream (Responses upstream)", dialect: "responses", path: "/v1/messages", body: BODIES.messages.stream },
  { name: "/v1/responses stream", dialect: "responses", path: pathOf("responses"), body: BODIES.responses.stream },
];

interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function fnName(cf: Profile["nodes"][number]["callFrame"]): string {
  const url = cf.url.startsWith("file://") ? relative(ROOT, cf.url.slice(7)) : cf.url;
  const name = cf.functionName || "(anonymous)";
  return url ? `${name} ${url.replace(/^node_modules\//, "")}:${cf.lineNumber + 1}` : name;
}

/** The samples of a profile between two instants (µs since the epoch: Bun's profile clock). */
function windowOf(p: Profile, fromUs: number, toUs: number) {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let t = p.startTime;
  const self = new Map<string, number>();
  let n = 0;
  const deltas: number[] = [];
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < fromUs || t > toUs) continue;
    n++;
    deltas.push(p.timeDeltas[i]!);
    const node = byId.get(p.samples[i]!);
    const k = node ? fnName(node.callFrame) : "?";
    self.set(k, (self.get(k) ?? 0) + 1);
  }
  // The sampler's real period: the gap between samples while the thread is busy (most of them).
  const period = Math.max(INTERVAL_US, median(deltas));
  return { n, periodUs: period, self };
}

/**
 * The gateway from source under the profiler. Bun's sampler now and then kills the process
 * with SIGPWR as it starts (a thread it signals before that thread can take it): tried again.
 */
async function profiled(ctx: Ctx, dialect: Dialect, dir: string, name: string): Promise<Gateway> {
  const cmd = [process.execPath, "--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`, `--cpu-prof-interval=${INTERVAL_US}`, join(ROOT, "src/main.ts")];
  for (let attempt = 1; ; attempt++) {
    try {
      return await startGateway(ctx.up, { dialect, cmd });
    } catch (e) {
      if (attempt >= 4) throw e;
      process.stdout.write(`  profiled gateway did not start (${(e as Error).message}); again\n`);
    }
  }
}

export const cpuProfile: Job<Window[]> = {
  name: "cpu-profile",
  quick: false,
  async run(ctx) {
    const dir = join(WORK, "profiles");
    mkdirSync(dir, { recursive: true });
    const only = process.env.BENCH_PROFILE_ONLY;
    const windows: Window[] = [];
    for (const dialect of ["chat", "responses"] as Dialect[]) {
      const scenarios = SCENARIOS.filter((s) => s.dialect === dialect && (!only || s.name.includes(only)));
      if (!scenarios.length) continue;
      const name = `gateway-${dialect}.cpuprofile`;
      rmSync(join(dir, name), { force: true });
      const gw = await profiled(ctx, dialect, dir, name);
      const marks: Array<{ s: Scenario; from: number; to: number; requests: number; all: number; main: number }> = [];
      try {
        await warmUp(gw);
        for (const s of scenarios) {
          const url = `${gw.base}${s.path}`;
          checkCannon(`profile warm-up ${s.name}`, await cannon(url, s.body, 1, O.connections, gw.key));
          await Bun.sleep(300);
          const c0 = threadsCpuMs(gw.pid);
          const m0 = mainThreadCpuMs(gw.pid);
          const from = Date.now() * 1000;
          const r = await cannon(url, s.body, O.profileS, O.connections, gw.key);
          const to = Date.now() * 1000;
          checkCannon(`profile ${s.name}`, r);
          marks.push({ s, from, to, requests: r.requests, all: threadsCpuMs(gw.pid) - c0, main: mainThreadCpuMs(gw.pid) - m0 });
          process.stdout.write(`  profiled ${s.name}: ${r.requests} requests\n`);
        }
      } finally {
        await stop(gw.p, 10_000); // the profile is written on the way out
      }
      const profile = JSON.parse(readFileSync(join(dir, name), "utf8")) as Profile;
      for (const m of marks) {
        // The load generator starts and ends a little inside [from, to]: the window is theirs.
        const w = windowOf(profile, m.from, m.to);
        const perReq = (w.n * w.periodUs) / 1000 / m.requests;
        const top = [...w.self]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(([fn, k]) => ({ fn, share: k / w.n }));
        windows.push({ name: m.s.name, requests: m.requests, profiledPerReq: perReq, mainPerReq: m.main / m.requests, allPerReq: m.all / m.requests, top });
      }
    }
    return windows;
  },
  rows: (ws) =>
    ws.map((w, i): Row => [
      i === 0 ? "gateway CPU per request, from a CPU profile (source under bun --cpu-prof)" : "",
      `${w.name}: JS thread in the profile / main thread CPU / all threads CPU`,
      "",
      "",
      `${fmtUs(w.profiledPerReq)} / ${fmtUs(w.mainPerReq)} / ${fmtUs(w.allPerReq)}`,
      "",
      "",
    ]),
  method: () =>
    `**CPU profile** (\`jobs/cpu-profile.ts\`): the gateway from source (\`bun --cpu-prof --cpu-prof-interval=${INTERVAL_US}\` src/main.ts; ` +
    `the compiled binary dies of SIGPWR under BUN_OPTIONS=--cpu-prof on this Bun), ${O.profileS} s of load per scenario at ${O.connections} ` +
    "connections after 1 s of warm-up. Per request: the profile's samples inside the load's window × the sampler's period " +
    "(wall time in JavaScript: preemption by other processes counts), and the CPU time of the main thread and of all threads " +
    "from schedstat over the window — all inflated by the profiler itself (about twice the unprofiled CPU, which the non-stream " +
    "goal is judged on). The profile gives " +
    "where the time went (self time, share of the samples); Bun's native work outside JavaScript (socket reads and writes, " +
    "HTTP parsing, fetch's own thread) is not sampled. Profiles in bench/.work/profiles.",
};

/** The top functions of each window, as a markdown section (what the report shows of the profile). */
export function profileDetail(ws: Window[]): string {
  return ws
    .map(
      (w) =>
        `**${w.name}** (${w.requests} requests; per request ${fmtUs(w.profiledPerReq)} in JavaScript, ${fmtUs(w.mainPerReq)} of ` +
        `main-thread CPU, ${fmtUs(w.allPerReq)} all threads):\n\n` +
        "| function (self time) | share of the samples |\n| --- | --- |\n" +
        w.top.map((t) => `| \`${t.fn}\` | ${(t.share * 100).toFixed(1)} % |`).join("\n"),
    )
    .join("\n\n");
}
