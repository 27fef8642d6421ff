#!/usr/bin/env bun
/**
 * No request can stall the others (issue 20 §5; goal: no request within the body limit delays
 * another's /health by more than 50 ms). The gateway (src/main.ts) and bench/fake-upstream.ts
 * each run as a process of their own; from here, /health is asked again and again while one
 * large request is served (sent by a third process), and the longest wait between two answers
 * is reported, with the large request's own time. Conversations of N tool calls, in one turn (the shape that was
 * quadratic) and in N turns, up to the 32 MB body limit (30 MB here), on every face; and, with their own
 * limits, a Message Batch of 4× the size (256 MB limit; cancelled at once, within the measure, so that
 * its requests do not run on behind the next cases) and a file upload of 10× (500 MB limit).
 *
 *   bun bench/large-requests.ts [--sizes 1,5,16,30] [--rounds 3]
 *
 * Sizes are in MB of request body. Before this work (commit fb0e1f0), 40,000 calls in one
 * turn (5.7 MB) held /health for 2–4 s; 20,000 for ~1 s.
 */
import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dir, "..");
const { values: O } = parseArgs({
  args: Bun.argv.slice(2),
  options: { sizes: { type: "string", default: "1,5,16,30" }, rounds: { type: "string", default: "3" } },
});
const SIZES = O.sizes!.split(",").map(Number);
const ROUNDS = Number(O.rounds);

const procs: Subprocess[] = [];
const dir = mkdtempSync(join(tmpdir(), "grok2api-bench-large-"));
const cleanup = () => {
  for (const p of procs) p.kill();
  rmSync(dir, { recursive: true, force: true });
};
process.on("exit", cleanup);

const freePort = () => {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
};

async function firstLine(p: Subprocess<"ignore", "pipe", "inherit">): Promise<string> {
  const reader = p.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.split("\n")[0]!;
}

async function gateway(upPort: string, api: "chat" | "responses"): Promise<string> {
  const port = freePort();
  const gw = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "--port", String(port)], {
    stdout: "ignore",
    stderr: "inherit",
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      XAI_BASE_URL: `http://127.0.0.1:${upPort}/v1`,
      XAI_API_KEY: "bench-upstream-key",
      GROK2API_UPSTREAM_API: api,
      GROK2API_LOG_FILE: join(dir, `gateway-${api}.log`),
      GROK2API_LOG_LEVEL: "warn",
      // Batches and files kept here (a batch runs on the fake upstream after it is created).
      GROK2API_STORE_URL: `sqlite://${join(dir, `store-${api}.db`)}`,
      GROK2API_FILES_DIR: join(dir, `files-${api}`),
    },
  });
  procs.push(gw);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    await Bun.sleep(50);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return url;
  }
  throw new Error("the gateway did not start");
}

/** A Messages request of `calls` tool calls: in one turn, or one per turn. */
function messagesOf(calls: number, shape: "one turn" | "turns"): Uint8Array {
  const use = (i: number) => ({ type: "tool_use", id: `toolu_${i}`, name: "bash", input: { command: `ls -la /tmp/${i}` } });
  const result = (i: number) => ({ type: "tool_result", tool_use_id: `toolu_${i}`, content: `file-${i}.txt` });
  const messages: unknown[] = [{ role: "user", content: "go" }];
  if (shape === "one turn") {
    messages.push({ role: "assistant", content: Array.from({ length: calls }, (_, i) => use(i)) });
    messages.push({ role: "user", content: Array.from({ length: calls }, (_, i) => result(i)) });
  } else for (let i = 0; i < calls; i++) messages.push({ role: "assistant", content: [use(i)] }, { role: "user", content: [result(i)] });
  return new TextEncoder().encode(JSON.stringify({ model: "grok-4", max_tokens: 100, messages }));
}

/** About `mb` MB of it (never past the 32 MB limit). */
function messagesBody(mb: number, shape: "one turn" | "turns"): Uint8Array {
  const perCall = messagesOf(10_000, shape).byteLength / 10_000;
  return messagesOf(Math.floor((Math.min(mb, 30) * 1048576) / perCall), shape);
}

/** A chat completions request of about `mb` MB. */
function chatBody(mb: number): Uint8Array {
  const n = Math.floor((Math.min(mb, 30) * 1048576) / 62);
  const messages = Array.from({ length: n }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `message number ${i}` }));
  return new TextEncoder().encode(JSON.stringify({ model: "grok-4", messages }));
}

/** A Responses request of about `mb` MB (`POST /v1/responses`). */
function responsesBody(mb: number): Uint8Array {
  const n = Math.floor((Math.min(mb, 30) * 1048576) / 64);
  const input = Array.from({ length: n }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `message number ${i}` }));
  return new TextEncoder().encode(JSON.stringify({ model: "grok-4", input }));
}

/** A Message Batch of about `mb` MB: requests of about 1.4 kB each (`POST /v1/messages/batches`). */
function batchBody(mb: number): Uint8Array {
  const n = Math.max(1, Math.floor((mb * 1048576) / 1500));
  const requests = Array.from({ length: n }, (_, i) => ({
    custom_id: `r${i}`,
    params: { model: "grok-4", max_tokens: 50, messages: [{ role: "user", content: `${"x".repeat(1400)} ${i}` }] },
  }));
  return new TextEncoder().encode(JSON.stringify({ requests }));
}

