#!/usr/bin/env bun
/**
 * What a CPU profile (`bun --cpu-prof`, .cpuprofile) says, as text: the functions with the most
 * self time, or the callers of one function (which path its time comes from).
 *
 *   bun bench/profile-top.ts FILE [--top 30] [--callers NAME] [--depth 4] [--from µs --to µs]
 *
 * --from/--to keep the samples between two instants (µs since the epoch, the profile's clock).
 */
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    top: { type: "string", default: "30" },
    callers: { type: "string" },
    depth: { type: "string", default: "4" },
    from: { type: "string" },
    to: { type: "string" },
  },
});
if (!positionals[0]) throw new Error("usage: bun bench/profile-top.ts FILE [--top N] [--callers NAME]");
const ROOT = resolve(import.meta.dir, "..");

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const p = JSON.parse(readFileSync(positionals[0], "utf8")) as { nodes: Node[]; startTime: number; samples: number[]; timeDeltas: number[] };
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n: Node) => {
  const url = n.callFrame.url.startsWith("file://") ? relative(ROOT, n.callFrame.url.slice(7)) : n.callFrame.url;
  return `${n.callFrame.functionName || "(anonymous)"}${url ? ` ${url.replace(/^node_modules\//, "")}:${n.callFrame.lineNumber + 1}` : ""}`;
};

const from = values.from ? Number(values.from) : -Infinity;
const to = values.to ? Number(values.to) : Infinity;
const kept: number[] = [];
let t = p.startTime;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i]!;
  if (t >= from && t <= to) kept.push(p.samples[i]!);
}
const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
const show = (m: Map<string, number>, total: number, n: number) => {
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}\n`);
};

if (values.callers) {
  const stacks = new Map<string, number>();
  let total = 0;
  for (const id of kept) {
    const n = byId.get(id)!;
    if (!name(n).startsWith(values.callers)) continue;
    total++;
    const chain: string[] = [];
    let at = parent.get(id);
    for (let d = 0; d < Number(values.depth) && at !== undefined; d++, at = parent.get(at)) chain.push(name(byId.get(at)!));
    count(stacks, chain.join("  <  "));
  }
  process.stdout.write(`${total} samples of ${values.callers} (${((total / kept.length) * 100).toFixed(1)} % of ${kept.length}), by caller:\n`);
  show(stacks, total, Number(values.top));
} else {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const id of kept) {
    count(self, name(byId.get(id)!));
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = name(byId.get(at)!);
      if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + 1), seen.add(k);
    }
  }
  process.stdout.write(`${kept.length} samples; self time:\n`);
  show(self, kept.length, Number(values.top));
  process.stdout.write(`\ninclusive time (src/ only):\n`);
  show(new Map([...inclusive].filter(([k]) => k.includes(" src/"))), kept.length, Number(values.top));
}
