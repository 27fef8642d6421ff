/** Many streams held open and idle at once: how many open with default settings, and what each costs in memory. */
import type { Job } from "../lib/job";
import { fmtKB, fmtMB, rssKB } from "../lib/measure";
import { LOAD, O } from "../lib/options";
import { firstLine, spawn, stop } from "../lib/proc";
import { BODIES, startGateway, warmUp, type Gateway, type Upstream } from "../lib/stand";

const LIFT_CAP = "BUN_CONFIG_MAX_HTTP_REQUESTS=65535"; // the largest value Bun accepts

interface IdleStreams {
  /** Set when the gateway ran with this extra environment. */
  env?: string;
  opened: number;
  failed: number;
  gwBeforeKB: number;
  gwAfterKB: number;
  gwClosedKB: number;
  perStreamKB: number;
  upPerStreamKB: number;
}
interface IdleStreamsResult {
  idle: IdleStreams;
  /** On a gateway started as a user would (differs from `idle` when a cap stopped it). */
  idleDefault: IdleStreams;
}

async function measure(up: Upstream, gw: Gateway): Promise<IdleStreams> {
  const gwBeforeKB = rssKB(gw.pid);
  const upBeforeKB = rssKB(up.p.pid);
  const p = spawn([O.loadgen, LOAD, JSON.stringify({ mode: "idle", url: `${gw.base}/v1/messages`, body: BODIES.messages.idle, count: O.idleStreams, holdSeconds: 60 })], {
    stdin: "pipe",
    stdout: "pipe",
  });
  try {
    const first = JSON.parse(await firstLine(p, "idle streams", 60_000)) as { open: number; failed: number };
    await Bun.sleep(1000); // let allocations settle
    const gwAfterKB = rssKB(gw.pid);
    const upAfterKB = rssKB(up.p.pid);
    const stdin = p.stdin as import("bun").FileSink;
    stdin.write("close\n");
    await stdin.end();
    await p.exited;
    await Bun.sleep(1000);
    const gwClosedKB = rssKB(gw.pid);
    if (first.open === 0) throw new Error("idle streams: none could be opened");
    return {
      opened: first.open,
      failed: first.failed,
      gwBeforeKB,
      gwAfterKB,
      gwClosedKB,
      perStreamKB: (gwAfterKB - gwBeforeKB) / first.open,
      upPerStreamKB: (upAfterKB - upBeforeKB) / first.open,
    };
  } finally {
    await stop(p, 5000);
  }
}

export const idleStreams: Job<IdleStreamsResult> = {
  name: "idle-streams",
  quick: false,
  async run(ctx) {
    const gw = await startGateway(ctx.up);
    let idleDefault: IdleStreams;
    try {
      await warmUp(gw);
      await Bun.sleep(1000);
      idleDefault = await measure(ctx.up, gw);
    } finally {
      await stop(gw.p);
    }
    if (idleDefault.opened >= O.idleStreams) return { idle: idleDefault, idleDefault };
    // Bun's fetch holds at most 256 requests in flight unless told otherwise at start-up:
    // measure the memory per stream with that cap lifted, on a fresh gateway.
    process.stdout.write(`  only ${idleDefault.opened} opened; again with ${LIFT_CAP} …\n`);
    const lifted = await startGateway(ctx.up, { env: { BUN_CONFIG_MAX_HTTP_REQUESTS: LIFT_CAP.split("=")[1]! } });
    try {
      await warmUp(lifted);
      await Bun.sleep(1000);
      return { idle: { ...(await measure(ctx.up, lifted)), env: LIFT_CAP }, idleDefault };
    } finally {
      await stop(lifted.p);
    }
  },
  rows: (r) => [
    ...(r.idle.env ? [[`${O.idleStreams} idle streams`, "opened with default settings", "", "", `${r.idleDefault.opened} (the rest wait: Bun's fetch cap)`, "", ""] as [string, string, string, string, string, string, string]] : []),
    [
      `${r.idle.opened} of ${O.idleStreams} idle streams open${r.idle.env ? ` (${r.idle.env})` : ""}`,
      "RSS before / open / after closing",
      "",
      "",
      `${fmtMB(r.idle.gwBeforeKB)} / ${fmtMB(r.idle.gwAfterKB)} / ${fmtMB(r.idle.gwClosedKB)}`,
      "",
      "",
    ],
    ["", "memory per open stream", `${fmtKB(r.idle.upPerStreamKB)} (fake upstream, plain Bun.serve)`, "", fmtKB(r.idle.perStreamKB), "", ""],
  ],
  goals: (r) => [
    { name: `${O.idleStreams} idle streams open at once (default settings)`, goal: `${O.idleStreams} open`, value: `${r.idleDefault.opened} open`, pass: r.idleDefault.opened === O.idleStreams },
    {
      name: `memory per open idle stream (${r.idle.opened} open${r.idle.env ? `, with ${r.idle.env}` : ""})`,
      goal: "< 50 KB",
      value: fmtKB(r.idle.perStreamKB),
      pass: r.idle.perStreamKB < 50 && r.idle.opened === O.idleStreams,
    },
  ],
  method: () =>
    `**Idle streams** (\`jobs/idle-streams.ts\`): ${O.idleStreams} streams opened at once through a fresh gateway's /v1/messages against an ` +
    "upstream that sends one chunk and then nothing; VmRSS of the gateway before, 1 s after all got their first byte, and 1 s after closing them.",
};
