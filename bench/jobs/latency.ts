/** One request at a time: what the gateway adds to a request's latency (direct, pipe, each face; teams off). */
import type { Goal, Job, Row } from "../lib/job";
import { probe, type ProbeResult, type Target } from "../lib/load";
import { fmtDeltaMs, fmtMs } from "../lib/measure";
import { O } from "../lib/options";
import { BODIES, pathOf, type Dialect } from "../lib/stand";
import { DIALECTS, dialectLabel } from "./faces";

type LatencyResult = Record<Dialect, { nonStream: ProbeResult; stream: ProbeResult }>;

const added = (p: ProbeResult, t: string, what: "ttfb" | "total") => p[t]![what].p50 - p.direct![what].p50;

export const latency: Job<LatencyResult> = {
  name: "latency",
  quick: false,
  async run(ctx) {
    const out = {} as LatencyResult;
    for (const d of DIALECTS) {
      const gw = await ctx.gateway(d);
      const targets = async (stream: boolean): Promise<Target[]> => {
        const direct = await ctx.upstreamBody(d, "openai", stream);
        return [
          { name: "direct", url: `${ctx.up.base}${pathOf(d)}`, body: direct },
          { name: "pipe", url: `${ctx.pipe.base}${pathOf(d)}`, body: direct },
          { name: "face", url: `${gw.base}${pathOf(d)}`, body: stream ? BODIES[d].stream : BODIES[d].nonStream },
          { name: "messages", url: `${gw.base}/v1/messages`, body: stream ? BODIES.messages.stream : BODIES.messages.nonStream },
        ];
      };
      process.stdout.write(`  latency ${d}: one at a time …\n`);
      out[d] = {
        nonStream: await probe(await targets(false), O.probeN, 100),
        stream: await probe(await targets(true), O.streamProbeN, 20),
      };
    }
    return out;
  },
  rows(r) {
    const rows: Row[] = [];
    for (const d of DIALECTS) {
      const x = r[d];
      if (!x) continue;
      for (const [kind, p, what] of [["non-stream", x.nonStream, "total"], ["stream, first byte", x.stream, "ttfb"], ["stream, whole", x.stream, "total"]] as const) {
        for (const t of ["face", "messages"]) {
          rows.push([
            rows.length % 6 === 0 ? `${dialectLabel(d)}, one request at a time` : "",
            `${kind}, ${t === "face" ? pathOf(d) : "/v1/messages"}: p50 / p99`,
            `${fmtMs(p.direct![what].p50)} / ${fmtMs(p.direct![what].p99)}`,
            `${fmtMs(p.pipe![what].p50)} / ${fmtMs(p.pipe![what].p99)}`,
            `${fmtMs(p[t]![what].p50)} / ${fmtMs(p[t]![what].p99)}`,
            `${fmtDeltaMs(added(p, t, what))} at p50`,
            `${fmtDeltaMs(p[t]![what].p50 - p.pipe![what].p50)} at p50`,
          ]);
        }
      }
    }
    return rows;
  },
  goals(r) {
    const goals: Goal[] = [];
    for (const d of DIALECTS) {
      if (!r[d]) continue;
      const a = added(r[d].nonStream, "messages", "total");
      goals.push({ name: `added p50 latency, non-stream, /v1/messages (${dialectLabel(d)}, one at a time)`, goal: "< 1 ms", value: fmtMs(a), pass: a < 1 });
    }
    return goals;
  },
  method: () =>
    `**One at a time** (\`jobs/latency.ts\`): ${O.probeN} non-stream and ${O.streamProbeN} stream requests per target, one after ` +
    "another on a kept-alive connection, the targets interleaved; time to the first body byte and to the end.",
};
