/**
 * A request's cost grows linearly with its size, on all three faces: ten times the messages
 * cost at most twelve times the work (issue 21). Quadratic code on the request path fails it:
 * checked by making the prompt walker, the chat face's input count and the Responses face's
 * input walk copy what they had seen at every message — every face then measured 23–45×.
 *
 * The work is the gateway's own: it runs as a child process (src/main.ts) and the CPU time of
 * its main thread, where the request's JavaScript runs, is read from /proc/<pid>/task/<pid>/schedstat
 * around each request. CPU time, not wall time: a loaded machine (other test files on the same
 * two cores) slows the clock, not the count of instructions; and what else lands on the thread
 * (a collection, a compilation, the host taking the core from this VM) only ever adds, so each
 * size's cost is the lower quartile of its requests. What a request costs whatever its size (the
 * HTTP exchange, the access log, the upstream call) is measured with one message and taken off;
 * the three sizes are interleaved, in rotating order. The sizes stay small (100 and 1,000 short
 * turns, 9 and 90 KB): past a few hundred KB the runtime's own JSON work costs more per byte
 * (caches, collections) and linear code would measure 12–17×.
 *
 * LINEAR_COST_DEBUG=1 prints every measurement.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { completion } from "../helpers/fake-upstream";
import { useFakeUpstream } from "../helpers/setup";
import { ServerProcess } from "../helpers/process";
import { tempDir } from "../helpers/temp";

const N = Number(process.env.LINEAR_COST_N ?? 100); // messages of the small request; the large one has ten times as many
const REPS = Number(process.env.LINEAR_COST_REPS ?? 101); // requests of each size measured
const onLinux = existsSync("/proc/self/task");

/**
 * CPU time the process's main thread has used so far, ns: where the request's JavaScript runs
 * (the JIT's and the collector's helper threads come and go on their own schedule).
 */
const cpuNs = (pid: number): number => Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[0]);

/** A conversation of `n` turns, alternating user and assistant, ending with the user. */
function turns(n: number): Array<{ role: "user" | "assistant"; content: string }> {
  return Array.from({ length: n }, (_, i) => ({
    role: (n - 1 - i) % 2 === 0 ? ("user" as const) : ("assistant" as const),
    content: `Turn ${i}: the quick brown fox jumps over the lazy dog, and then it rests a while.`,
  }));
}

interface Face {
  name: string;
  server: () => ServerProcess;
  path: string;
  body: (n: number) => string;
}

const fake = useFakeUpstream().on((req) =>
  req.path.endsWith("/responses")
    ? Response.json({
        id: "resp_1",
        object: "response",
        created_at: 1786401135,
        model: "grok-4.3",
        status: "completed",
        output: [{ type: "message", id: "msg_1", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Fine.", annotations: [] }] }],
        usage: { input_tokens: 12, output_tokens: 2, total_tokens: 14 },
      })
    : Response.json(completion({ content: "Fine." })),
);
let chat: ServerProcess;
let responses: ServerProcess;
const dir = tempDir("grok2api-linear-");

beforeAll(async () => {
  if (!onLinux) return;
  const env = (api: string) => ({
    XAI_BASE_URL: fake.baseUrl,
    XAI_API_KEY: "xai-test-upstream-key",
    GROK2API_UPSTREAM_API: api,
    GROK2API_LOG_FILE: join(dir, `${api}.log`),
  });
  [chat, responses] = await Promise.all([ServerProcess.start(["--port", "0"], env("chat")), ServerProcess.start(["--port", "0"], env("responses"))]);
});

afterAll(async () => {
  await Promise.all([chat?.kill(), responses?.kill()]);
});

const FACES: Face[] = [
  {
    name: "/v1/messages (chat completions upstream)",
    server: () => chat,
    path: "/v1/messages",
    body: (n) => JSON.stringify({ model: "grok-3-mini", max_tokens: 64, messages: turns(n) }),
  },
  {
    name: "/v1/messages (Responses upstream)",
    server: () => responses,
    path: "/v1/messages",
    body: (n) => JSON.stringify({ model: "grok-3-mini", max_tokens: 64, messages: turns(n) }),
  },
  {
    name: "/v1/chat/completions",
    server: () => chat,
    path: "/v1/chat/completions",
    body: (n) => JSON.stringify({ model: "grok-3-mini", max_tokens: 64, messages: turns(n) }),
  },
  {
    name: "/v1/responses",
    server: () => responses,
    path: "/v1/responses",
    body: (n) => JSON.stringify({ model: "grok-3-mini", max_output_tokens: 64, input: turns(n) }),
  },
];

async function send(url: string, body: string): Promise<void> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" }, body });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}: ${text.slice(0, 300)}`);
}

/** The gateway's CPU time for one request, ns. */
async function cost(server: ServerProcess, url: string, body: string): Promise<number> {
  const before = cpuNs(server.pid);
  await send(url, body);
  return cpuNs(server.pid) - before;
}

/** The lower quartile: what else lands on the thread now and then (a collection, a compilation, the host taking the core) only ever adds. */
const lowerQuartile = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 4)]!;

/** One measurement: each size's cost (lower quartile of REPS requests), and the ratio of the large's part beyond the fixed one to the small's. */
async function measure(server: ServerProcess, url: string, bodies: string[]): Promise<{ ratio: number; figures: string }> {
  const costs: number[][] = bodies.map(() => []);
  for (let rep = 0; rep < REPS; rep++) {
    for (let j = 0; j < bodies.length; j++) {
      const s = (j + rep) % bodies.length; // rotate the order: none always follows another
      costs[s]!.push(await cost(server, url, bodies[s]!));
    }
  }
  const [fixed, small, large] = costs.map(lowerQuartile) as [number, number, number];
  const ratio = small > fixed ? (large - fixed) / (small - fixed) : Infinity;
  const us = (ns: number) => `${Math.round(ns / 1000)} µs`;
  return { ratio, figures: `fixed ${us(fixed)}, ${N} messages +${us(small - fixed)}, ${10 * N} messages +${us(large - fixed)}: ${ratio.toFixed(1)}×` };
}

/** Measurements made at most: the first within the bound settles it (noise can only make one look worse, a quadratic cost makes every one). */
const ATTEMPTS = 3;

describe.skipIf(!onLinux)("the cost of a request is linear in its size", () => {
  for (const face of FACES) {
    test(`${face.name}: ${10 * N} messages cost at most 12× what ${N} do (CPU time, the fixed part taken off)`, async () => {
      const server = face.server();
      const url = `${server.url}${face.path}`;
      const bodies = [1, N, 10 * N].map((n) => face.body(n));
      // Warm-up: every path compiled by the JIT at every size before anything is measured.
      for (let i = 0; i < 10; i++) for (const b of bodies) await send(url, b);
      const seen: string[] = [];
      let best = Infinity;
      for (let attempt = 0; attempt < ATTEMPTS && best > 12; attempt++) {
        const m = await measure(server, url, bodies);
        seen.push(m.figures);
        best = Math.min(best, m.ratio);
      }
      if (process.env.LINEAR_COST_DEBUG) console.log(face.name, seen.join("; "));
      // Not a speed check: the figures are in the failure message, the assertion is on their ratio.
      expect(best, seen.join("; ")).toBeLessThanOrEqual(12);
    }, 120_000);
  }
});
