/** A stream paced by the upstream (a chunk every 2 ms, as a model produces tokens): what a client sees then. */
import type { Job } from "../lib/job";
import { compare, type Side } from "../lib/load";
import { fmtDeltaMs, fmtInt, fmtMs, fmtX } from "../lib/measure";
import { O } from "../lib/options";
import { BODIES, PACED_GAP_MS, upstreamBodyFor } from "../lib/stand";

type PacedResult = Record<"direct" | "messages", Side>;

export const paced: Job<PacedResult> = {
  name: "paced",
  quick: false,
  async run(ctx) {
    const gw = await ctx.gateway("chat");
    const direct = await upstreamBodyFor(ctx.up, gw, "/v1/messages", BODIES.messages.paced);
    return (await compare(
      "paced",
      [
        { name: "direct", url: `${ctx.up.base}/v1/chat/completions`, body: direct },
        { name: "messages", url: `${gw.base}/v1/messages`, body: BODIES.messages.paced, key: gw.key, pid: gw.pid },
      ],
      ctx.up.p.pid,
      O.pacedConnections,
    )) as PacedResult;
  },
  rows: (r) => [
    [`paced stream, a chunk every ${PACED_GAP_MS} ms (chat completions)`, `/v1/messages: streams/s (${O.pacedConnections} connections)`, fmtInt(r.direct.rps), "", fmtInt(r.messages.rps), fmtX(r.messages.rps / r.direct.rps), ""],
    ["", "p50 / p99 whole stream", `${fmtMs(r.direct.p50)} / ${fmtMs(r.direct.p99)}`, "", `${fmtMs(r.messages.p50)} / ${fmtMs(r.messages.p99)}`, `${fmtDeltaMs(r.messages.p50 - r.direct.p50)} at p50`, ""],
  ],
  method: () =>
    `**Paced stream** (\`jobs/paced.ts\`): the same ${O.chunks}-chunk stream with the fake upstream waiting ${PACED_GAP_MS} ms between ` +
    `chunks, at ${O.pacedConnections} connections, through /v1/messages: what a client sees when the upstream, not the CPU, sets the pace.`,
};
