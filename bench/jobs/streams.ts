/** Streams at 32 connections: direct, the bare pipe, and the gateway's faces, teams off and on (faces.ts). */
import type { Job } from "../lib/job";
import { O } from "../lib/options";
import { facesRatios, facesRows, runFaces, streamGoals, type FacesResult } from "./faces";

export const streams: Job<FacesResult> = {
  name: "streams",
  quick: true,
  // The quick run leaves out teams on, to stay short.
  run: (ctx) => runFaces(ctx, true, !O.quick),
  rows: (r) => facesRows(r, true),
  goals: streamGoals,
  ratios: (r) => facesRatios(r, true),
  method: () =>
    `**Streams** (\`jobs/streams.ts\`): autocannon, ${O.connections} connections, ${O.rounds} round(s) of ${O.roundS} s per target${O.quick ? " (teams off only)" : ""} ` +
    `after ${O.warmupS} s of warm-up, the targets in an order rotated each round; medians of the rounds. The stream is the ` +
    `fake's ${O.chunks}-chunk one (${O.chunks} text deltas of one word, then the finish, usage and end events), not a 100-word one. ` +
    "Targets: **direct** (the fake upstream, with the body the gateway's OpenAI face sends it, read back from the fake), **pipe** " +
    "(`bench/pipe-proxy.ts`: Bun.serve → fetch → the upstream's body handed back as it is), and the gateway binary: its OpenAI " +
    "face for the dialect (`/v1/chat/completions` against a chat-completions upstream, `/v1/responses` against a Responses one, " +
    "the stream relayed frame by frame) and `/v1/messages` (translated to Anthropic events), each with teams off (no store) and on " +
    "(admin token, SQLite ledger in bench/.work, a virtual key with every limit set, created through the admin API, on every request). " +
    "CPU per stream: the serving process's CPU time from /proc/<pid>/task/*/schedstat (ns; all threads, and its main " +
    "JavaScript thread alone in brackets) ÷ streams.",
};
