/** The resident memory of a fresh gateway, and after a warm-up once it has been idle a moment. */
import type { Goal, Job } from "../lib/job";
import { fmtMB, rssKB } from "../lib/measure";
import { stop } from "../lib/proc";
import { startGateway, warmUp } from "../lib/stand";

interface IdleRss {
  freshKB: number;
  warmKB: number;
  /** After 5 s more of idleness. */
  laterKB: number;
}

export const IDLE_RSS_GOAL_MB = 55;

export const idleRss: Job<IdleRss> = {
  name: "idle-rss",
  quick: false,
  async run(ctx) {
    const gw = await startGateway(ctx.up);
    try {
      await Bun.sleep(500);
      const freshKB = rssKB(gw.pid);
      await warmUp(gw);
      await Bun.sleep(2000); // the idle collector runs after 1 s without a request (src/http/idle-gc.ts)
      const warmKB = rssKB(gw.pid);
      await Bun.sleep(5000);
      return { freshKB, warmKB, laterKB: rssKB(gw.pid) };
    } finally {
      await stop(gw.p);
    }
  },
  rows: (r) => [["idle", "RSS fresh / after warm-up (2 s idle) / 5 s later", "", "", `${fmtMB(r.freshKB)} / ${fmtMB(r.warmKB)} / ${fmtMB(r.laterKB)}`, "", ""]],
  goals: (r): Goal[] => [
    { name: "idle RSS (after warm-up)", goal: `≤ ${IDLE_RSS_GOAL_MB} MB`, value: fmtMB(r.warmKB), pass: r.warmKB <= IDLE_RSS_GOAL_MB * 1024 },
  ],
  method: () =>
    "**Idle RSS** (`jobs/idle-rss.ts`): VmRSS of a fresh gateway (chat completions upstream, teams off) 0.5 s after it answers " +
    "/health, then after a warm-up (50 requests of each kind on /v1/messages and /v1/chat/completions, streamed and not) and 2 s idle " +
    "(the idle collector runs after 1 s without a request), and 5 s later.",
};
