/**
 * The report: bench/RESULTS.md (the tables above the notes marker are rewritten, the notes
 * below it kept), the summary on stdout, and the ratios a later `bench --quick` compares with
 * (bench/baseline.json).
 */
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import type { Goal, Job, Row } from "./job";
import type { Machine } from "./machine";
import { fmtX } from "./measure";
import { BIN, flags, O, ROOT } from "./options";

export const NOTES_MARKER = "<!-- Everything below this line is written by hand and kept by bench/run.ts across runs. -->";

export interface Ran {
  job: Job<unknown>;
  result: unknown;
}

export interface Baseline {
  date: string;
  commit: string;
  load: number[];
  ratios: Record<string, number>;
}

export function table(rows: string[][]): string {
  const [head, ...body] = rows;
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(head!), line(head!.map(() => "---")), ...body.map(line)].join("\n");
}

const HEAD: Row = ["scenario", "figure", "direct", "pipe", "gateway", "gateway ÷ direct", "gateway ÷ pipe"];

export const goalsOf = (ran: Ran[]): Goal[] => ran.flatMap((r) => r.job.goals?.(r.result) ?? []);
export const rowsOf = (ran: Ran[]): Row[] => ran.flatMap((r) => r.job.rows(r.result));
export const ratiosOf = (ran: Ran[]): Record<string, number> => Object.assign({}, ...ran.map((r) => r.job.ratios?.(r.result) ?? {}));

export function readBaseline(file: string): Baseline | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Baseline;
  } catch {
    return undefined;
  }
}

/**
 * Today's ratios beside the recorded ones. A collapse is a scenario whose every ratio (÷ direct and
 * ÷ pipe) is below half of its recorded value: the gateway slower against both references. One
 * reference alone measured fast (the pipe or the fake upstream having a good round on a shared
 * machine) halves one ratio and is noise.
 */
export function againstBaseline(today: Record<string, number>, base: Baseline | undefined): { rows: string[][]; collapsed: string[] } {
  const rows: string[][] = [["ratio", "recorded", "today", ""]];
  const scenario = (k: string) => k.replace(/ ÷ [^÷]+$/, "");
  const below = new Set<string>();
  const all = new Map<string, string[]>();
  for (const [k, v] of Object.entries(today)) {
    const was = base?.ratios[k];
    all.set(scenario(k), [...(all.get(scenario(k)) ?? []), k]);
    if (was !== undefined && v < was / 2) below.add(k);
  }
  const collapsed = [...all.values()].filter((ks) => ks.every((k) => below.has(k))).flat();
  for (const [k, v] of Object.entries(today)) {
    const was = base?.ratios[k];
    const note = collapsed.includes(k)
      ? "COLLAPSE (below half, against every reference)"
      : below.has(k)
        ? "below half against this reference only (noise)"
        : was === undefined
          ? ""
          : v >= was
            ? "ok"
            : `ok (${((1 - v / was) * 100).toFixed(0)} % lower)`;
    rows.push([k, was === undefined ? "–" : fmtX(was), fmtX(v), note]);
  }
  return { rows, collapsed };
}

export function markdown(o: { machine: Machine; loadAfter: number[]; date: string; durationS: number; ran: Ran[]; keptNotes: string; detail: string }): string {
  const m = o.machine;
  const goals = goalsOf(o.ran);
  return `# Benchmark: grok2api against the upstream directly, and against a bare Bun pipe

Written by \`bun run bench${O.quick ? " --quick" : ""}\` (bench/run.ts) on ${o.date}, in ${Math.round(o.durationS)} s.
${O.quick ? "\n**Quick run**: short rounds, not the real report.\n" : ""}
## Machine

| | |
| --- | --- |
| CPU | ${m.cpu}, ${m.cores} cores |
| memory | ${m.memGiB.toFixed(1)} GiB |
| OS | ${m.os} |
| Bun (runtime of the binary, the fake upstream and the pipe) | ${m.bun} |
| load generator | ${m.loadgen}${m.node !== "(not used)" ? ` ${m.node}` : ""} |
| binary | ${relative(ROOT, BIN)}${flags.bin ? "" : `, built from commit ${m.commit}${m.dirty ? " with uncommitted changes in src/" : ""}`} |
| load average before / after | ${m.load.map((x) => x.toFixed(2)).join(" ")} / ${o.loadAfter.map((x) => x.toFixed(2)).join(" ")} |

All processes (load generator, gateway, pipe, fake upstream) share these cores, so absolute figures
move with whatever else the machine does; the ratios are measured in the same run, in rotating rounds.

## Goals

${table([["goal", "wanted", "measured", ""], ...goals.map((g) => [g.name, g.goal, g.value, g.pass ? "PASS" : "**MISS**"])])}

## Figures

${table([HEAD, ...rowsOf(o.ran)])}
${o.detail ? `\n## Where the CPU went (CPU profile, self time)\n\n${o.detail}\n` : ""}
## How it was measured

- **Fake upstream** (\`bench/fake-upstream.ts\`): Bun.serve on 127.0.0.1 answering from bytes prepared at start-up in xAI's
  format: a small completion, or ${O.chunks} text chunks + finish chunk + usage chunk + \`[DONE]\`, written and flushed one
  chunk at a time; on \`/v1/responses\` the same in the Responses format (created / in_progress / item and part events around
  ${O.chunks} \`response.output_text.delta\` events / completed). A gateway started with \`GROK2API_UPSTREAM_API=responses\` serves
  the Responses rows.
- **Pipe** (\`bench/pipe-proxy.ts\`): the floor of any Bun gateway — Bun.serve reads the request, \`fetch\`es the same path on the
  fake upstream with the same body, and answers with the upstream's body stream untouched. gateway ÷ pipe is what is ours;
  pipe ÷ direct is what the extra hop costs in Bun itself.
${o.ran.map((r) => `- ${r.job.method(r.result)}`).join("\n")}
- The gateway's access log is on (as by default), to bench/.work.

${NOTES_MARKER}
${o.keptNotes}`;
}

export function printSummary(ran: Ran[]): void {
  const rows = [HEAD, ...rowsOf(ran)];
  const widths = rows[0]!.map((_, i) => Math.min(60, Math.max(...rows.map((row) => row[i]!.length))));
  const fmt = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  process.stdout.write("\n" + fmt(rows[0]!) + "\n" + widths.map((w) => "-".repeat(w)).join("  ") + "\n");
  for (const row of rows.slice(1)) process.stdout.write(fmt(row) + "\n");
  process.stdout.write("\n");
  for (const g of goalsOf(ran)) process.stdout.write(`${g.pass ? "PASS" : "MISS"}  ${g.name}: ${g.value} (goal ${g.goal})\n`);
}

export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) process.stdout.write(row.map((c, i) => c.padEnd(widths[i]!)).join("  ") + "\n");
}
