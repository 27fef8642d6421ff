/**
 * The real Claude Code CLI, headless, against the compiled binary and a scripted
 * fake xAI: a plain answer; a Bash tool call that Claude Code runs and answers;
 * a streamed thinking answer. HOME is a temp dir; everything stays on 127.0.0.1;
 * every run is killed after a bounded time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startBinary, type RunningBinary } from "../helpers/binary";
import { chunk, streamOf, textChunks, usage, usageChunk, type Recorded } from "../helpers/fake-upstream";
import { tempDir } from "../helpers/temp";
import { useFakeUpstream } from "../helpers/setup";

const CLAUDE = join(import.meta.dir, "..", "..", "node_modules", ".bin", "claude");
const RUN_TIMEOUT_MS = 90_000;

const fake = useFakeUpstream();
let gateway: RunningBinary;
const root = tempDir("grok2api-claude-");

/** The main conversation carries Claude Code's tools; background calls (titles, …) do not. */
const isMainTurn = (req: Recorded) => (req.body?.tools ?? []).some((t: { function: { name: string } }) => t.function.name === "Bash");
const lastMessage = (req: Recorded) => req.body.messages[req.body.messages.length - 1];
const plain = (req: Recorded, text: string) => (req.body.stream ? streamOf(textChunks(text)) : Response.json({ choices: [{ message: { role: "assistant", content: text }, finish_reason: "stop" }], usage: usage() }));

beforeAll(async () => {
  gateway = await startBinary([], { XAI_BASE_URL: fake.baseUrl, GROK2API_LOG_FILE: join(root, "gateway.log") }, root);
}, 120_000);
afterAll(async () => {
  await gateway?.stop();
});

async function claude(args: string[], cwd: string) {
  const home = mkdtempSync(join(root, "home-"));
  const proc = Bun.spawn([CLAUDE, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      ANTHROPIC_BASE_URL: gateway.url,
      ANTHROPIC_API_KEY: "xai-test-key",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), RUN_TIMEOUT_MS);
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function resultOf(run: { code: number; stdout: string; stderr: string }) {
  if (run.code !== 0) throw new Error(`claude exited ${run.code}: ${run.stderr.slice(0, 2000)} ${run.stdout.slice(0, 2000)}`);
  return JSON.parse(run.stdout) as { type: string; subtype: string; is_error: boolean; result: string; num_turns: number };
}

describe("Claude Code, headless, through the compiled binary", () => {
  test("a plain answer comes back", async () => {
    fake.reset().on((req) => plain(req, isMainTurn(req) ? "Hello from fake Grok!" : "Greeting"));
    const r = resultOf(await claude(["-p", "Say hello", "--output-format", "json"], root));
    expect(r.is_error).toBe(false);
    expect(r.subtype).toBe("success");
    expect(r.result).toBe("Hello from fake Grok!");
    // It asked with its own model name; the gateway routed it and kept its session sticky.
    const main = fake.requests.find(isMainTurn)!;
    expect(main.body.model).toBe("grok-4.3");
    expect(main.headers.get("x-grok-conv-id")).toMatch(/^[0-9a-f-]{36}$/);
  }, RUN_TIMEOUT_MS + 10_000);

  test("a Bash tool call runs, its result goes back, and the file exists", async () => {
    const cwd = join(root, "tool-work");
    mkdirSync(cwd, { recursive: true });
    const target = join(cwd, "made-by-grok.txt");
    fake.reset().on((req) => {
      if (!isMainTurn(req)) return plain(req, "Title");
      const last = lastMessage(req);
      if (last.role === "tool") return streamOf(textChunks("The file is written."));
      // xAI sends the whole tool call in one chunk.
      return streamOf([
        chunk({ role: "assistant", content: "I'll create it." }),
        chunk({ tool_calls: [{ id: "call_51234", type: "function", index: 0, function: { name: "Bash", arguments: JSON.stringify({ command: `printf grok > ${target}`, description: "Write the file" }) } }] }),
        chunk({}, "tool_calls"),
        usageChunk(usage(2000, 30)),
      ]);
    });
    const r = resultOf(await claude(["-p", "Create the file", "--output-format", "json", "--allowedTools", "Bash"], cwd));
    expect(r.is_error).toBe(false);
    expect(r.result).toBe("The file is written.");
    expect(existsSync(target)).toBe(true);
    expect(readFileSync(target, "utf8")).toBe("grok");
    // The tool result reached the upstream as a tool message answering the same call id.
    const followUp = fake.requests.filter(isMainTurn).at(-1)!;
    const toolMessage = lastMessage(followUp);
    expect(toolMessage.role).toBe("tool");
    expect(toolMessage.tool_call_id).toBe("call_51234");
    const assistant = followUp.body.messages.at(-2);
    expect(assistant.tool_calls[0].id).toBe("call_51234");
  }, RUN_TIMEOUT_MS + 10_000);

  test("a streamed thinking answer is shown without error", async () => {
    fake.reset().on((req) =>
      isMainTurn(req)
        ? streamOf(textChunks("The answer is 42.", { reasoning: "The user wants the answer. It is well known to be 42.", usage: usage(1500, 10, { reasoning: 20 }) }))
        : plain(req, "Title"),
    );
    const run = await claude(["-p", "What is the answer?", "--output-format", "stream-json", "--verbose"], root);
    expect(run.code).toBe(0);
    const events = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const result = events.find((e) => e.type === "result");
    expect(result.is_error).toBe(false);
    expect(result.result).toBe("The answer is 42.");
    // Claude Code kept the thinking block: it carried our signature.
    const blocks = events.filter((e) => e.type === "assistant").flatMap((e) => e.message.content);
    const thinking = blocks.find((b: { type: string }) => b.type === "thinking");
    expect(thinking.thinking).toBe("The user wants the answer. It is well known to be 42.");
    expect(thinking.signature).toMatch(/^grok2api\.v1\./);
  }, RUN_TIMEOUT_MS + 10_000);
});
