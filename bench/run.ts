#!/usr/bin/env bun
/**
 * `bun run bench`: how much does the gateway cost against talking to the upstream directly,
 * and against the floor any Bun gateway has (a bare pipe proxy)? In one run on one machine:
 * builds dist/grok2api, starts the fast fake upstream (bench/fake-upstream.ts), the pipe
 * (bench/pipe-proxy.ts) and the binary on 127.0.0.1, drives them with autocannon
 * (bench/load.mjs, under Node) and reports ratios measured side by side, so a noisy machine
 * still gives a fair figure. Each job is one file in bench/jobs/. Writes bench/RESULTS.md and
 * bench/baseline.json (the ratios a quick run compares with).
 *
 *   bun run bench                  full run (~10 min), writes bench/RESULTS.md and bench/baseline.json
 *   bun run bench --quick          short run (streams and non-stream ratios, ~1 min), writes
 *                                  bench/.work/RESULTS-quick.md, prints today's ratios beside the
 *                                  recorded ones and exits 1 only on a collapse (a scenario below
 *                                  half of its recorded ratios against both direct and the pipe,
 *                                  measured twice), never on noise
 *                                  (`npm run bench --quick` works too: npm keeps the flag
 *                                  for itself and passes it on as npm_config_quick=true)
 *   bun run bench --only a,b       only these jobs (names below)
 *   bun run bench --sustained 20   sustained-load duration in seconds (env BENCH_SUSTAINED_S)
 *   bun run bench --no-build       use dist/grok2api as it is
 *   bun run bench --bin FILE       measure another build of the binary (implies --no-build)
 *   bun run bench --out FILE       write the report elsewhere (bench/baseline.json is then left alone)
 *
 * Jobs, in order: cold-start, idle-rss, idle-streams, streams, non-stream, latency, paced,
 * cpu-profile, burst, sustained (the quick run: streams, non-stream).
 *
 * Other knobs (env): BENCH_CONNECTIONS (default 32), BENCH_PACED_CONNECTIONS (32),
 * BENCH_IDLE_STREAMS (1000), BENCH_BURST_STREAMS (1000), BENCH_BURST_WATCH_S (30), BENCH_CHUNKS
 * (200), BENCH_PROFILE_S (8), BENCH_PROFILE_ONLY (a scenario name's part), BENCH_LOADGEN=node|bun
 * (runtime for autocannon, default node).
 *
 * Everything listens on 127.0.0.1 only, every load is bounded in time, and every process
 * started here is killed on the way out (normal end, error, Ctrl-C, SIGTERM).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { Ctx, type Job } from "./lib/job";
import { machine } from "./lib/machine";
import { BASELINE, BIN, flags, O, OUT, printHelp, RESULTS_MD, ROOT, WORK } from "./lib/options";
import { killAll, killOnExit, spawn } from "./lib/proc";
import { againstBaseline, markdown, NOTES_MARKER, printSummary, printTable, ratiosOf, readBaseline, type Baseline, type Ran } from "./lib/report";
import { burst } from "./jobs/burst";
import { coldStart } from "./jobs/cold-start";
import { cpuProfile, profileDetail } from "./jobs/cpu-profile";
import { idleRss } from "./jobs/idle-rss";
import { idleStreams } from "./jobs/idle-streams";
import { latency } from "./jobs/latency";
import { nonStream } from "./jobs/non-stream";
import { paced } from "./jobs/paced";
import { streams } from "./jobs/streams";
import { sustained } from "./jobs/sustained";

const JOBS = [coldStart, idleRss, idleStreams, streams, nonStream, latency, paced, cpuProfile, burst, sustained] as Job<unknown>[];

if (flags.help) {
  printHelp(import.meta.path);
  process.exit(0);
}
killOnExit();

async function build(): Promise<void> {
  if (flags["no-build"] || flags.bin) {
    if (!existsSync(BIN)) throw new Error(`${flags.bin ?? "dist/grok2api"} does not exist${flags.bin ? "" : ": run without --no-build"}`);
    return;
  }
  process.stdout.write("building dist/grok2api …\n");
  const p = spawn([process.execPath, "run", "build"], { cwd: ROOT, stdout: "ignore", stderr: "inherit" });
  if ((await p.exited) !== 0) throw new Error("npm run build failed");
}

async function main(): Promise<number> {
  const t0 = performance.now();
  process.stdout.write(`bench: ${O.quick ? "quick run" : "full run"}\n`);
  const jobs = JOBS.filter((j) => (O.only ? O.only.has(j.name) : !O.quick || j.quick));
  if (O.only) for (const n of O.only) if (!JOBS.some((j) => j.name === n)) throw new Error(`no job named ${n} (jobs: ${JOBS.map((j) => j.name).join(", ")})`);
  mkdirSync(WORK, { recursive: true });
  rmSync(join(WORK, "gateway-access.log"), { force: true });
  const mach = await machine();
  await build();

  const ctx = await Ctx.start();
  process.stdout.write(`fake upstream on ${ctx.up.base}, pipe on ${ctx.pipe.base}\n`);
  const ran: Ran[] = [];
  const base = readBaseline(BASELINE);
  let today: Record<string, number> = {};
  let collapsed: string[] = [];
  try {
    for (const job of jobs) {
      process.stdout.write(`${job.name} …\n`);
      ran.push({ job, result: await job.run(ctx) });
    }
    today = ratiosOf(ran);
    if (O.quick && Object.keys(today).length) {
      collapsed = againstBaseline(today, base).collapsed;
      // A ratio that looks collapsed is measured once more before anything fails: one bad round on a
      // shared machine is noise; the better of the two is kept.
      for (const r of ran) {
        const mine = Object.keys(r.job.ratios?.(r.result) ?? {});
        if (!mine.some((k) => collapsed.includes(k))) continue;
        process.stdout.write(`${r.job.name}: ${collapsed.filter((k) => mine.includes(k)).length} ratio(s) below half of the recorded ones; measuring again …\n`);
        const again = r.job.ratios!(await r.job.run(ctx));
        for (const k of mine) if (again[k] !== undefined) today[k] = Math.max(today[k] ?? 0, again[k]!);
      }
      const cmp = againstBaseline(today, base);
      collapsed = cmp.collapsed;
      printSummary(ran);
      process.stdout.write(`\nratios against the last recorded run (${base ? `${base.date}, ${base.commit}` : "none recorded: bench/baseline.json is missing"}):\n`);
      printTable(cmp.rows);
    } else printSummary(ran);
  } finally {
    await ctx.close();
  }

  let kept = "";
  if (existsSync(OUT)) {
    const old = readFileSync(OUT, "utf8");
    const at = old.indexOf(NOTES_MARKER);
    if (at >= 0) kept = old.slice(at + NOTES_MARKER.length).replace(/^\n/, "");
  }
  const prof = ran.find((r) => r.job === (cpuProfile as Job<unknown>));
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    markdown({
      machine: mach,
      loadAfter: os.loadavg(),
      date,
      durationS: (performance.now() - t0) / 1000,
      ran,
      keptNotes: kept,
      detail: prof ? profileDetail(prof.result as Parameters<typeof profileDetail>[0]) : "",
    }),
  );
  writeFileSync(join(WORK, "last-results.json"), JSON.stringify(Object.fromEntries(ran.map((r) => [r.job.name, r.result])), null, 2));
  rmSync(join(WORK, "gateway-access.log"), { force: true });
  process.stdout.write(`\nwrote ${relative(process.cwd(), OUT) || OUT}\n`);
  // A full run into the real report records its ratios for the quick runs that follow.
  if (!O.quick && OUT === RESULTS_MD && Object.keys(today).length) {
    const b: Baseline = { date, commit: mach.commit, load: mach.load, ratios: { ...(base?.ratios ?? {}), ...today } };
    writeFileSync(BASELINE, JSON.stringify(b, null, 2) + "\n");
    process.stdout.write(`wrote ${relative(process.cwd(), BASELINE)}\n`);
  }
  process.stdout.write(`bench: done in ${Math.round((performance.now() - t0) / 1000)} s\n`);
  if (collapsed.length) {
    process.stderr.write(`bench: collapse (below half of the recorded ratio): ${collapsed.join("; ")}\n`);
    return 1;
  }
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
}
killAll();
process.exit(code);
