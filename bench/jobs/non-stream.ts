/** Small non-streamed answers at 32 connections: direct, the bare pipe, and the gateway's faces, teams off and on. */
import type { Job } from "../lib/job";
import { O } from "../lib/options";
import { facesRatios, facesRows, nonStreamGoals, runFaces, type FacesResult } from "./faces";

export const nonStream: Job<FacesResult> = {
  name: "non-stream",
  quick: true,
  // The quick run leaves out teams on, to stay short.
  run: (ctx) => runFaces(ctx, false, !O.quick),
  rows: (r) => facesRows(r, false),
  goals: nonStreamGoals,
  ratios: (r) => facesRatios(r, false),
  method: () =>
    `**Non-stream** (\`jobs/non-stream.ts\`): the same targets and rounds as the streams (${O.rounds} × ${O.roundS} s${O.quick ? ", teams off only" : ""}), ` +
    "with a small completion (≈ 0.5 KB) for an answer. CPU per request from schedstat as for the streams.",
};
