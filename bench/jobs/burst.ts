/**
 * A burst of streams from the bare binary (default settings: Bun's fetch cap of 256 requests in
 * flight holds the rest back until one ends), then 30 s of quiet: does its memory come back to
 * within 10 MB of what it used idle before?
 */
import type { Job } from "../lib/job";
import { load } from "../lib/load";
import { fmtDeltaMB, fmtMB, median, rssKB } from "../lib/measure";
import { O } from "../lib/options";
import { stop } from "../lib/proc";
import { BODIES, startGateway, warmUp } from "../lib/stand";

interface Burst {
  ok: number;
  failed: number;
  seconds: number;
  idleKB: number;
  peakKB: number;
  /** VmRSS each second after the burst ended (index 0 = 1 s after). */
  afterKB: number[];
  /** Seconds after the burst until RSS was within 10 MB of idle (undefined: never in the window). */
  backAfterS: number | undefined;
}

const WITHIN_KB = 10 * 1024;

export const burst: Job<Burst> = {
  name: "burst",
  quick: false,
  async run(ctx) {
    const gw = await startGateway(ctx.up);
    try {
      await warmUp(gw);
      await Bun.sleep(2000);
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) {
        samples.push(rssKB(gw.pid));
        await Bun.sleep(500);
      }
      const idleKB = median(samples);
      let peakKB = idleKB;
      const sampler = setInterval(() => {
        try {
          peakKB = Math.max(peakKB, rssKB(gw.pid));
        } catch {
          // gone: the load run reports it
        }
      }, 100);
      let r: { ok: number; failed: number; seconds: number };
      try {
        r = await load({ mode: "burst", url: `${gw.base}/v1/messages`, body: BODIES.messages.stream, count: O.burstStreams, key: gw.key, timeoutS: 120 }, 180);
      } finally {
        clearInterval(sampler);
      }
      const afterKB: number[] = [];
      let backAfterS: number | undefined;
      for (let s = 1; s <= O.burstWatchS; s++) {
        await Bun.sleep(1000);
        const kb = rssKB(gw.pid);
        afterKB.push(kb);
        peakKB = Math.max(peakKB, kb);
        if (backAfterS === undefined && kb - idleKB <= WITHIN_KB) backAfterS = s;
      }
      return { ...r, idleKB, peakKB, afterKB, backAfterS };
    } finally {
      await stop(gw.p);
    }
  },
  rows: (r) => [
    [
      `burst of ${O.burstStreams} streams at once (bare binary)`,
      `answered / failed, in`,
      "",
      "",
      `${r.ok} / ${r.failed}, ${r.seconds.toFixed(1)} s`,
      "",
      "",
    ],
    [
      "",
      `RSS idle / peak / 1 s, 5 s, 10 s, ${O.burstWatchS} s after`,
      "",
      "",
      [r.idleKB, r.peakKB].map(fmtMB).join(" / ") + " / " + [0, 4, 9, O.burstWatchS - 1].map((i) => fmtMB(r.afterKB[i] ?? NaN)).join(", "),
      r.backAfterS === undefined ? "never within 10 MB" : `within 10 MB after ${r.backAfterS} s`,
      "",
    ],
  ],
  goals: (r) => {
    const end = r.afterKB.at(-1) ?? NaN;
    return [
      {
        name: `${O.burstStreams}-stream burst: RSS back within 10 MB of idle in ${O.burstWatchS} s`,
        goal: "≤ +10 MB",
        value: `${fmtDeltaMB(end - r.idleKB)} at ${O.burstWatchS} s${r.backAfterS !== undefined ? ` (within after ${r.backAfterS} s)` : ""}`,
        pass: r.failed === 0 && end - r.idleKB <= WITHIN_KB,
      },
    ];
  },
  method: () =>
    `**Burst** (\`jobs/burst.ts\`): a fresh binary with default settings, warmed up and idle for 2 s (idle = median of three VmRSS ` +
    `readings), then ${O.burstStreams} /v1/messages streams sent at once (one connection each) and read to their end; VmRSS every ` +
    `second for ${O.burstWatchS} s after the last one ended.`,
};
