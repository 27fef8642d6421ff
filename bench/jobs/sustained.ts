/** Streams for a minute on a fresh gateway: throughput holds, and memory comes back when it stops. */
import type { Job } from "../lib/job";
import { cannon, checkCannon } from "../lib/load";
import { fmtInt, fmtMB, fmtMs, rssKB } from "../lib/measure";
import { O } from "../lib/options";
import { stop } from "../lib/proc";
import { BODIES, startGateway, warmUp } from "../lib/stand";

interface Sustained {
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  rssBeforeKB: number;
  rssPeakKB: number;
  rssAfterKB: number;
}

export const sustained: Job<Sustained> = {
  name: "sustained",
  quick: false,
  async run(ctx) {
    const gw = await startGateway(ctx.up);
    try {
      await warmUp(gw);
      await Bun.sleep(1000);
      const rssBeforeKB = rssKB(gw.pid);
      let rssPeakKB = rssBeforeKB;
      const sampler = setInterval(() => {
        try {
          rssPeakKB = Math.max(rssPeakKB, rssKB(gw.pid));
        } catch {
          // gone: the load run reports it
        }
      }, 1000);
      let r;
      try {
        r = await cannon(`${gw.base}/v1/messages`, BODIES.messages.stream, O.sustainedS, O.connections, gw.key);
      } finally {
        clearInterval(sampler);
      }
      checkCannon("sustained", r);
      await Bun.sleep(2000);
      const rssAfterKB = rssKB(gw.pid);
      return { seconds: r.seconds, rps: r.rps, p50: r.p50, p99: r.p99, requests: r.requests, rssBeforeKB, rssPeakKB: Math.max(rssPeakKB, rssAfterKB), rssAfterKB };
    } finally {
      await stop(gw.p);
    }
  },
  rows: (r) => [
    [`sustained, ${Math.round(r.seconds)} s of streams`, "/v1/messages: streams/s, p50 / p99", "", "", `${fmtInt(r.rps)}, ${fmtMs(r.p50)} / ${fmtMs(r.p99)}`, "", ""],
    ["", "RSS before / peak / after (2 s idle)", "", "", `${fmtMB(r.rssBeforeKB)} / ${fmtMB(r.rssPeakKB)} / ${fmtMB(r.rssAfterKB)}`, "", ""],
  ],
  method: () =>
    `**Sustained** (\`jobs/sustained.ts\`): a fresh gateway, warmed up, then /v1/messages streams for ${O.sustainedS} s at ${O.connections} connections; VmRSS sampled every second.`,
};
