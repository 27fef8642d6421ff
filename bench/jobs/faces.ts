/**
 * The same work on every face, side by side: straight to the fake upstream (direct), through
 * the bare Bun pipe (pipe), and through the gateway — its OpenAI face for the dialect
 * (/v1/chat/completions or /v1/responses, relayed frame by frame) and /v1/messages (translated),
 * each with teams off and on. Shared by the stream and non-stream jobs.
 */
import type { Ctx, Goal, Row } from "../lib/job";
import { compare, type Side, type Target } from "../lib/load";
import { fmtInt, fmtMs, fmtUs, fmtX } from "../lib/measure";
import { O } from "../lib/options";
import { BODIES, pathOf, type Dialect } from "../lib/stand";

export const DIALECTS: Dialect[] = ["chat", "responses"];
export const GATEWAY_TARGETS = ["face", "face+teams", "messages", "messages+teams"] as const;
export type FacesResult = Record<Dialect, Record<string, Side>>;

export const dialectLabel = (d: Dialect) => (d === "chat" ? "chat completions" : "Responses");
export function targetLabel(d: Dialect, t: string): string {
  const face = t.startsWith("face") ? pathOf(d) : "/v1/messages";
  return `${face}${t.endsWith("+teams") ? ", teams on" : ""}`;
}

export async function facesTargets(ctx: Ctx, d: Dialect, stream: boolean, teams = true): Promise<Target[]> {
  const path = pathOf(d);
  const direct = await ctx.upstreamBody(d, "openai", stream);
  const off = await ctx.gateway(d, false);
  const on = teams ? await ctx.gateway(d, true) : undefined;
  const face = stream ? BODIES[d].stream : BODIES[d].nonStream;
  const msg = stream ? BODIES.messages.stream : BODIES.messages.nonStream;
  return [
    { name: "direct", url: `${ctx.up.base}${path}`, body: direct },
    { name: "pipe", url: `${ctx.pipe.base}${path}`, body: direct, pid: ctx.pipe.p.pid },
    { name: "face", url: `${off.base}${path}`, body: face, key: off.key, pid: off.pid },
    ...(on ? [{ name: "face+teams", url: `${on.base}${path}`, body: face, key: on.key, pid: on.pid }] : []),
    { name: "messages", url: `${off.base}/v1/messages`, body: msg, key: off.key, pid: off.pid },
    ...(on ? [{ name: "messages+teams", url: `${on.base}/v1/messages`, body: msg, key: on.key, pid: on.pid }] : []),
  ];
}

export async function runFaces(ctx: Ctx, stream: boolean, teams = true): Promise<FacesResult> {
  const out = {} as FacesResult;
  for (const d of DIALECTS) {
    const targets = await facesTargets(ctx, d, stream, teams);
    out[d] = await compare(`${stream ? "stream" : "non-stream"} ${d}`, targets, ctx.up.p.pid);
  }
  return out;
}

export function facesRows(r: FacesResult, stream: boolean): Row[] {
  const rows: Row[] = [];
  for (const d of DIALECTS) {
    const s = r[d];
    if (!s) continue;
    const direct = s.direct!;
    const pipe = s.pipe!;
    const unit = stream ? "streams/s" : "req/s";
    const per = stream ? "stream" : "request";
    rows.push([
      `${dialectLabel(d)}, ${stream ? `stream of ${O.chunks} ${d === "chat" ? "chunks" : "deltas"}` : "non-stream"}`,
      `${unit} (${O.connections} connections); pipe CPU per ${per} (main thread)`,
      fmtInt(direct.rps),
      `${fmtInt(pipe.rps)}; ${fmtUs(pipe.cpuPerReq!)} (${fmtUs(pipe.mainCpuPerReq!)})`,
      "",
      "",
      fmtX(pipe.rps / direct.rps) + " (pipe ÷ direct)",
    ]);
    for (const t of GATEWAY_TARGETS) {
      const g = s[t];
      if (!g) continue;
      rows.push([
        "",
        `${targetLabel(d, t)}: ${unit}; gateway CPU per ${per} (main thread); p50 / p99`,
        `${fmtMs(direct.p50)} / ${fmtMs(direct.p99)}`,
        `${fmtMs(pipe.p50)} / ${fmtMs(pipe.p99)}`,
        `${fmtInt(g.rps)}; ${fmtUs(g.cpuPerReq!)} (${fmtUs(g.mainCpuPerReq!)}); ${fmtMs(g.p50)} / ${fmtMs(g.p99)}`,
        fmtX(g.rps / direct.rps),
        fmtX(g.rps / pipe.rps),
      ]);
    }
  }
  return rows;
}

export function facesRatios(r: FacesResult, stream: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of DIALECTS) {
    const s = r[d];
    if (!s) continue;
    for (const t of GATEWAY_TARGETS) {
      if (!s[t]) continue;
      const what = `${stream ? "stream" : "non-stream"} ${dialectLabel(d)} ${targetLabel(d, t)}`;
      out[`${what} ÷ direct`] = s[t]!.rps / s.direct!.rps;
      out[`${what} ÷ pipe`] = s[t]!.rps / s.pipe!.rps;
    }
  }
  return out;
}

/** The stream goals: ≥ 0.8× direct on chat completions, ≥ 0.7× on Responses, ≥ 0.85× of the pipe on both. */
export function streamGoals(r: FacesResult): Goal[] {
  const goals: Goal[] = [];
  for (const d of DIALECTS) {
    const s = r[d];
    if (!s) continue;
    const want = d === "chat" ? 0.8 : 0.7;
    for (const t of GATEWAY_TARGETS) {
      const g = s[t];
      if (!g) continue;
      const vsDirect = g.rps / s.direct!.rps;
      const vsPipe = g.rps / s.pipe!.rps;
      goals.push({ name: `${dialectLabel(d)} streams, ${targetLabel(d, t)}: gateway ÷ direct`, goal: `≥ ${want.toFixed(2)}×`, value: fmtX(vsDirect), pass: vsDirect >= want });
      goals.push({ name: `${dialectLabel(d)} streams, ${targetLabel(d, t)}: gateway ÷ pipe`, goal: "≥ 0.85×", value: fmtX(vsPipe), pass: vsPipe >= 0.85 });
    }
  }
  return goals;
}

/** The non-stream goal: gateway CPU per request ≤ 150 µs, all threads (schedstat, not under a profiler). */
export function nonStreamGoals(r: FacesResult): Goal[] {
  const goals: Goal[] = [];
  for (const d of DIALECTS) {
    const s = r[d];
    if (!s) continue;
    for (const t of GATEWAY_TARGETS) {
      const g = s[t];
      if (!g?.cpuPerReq) continue;
      goals.push({
        name: `non-stream gateway CPU per request, ${targetLabel(d, t)} (${dialectLabel(d)}; all threads, the JS thread in brackets)`,
        goal: "≤ 150 µs",
        value: `${fmtUs(g.cpuPerReq)} (${fmtUs(g.mainCpuPerReq!)})`,
        pass: g.cpuPerReq <= 0.15,
      });
    }
  }
  return goals;
}
