/**
 * Spawn the binary and time it to its first answered /v1/messages request. The request goes
 * out as soon as the binary logs "listening" on stdout (no busy polling that would compete
 * with it for the two cores).
 */
import { relative } from "node:path";
import type { Job } from "../lib/job";
import { fmtMs, median, threadsCpuMs } from "../lib/measure";
import { BIN, HOST, O, ROOT } from "../lib/options";
import { freePort, lines, spawn, stop } from "../lib/proc";
import { BODIES, gatewayEnv, post } from "../lib/stand";

interface ColdStart {
  runs: number[];
  median: number;
  min: number;
  max: number;
  /** CPU time of the binary (all threads) up to its first answer, median, ms. */
  cpuMedian: number;
}

export const coldStart: Job<ColdStart> = {
  name: "cold-start",
  quick: false,
  async run(ctx) {
    const runs: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < O.coldRuns; i++) {
      const port = await freePort();
      const url = `http://${HOST}:${port}/v1/messages`;
      const t0 = performance.now();
      const p = spawn([BIN], { env: gatewayEnv(ctx.up, port), stdout: "pipe" });
      const out = lines(p);
      const deadline = setTimeout(() => p.kill("SIGKILL"), 10_000);
      try {
        for (;;) {
          const line = await out.next();
          if (line.done) throw new Error(`cold start: ${relative(ROOT, BIN)} exited before listening`);
          if (line.value.includes('"msg":"listening"')) break;
        }
        for (let attempt = 0; ; attempt++) {
          try {
            const r = await post(url, BODIES.messages.nonStream);
            if (r.status !== 200) throw new Error(`cold start: HTTP ${r.status}: ${await r.text()}`);
            await r.arrayBuffer();
            runs.push(performance.now() - t0);
            cpu.push(threadsCpuMs(p.pid));
            break;
          } catch (e) {
            if ((e instanceof Error && e.message.startsWith("cold start")) || attempt >= 100) throw e;
            await Bun.sleep(1);
          }
        }
      } finally {
        clearTimeout(deadline);
        await stop(p);
      }
    }
    return { runs, median: median(runs), min: Math.min(...runs), max: Math.max(...runs), cpuMedian: median(cpu) };
  },
  rows: (r) => [
    ["cold start", `spawn → first answer, median of ${r.runs.length} (min–max)`, "", "", `${fmtMs(r.median)} (${fmtMs(r.min)}–${fmtMs(r.max)})`, "", ""],
    ["", "CPU used by then (all threads), median", "", "", fmtMs(r.cpuMedian), "", ""],
  ],
  goals: (r) => [{ name: "cold start to first answered request (median)", goal: "< 100 ms", value: fmtMs(r.median), pass: r.median < 100 }],
  method: () =>
    '**Cold start** (`jobs/cold-start.ts`): spawn of the binary until its first `/v1/messages` answer, sent as soon as it logs "listening" ' +
    "on stdout (page cache warm); CPU is what all its threads used by then (/proc schedstat).",
};
