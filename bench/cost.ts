#!/usr/bin/env bun
/**
 * What pricing a request costs the gateway: the work RequestContext.finish() and the non-stream
 * header add per request (catalog lookup of the model, an alias included, usage × prices or the
 * upstream's ticks, the exact decimal string). Prints ns per request, best of several runs, next to
 * what one request already costs end to end (bench/RESULTS.md: tens of microseconds at least).
 *
 *   bun bench/cost.ts [--requests 200000] [--runs 7]
 */
import { parseArgs } from "node:util";
import { Lineup } from "../src/models/lineup";
import { createPricer, formatUsd } from "../src/models/pricing";
import { parseLanguageModels } from "../src/upstream/models";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { requests: { type: "string", default: "200000" }, runs: { type: "string", default: "7" } },
});
const REQUESTS = Number(values.requests);
const RUNS = Number(values.runs);

const catalog = await Bun.file(new URL("../tests/fixtures/xai-language-models.json", import.meta.url)).json();
const lineup = new Lineup(parseLanguageModels(catalog), "language-models");
const price = createPricer(() => lineup);
const models = ["grok-4.3", "grok-4", "grok-4.20-0309-reasoning", "unknown-model"];

let sink = 0;
function run(withTicks: boolean): number {
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < REQUESTS; i++) {
    const entry = { input_tokens: 800 + (i & 63), cached_tokens: 200, output_tokens: 50, cost_ticks: withTicks ? 4121500 + i : undefined };
    const ticks = price(models[i & 3], entry);
    if (ticks !== undefined) sink += formatUsd(ticks).length + Number(formatUsd(ticks));
  }
  return (Bun.nanoseconds() - t0) / REQUESTS;
}

for (const [label, withTicks] of [["usage × prices", false], ["upstream ticks", true]] as const) {
  run(withTicks); // warm-up
  const best = Math.min(...Array.from({ length: RUNS }, () => run(withTicks)));
  console.log(`${label.padEnd(15)} ${best.toFixed(0)} ns per request (best of ${RUNS} × ${REQUESTS})`);
}
if (sink === 0) console.log("(nothing priced)");
