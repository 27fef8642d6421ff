#!/usr/bin/env bun
/**
 * Two builds of the gateway side by side on one scenario: what a change bought, in CPU per
 * request (all threads, and the JavaScript thread alone) and throughput, measured in
 * alternating rounds so the machine's noise falls on both alike.
 *
 *   bun bench/ab.ts --a OLD_BINARY --b NEW_BINARY [--face messages|openai] [--dialect chat|responses]
 *                   [--stream] [--teams] [--rounds 6] [--seconds 3] [--connections 32]
 *
 * A side may be `src` (this tree's src/main.ts under Bun) instead of a binary.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { cannon, checkCannon } from "./lib/load";
import { fmtInt, fmtUs, mainThreadCpuMs, median, threadsCpuMs } from "./lib/measure";
import { ROOT } from "./lib/options";
import { killAll, killOnExit, stop } from "./lib/proc";
import { BODIES, pathOf, startGateway, startUpstream, warmUp, type Dialect, type Gateway } from "./lib/stand";

const { values: o } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    a: { type: "string" },
    b: { type: "string" },
    face: { type: "string", default: "messages" },
    dialect: { type: "string", default: "chat" },
    stream: { type: "boolean", default: false },
    teams: { type: "boolean", default: false },
    rounds: { type: "string", default: "6" },
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
  },
});
if (!o.a || !o.b) throw new Error("--a and --b are required (a binary, or src)");
killOnExit();
const dialect = o.dialect as Dialect;
const cmd = (x: string) => (x === "src" ? [process.execPath, resolve(ROOT, "src/main.ts")] : [resolve(x)]);
const path = o.face === "messages" ? "/v1/messages" : pathOf(dialect);
const bodies = o.face === "messages" ? BODIES.messages : BODIES[dialect];
const body = o.stream ? bodies.stream : bodies.nonStream;

const up = await startUpstream();
const sides: Array<{ name: string; gw: Gateway; cpu: number[]; main: number[]; rps: number[] }> = [];
try {
  for (const [name, x] of [["A", o.a], ["B", o.b]] as const) {
    const gw = await startGateway(up, { dialect, teams: o.teams, cmd: cmd(x) });
    await warmUp(gw);
    sides.push({ name: `${name} (${x})`, gw, cpu: [], main: [], rps: [] });
  }
  for (const s of sides) checkCannon("warm-up", await cannon(`${s.gw.base}${path}`, body, 1, Number(o.connections), s.gw.key));
  for (let r = 0; r < Number(o.rounds); r++) {
    for (const s of r % 2 ? [...sides].reverse() : sides) {
      const c0 = threadsCpuMs(s.gw.pid);
      const m0 = mainThreadCpuMs(s.gw.pid);
      const res = await cannon(`${s.gw.base}${path}`, body, Number(o.seconds), Number(o.connections), s.gw.key);
      checkCannon(s.name, res);
      s.cpu.push((threadsCpuMs(s.gw.pid) - c0) / res.requests);
      s.main.push((mainThreadCpuMs(s.gw.pid) - m0) / res.requests);
      s.rps.push(res.rps);
      process.stdout.write(`  round ${r + 1} ${s.name}: ${fmtInt(res.rps)} req/s, ${fmtUs(s.cpu.at(-1)!)} all threads, ${fmtUs(s.main.at(-1)!)} JS thread\n`);
    }
  }
  process.stdout.write(`\n${path}${o.stream ? " stream" : ""} (${dialect}${o.teams ? ", teams on" : ""}), medians of ${o.rounds} rounds:\n`);
  for (const s of sides) process.stdout.write(`  ${s.name}: ${fmtInt(median(s.rps))} req/s, CPU per request ${fmtUs(median(s.cpu))} all threads, ${fmtUs(median(s.main))} JS thread\n`);
  const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
  process.stdout.write(`  B ÷ A: CPU ${(median(b.cpu) / median(a.cpu)).toFixed(3)}×, JS thread ${(median(b.main) / median(a.main)).toFixed(3)}×, req/s ${(median(b.rps) / median(a.rps)).toFixed(3)}×\n`);
} finally {
  for (const s of sides) await stop(s.gw.p);
  await stop(up.p);
  killAll();
}