/** An upload of a text file of `mb` MB (`POST /v1/files`), as multipart bytes with their content type. */
function uploadBody(mb: number): { body: Uint8Array; type: string } {
  const boundary = "bench-boundary-7c4a1e";
  const head = new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="large.txt"\r\nContent-Type: text/plain\r\n\r\n`);
  const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
  const size = Math.round(mb * 1048576);
  const body = new Uint8Array(head.byteLength + size + tail.byteLength).fill(97);
  body.set(head, 0);
  body.set(tail, head.byteLength + size);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

/**
 * The longest wait between /health answers while `path` serves `body`; and how long that took.
 * The large request is sent by a process of its own: sending megabytes would hold this one,
 * which asks /health, and count against the gateway.
 */
async function measure(url: string, path: string, body: Uint8Array, type = "application/json"): Promise<{ gap: number; ms: number; status: number }> {
  const file = join(dir, "body.json");
  await Bun.write(file, body);
  // The sender starts, says "ready", waits for a line on stdin, then sends: its start-up is not measured.
  const send = `const body = new Uint8Array(await Bun.file(${JSON.stringify(file)}).arrayBuffer()); console.log("ready");
for await (const _ of console) break;
const t0 = performance.now(); const r = await fetch(${JSON.stringify(url + path)}, { method: "POST", headers: { "content-type": ${JSON.stringify(type)}, "anthropic-beta": "files-api-2025-04-14" }, body }); const answer = await r.text(); const took = performance.now() - t0;
const batchId = ${JSON.stringify(path)}.endsWith("/batches") && r.ok ? JSON.parse(answer).id : undefined;
if (batchId) await (await fetch(${JSON.stringify(url + path)} + "/" + batchId + "/cancel", { method: "POST" })).arrayBuffer();
console.log(r.status, took);`;
  const sender = Bun.spawn([process.execPath, "-e", send], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const out = sender.stdout.getReader();
  let said = "";
  while (!said.includes("ready\n")) {
    const { value, done } = await out.read();
    if (done) throw new Error("the sender did not start");
    said += new TextDecoder().decode(value);
  }
  await Bun.sleep(200); // let the machine settle after the sender's start-up
  sender.stdin.write("go\n");
  sender.stdin.flush();
  let pending = true;
  const done = sender.exited.then(async () => {
    let rest = "";
    for (;;) {
      const { value, done } = await out.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    return rest.trim().split(" ").map(Number);
  });
  void done.finally(() => (pending = false));
  let last = performance.now();
  let gap = 0;
  while (pending) {
    await (await fetch(`${url}/health`)).arrayBuffer();
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }
  const [status, ms] = await done;
  return { gap, ms: ms ?? NaN, status: status ?? 0 };
}

const pad = (s: string, n: number) => s.padEnd(n);
const ms = (x: number) => `${x.toFixed(0)} ms`;

async function main() {
  const up = Bun.spawn([process.execPath, join(ROOT, "bench/fake-upstream.ts"), "--port", "0"], { stdout: "pipe", stderr: "inherit", cwd: ROOT });
  procs.push(up);
  const upPort = /^ready (\d+)$/.exec(await firstLine(up))![1]!;
  const gateways = { chat: await gateway(upPort, "chat"), responses: await gateway(upPort, "responses") };
  process.stdout.write(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}; ${os.cpus().length} cores\n`);
  process.stdout.write(`${pad("case", 52)} ${pad("largest /health gap (best–worst of rounds)", 44)} request\n`);
  for (const mb of SIZES) {
    const upload = uploadBody(mb * 10);
    const cases: Array<[string, string, string, Uint8Array, string?]> = [
      [`${mb} MB /v1/messages, one turn, responses`, gateways.responses, "/v1/messages", messagesBody(mb, "one turn")],
      [`${mb} MB /v1/messages, many turns, responses`, gateways.responses, "/v1/messages", messagesBody(mb, "turns")],
      [`${mb} MB /v1/messages, one turn, chat`, gateways.chat, "/v1/messages", messagesBody(mb, "one turn")],
      [`${mb} MB /v1/messages/count_tokens, one turn`, gateways.chat, "/v1/messages/count_tokens", messagesBody(mb, "one turn")],
      [`${mb} MB /v1/chat/completions`, gateways.chat, "/v1/chat/completions", chatBody(mb)],
      [`${mb} MB /v1/responses`, gateways.responses, "/v1/responses", responsesBody(mb)],
      [`${mb * 4} MB /v1/messages/batches`, gateways.chat, "/v1/messages/batches", batchBody(mb * 4)],
      [`${mb * 10} MB /v1/files`, gateways.chat, "/v1/files", upload.body, upload.type],
    ];
    for (const [label, url, path, body, type] of cases) {
      const runs = [];
      for (let r = 0; r < ROUNDS; r++) runs.push(await measure(url, path, body, type));
      const gaps = runs.map((x) => x.gap).sort((a, b) => a - b);
      const times = runs.map((x) => x.ms).sort((a, b) => a - b);
      const statuses = [...new Set(runs.map((x) => x.status))].join("/");
      process.stdout.write(
        `${pad(`${label} (${(body.byteLength / 1048576).toFixed(1)} MB)`, 52)} ${pad(`${ms(gaps[0]!)}–${ms(gaps.at(-1)!)}`, 44)} ${ms(times[0]!)}–${ms(times.at(-1)!)} (${statuses})\n`,
      );
    }
  }
  process.stdout.write(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`);
}

await main().finally(cleanup);
