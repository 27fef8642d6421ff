/**
 * The benchmark's command line and knobs, read once (see bench/run.ts for what they mean).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

export const ROOT = resolve(import.meta.dir, "../..");
export const WORK = join(ROOT, "bench/.work");
export const DIST_BIN = join(ROOT, "dist/grok2api");
export const LOAD = join(ROOT, "bench/load.mjs");
export const UPSTREAM = join(ROOT, "bench/fake-upstream.ts");
export const PIPE = join(ROOT, "bench/pipe-proxy.ts");
export const RESULTS_MD = join(ROOT, "bench/RESULTS.md");
export const BASELINE = join(ROOT, "bench/baseline.json");
export const HOST = "127.0.0.1";

// The command line is bench/run.ts's; another script using these helpers (bench/ab.ts) has its own.
const { values: flags } = parseArgs({
  args: Bun.main === join(ROOT, "bench/run.ts") ? Bun.argv.slice(2) : [],
  options: {
    quick: { type: "boolean", default: false },
    sustained: { type: "string" },
    "no-build": { type: "boolean", default: false },
    out: { type: "string" },
    bin: { type: "string" },
    only: { type: "string" },
    "write-baseline": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
export { flags };

export function printHelp(runFile: string): void {
  const doc = readFileSync(runFile, "utf8").split("*/")[0]!;
  process.stdout.write(doc.replace(/^#!.*\n\/\*\*\n/, "").replace(/^ \* ?/gm, "") + "\n");
}

const env = process.env;
// npm takes `npm run bench --quick` as its own setting and hands it over in the environment.
const QUICK = flags.quick || env.BENCH_QUICK === "1" || env.npm_config_quick === "true";
const num = (v: string | undefined, d: number) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d);

export const O = {
  quick: QUICK,
  sustainedS: num(flags.sustained ?? env.BENCH_SUSTAINED_S, QUICK ? 10 : 60),
  roundS: QUICK ? 2 : 5,
  rounds: QUICK ? 1 : 3,
  // Long enough for the JIT to have compiled the hot path (a cold gateway measures at half speed).
  warmupS: QUICK ? 1 : 1.5,
  /** Requests of each kind a gateway gets before it is measured. */
  warmupRequests: QUICK ? 15 : 50,
  connections: num(env.BENCH_CONNECTIONS, 32),
  pacedConnections: num(env.BENCH_PACED_CONNECTIONS, 32),
  idleStreams: num(env.BENCH_IDLE_STREAMS, 1000),
  burstStreams: num(env.BENCH_BURST_STREAMS, 1000),
  burstWatchS: num(env.BENCH_BURST_WATCH_S, 30),
  chunks: num(env.BENCH_CHUNKS, 200),
  coldRuns: QUICK ? 5 : 15,
  probeN: QUICK ? 300 : 2000,
  streamProbeN: QUICK ? 60 : 300,
  profileS: num(env.BENCH_PROFILE_S, QUICK ? 3 : 8),
  loadgen: env.BENCH_LOADGEN === "bun" ? process.execPath : "node",
  /** Jobs to run (comma-separated names), all when unset. */
  only: flags.only ? new Set(flags.only.split(",").map((s) => s.trim()).filter(Boolean)) : undefined,
};

export const BIN = flags.bin ? resolve(flags.bin) : DIST_BIN;
export const OUT = flags.out ? resolve(flags.out) : QUICK ? join(WORK, "RESULTS-quick.md") : RESULTS_MD;
