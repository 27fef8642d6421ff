/**
 * The compiled executable is what users run: build it, start it against the
 * fake upstream, and make requests through it.
 */
import Anthropic from "@anthropic-ai/sdk";
import { beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { countTokens as o200kCount } from "gpt-tokenizer/encoding/o200k_base";
import { OVERHEAD } from "../../src/tokens/prompt-parts";
import { compiledBinary } from "../helpers/binary";
import { completion, streamOf, textChunks, xaiError } from "../helpers/fake-upstream";
import { makePdf } from "../helpers/pdf";
import { tempDir } from "../helpers/temp";
import { useFakeUpstream } from "../helpers/setup";

let binary: string;
const fake = useFakeUpstream();
const work = tempDir("grok2api-bin-run-");

beforeAll(async () => {
  binary = await compiledBinary();
}, 120_000);

async function run(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn([binary, ...args], { cwd: work, env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  return { code, stdout, stderr };
}

test("--version and --help", async () => {
  const v = await run(["--version"]);
  expect(v.code).toBe(0);
  expect(v.stdout).toMatch(/^grok2api \d+\.\d+\.\d+\n$/);
  const h = await run(["--help"]);
  expect(h.code).toBe(0);
  expect(h.stdout).toContain("Usage: grok2api [--host ADDR] [--port N] [--config FILE]");
});

test("a bad value stops start-up with one clear line", async () => {
  const r = await run(["--port", "nope"]);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toContain('--port="nope" is not a valid port');
  const k = await run([], { GROK2API_API_KEYS: "c" });
  expect(k.code).toBe(2);
  expect(k.stderr).toContain("no upstream key");
});

test("serves the Messages API, streaming and not, and exits cleanly on SIGTERM", async () => {
  const proc = Bun.spawn([binary, "--port", "0"], {
    cwd: work,
    env: { PATH: process.env.PATH ?? "", XAI_BASE_URL: fake.baseUrl, GROK2API_LOG_FILE: join(work, "logs", "app.log") },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    // The first stdout line announces the address.
    const reader = proc.stdout.getReader();
    let buffered = "";
    while (!buffered.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`binary exited early: ${await new Response(proc.stderr).text()}`);
      buffered += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    const listening = JSON.parse(buffered.split("\n")[0]!);
    expect(listening.msg).toBe("listening");
    const client = new Anthropic({ baseURL: `${listening.url}/v1`, apiKey: "xai-user-key", maxRetries: 0 });

    // count_tokens first (nothing learned yet), with the upstream's tokenizer down: the local tokenizer's thread runs inside the binary.
    fake.on(() => xaiError(404, "no tokenizer here"));
    const text = "Count these words with the bundled tokenizer, please: 東京 🚀";
    const counted = await client.messages.countTokens({ model: "grok-4", messages: [{ role: "user", content: text }] });
    expect(counted.input_tokens).toBe(o200kCount(text) + OVERHEAD.request + OVERHEAD.message);

    fake.on(() => Response.json(completion({ content: "Hello from the binary path" })));
    const msg = await client.messages.create({ model: "grok-4", max_tokens: 20, messages: [{ role: "user", content: "hi" }] });
    expect(msg.content as unknown).toEqual([{ type: "text", text: "Hello from the binary path" }]);
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-user-key");

    fake.on(() => streamOf(textChunks("streamed through the binary")));
    const final = await client.messages
      .stream({ model: "grok-4", max_tokens: 20, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    expect(final.content as unknown).toEqual([{ type: "text", text: "streamed through the binary" }]);

    // A PDF document: read by pdf.js in its own thread, bundled into the binary.
    fake.on(() => Response.json(completion({ content: "read it" })));
    const pdf = Buffer.from(makePdf(["Quarterly numbers went up."])).toString("base64");
    await client.messages.create({
      model: "grok-4",
      max_tokens: 20,
      messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: pdf } }, { type: "text", text: "Summarise" }] }],
    });
    expect(JSON.stringify(fake.last.body.messages)).toContain("Quarterly numbers went up.");

    // A large conversation (past 512 KB): parsed in slices, translated on its own thread, bundled into the binary.
    fake.on(() => Response.json(completion({ content: "all done" })));
    const calls = 6000;
    const large = await client.messages.create({
      model: "grok-4",
      max_tokens: 20,
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", content: Array.from({ length: calls }, (_, i) => ({ type: "tool_use" as const, id: `toolu_${i}`, name: "bash", input: { command: `ls /tmp/${i}` } })) },
        { role: "user", content: Array.from({ length: calls }, (_, i) => ({ type: "tool_result" as const, tool_use_id: `toolu_${i}`, content: `result ${i}` })) },
      ],
    });
    expect(large.content as unknown).toEqual([{ type: "text", text: "all done" }]);
    const tools = fake.last.body.messages.filter((m: { role: string }) => m.role === "tool");
    expect(tools).toHaveLength(calls);
    expect(tools[calls - 1].content).toBe(`result ${calls - 1}`);

    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const log = await Bun.file(join(work, "logs", "app.log")).text();
    expect(log.split("\n").filter((l) => l.includes('"msg":"request"'))).toHaveLength(5);
    expect(log).not.toContain("translation thread failed"); // the large request was translated on its thread
  } finally {
    proc.kill("SIGKILL");
  }
}, 30_000);
