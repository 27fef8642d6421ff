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
import { answer, CALL_UUID, recordedSearch, scriptStream } from "../helpers/fake-responses";
import { chunk, streamOf, textChunks, usage, usageChunk, xaiError, type Recorded } from "../helpers/fake-upstream";
import { tempDir } from "../helpers/temp";
import { useFakeUpstream } from "../helpers/setup";

const CLAUDE = join(import.meta.dir, "..", "..", "node_modules", ".bin", "claude");
const RUN_TIMEOUT_MS = 90_000;

const fake = useFakeUpstream();
let gateway: RunningBinary;
/** A second fake and binary speaking xAI's Responses API (GROK2API_UPSTREAM_API=responses). */
const rfake = useFakeUpstream();
let rgateway: RunningBinary;
const root = tempDir("grok2api-claude-");

/** The main conversation carries Claude Code's tools; background calls (titles, …) do not. */
const isMainTurn = (req: Recorded) => (req.body?.tools ?? []).some((t: { function: { name: string } }) => t.function.name === "Bash");
const lastMessage = (req: Recorded) => req.body.messages[req.body.messages.length - 1];
// The fake serves chat only: the gateway's catalog reads (GET /v1/language-models, /v1/models) get a 404.
const plain = (req: Recorded, text: string) =>
  req.method === "GET" ? xaiError(404, "no such path") : (req.body.stream ? streamOf(textChunks(text)) : Response.json({ choices: [{ message: { role: "assistant", content: text }, finish_reason: "stop" }], usage: usage() }));

beforeAll(async () => {
  gateway = await startBinary([], { XAI_BASE_URL: fake.baseUrl, GROK2API_LOG_FILE: join(root, "gateway.log") }, root);
  rgateway = await startBinary(
    [],
    { XAI_BASE_URL: rfake.baseUrl, GROK2API_UPSTREAM_API: "responses", GROK2API_LOG_FILE: join(root, "gateway-responses.log") },
    root,
  );
}, 120_000);
afterAll(async () => {
  await gateway?.stop();
  await rgateway?.stop();
});

async function claude(args: string[], cwd: string, gw: RunningBinary = gateway) {
  const home = mkdtempSync(join(root, "home-"));
  const proc = Bun.spawn([CLAUDE, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      ANTHROPIC_BASE_URL: gw.url,
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

/** Responses: tools are flat (`{type:"function", name}`), the conversation is `input` items. */
const isMainResponsesTurn = (req: Recorded) => (req.body?.tools ?? []).some((t: { name: string }) => t.name === "Bash");
const lastItem = (req: Recorded) => req.body.input[req.body.input.length - 1];

describe("Claude Code through the compiled binary with GROK2API_UPSTREAM_API=responses", () => {
  test("a plain answer comes back, asked of /v1/responses", async () => {
    rfake.reset().on((req) => answer({ text: isMainResponsesTurn(req) ? ["Hello from ", "Responses Grok!"] : ["Greeting"] })(req, 0));
    const r = resultOf(await claude(["-p", "Say hello", "--output-format", "json"], root, rgateway));
    expect(r.is_error).toBe(false);
    expect(r.result).toBe("Hello from Responses Grok!");
    const main = rfake.requests.find(isMainResponsesTurn)!;
    expect(main.path).toBe("/v1/responses");
    expect(main.body.store).toBe(false);
    expect(main.body.prompt_cache_key).toMatch(/^[0-9a-f-]{36}$/);
    expect(main.body.instructions).toBeString();
  }, RUN_TIMEOUT_MS + 10_000);

  test("a Bash tool round trip: function_call, then function_call_output with the exact call_id", async () => {
    const cwd = join(root, "tool-work-responses");
    mkdirSync(cwd, { recursive: true });
    const target = join(cwd, "made-by-responses.txt");
    rfake.reset().on((req) => {
      if (!isMainResponsesTurn(req)) return answer({ text: ["Title"] })(req, 0);
      if (lastItem(req).type === "function_call_output") return scriptStream({ text: ["The file ", "is written."] });
      const args = JSON.stringify({ command: `printf grok > ${target}`, description: "Write the file" });
      return scriptStream({ text: ["I'll create it."], calls: [{ name: "Bash", args: [args.slice(0, 10), args.slice(10)] }] });
    });
    const r = resultOf(await claude(["-p", "Create the file", "--output-format", "json", "--allowedTools", "Bash"], cwd, rgateway));
    expect(r.is_error).toBe(false);
    expect(r.result).toBe("The file is written.");
    expect(readFileSync(target, "utf8")).toBe("grok");
    const followUp = rfake.requests.filter(isMainResponsesTurn).at(-1)!;
    const callId = `call-${CALL_UUID}-0`;
    expect(lastItem(followUp)).toMatchObject({ type: "function_call_output", call_id: callId });
    expect(followUp.body.input.find((i: { type?: string }) => i.type === "function_call")).toMatchObject({ call_id: callId, name: "Bash" });
  }, RUN_TIMEOUT_MS + 10_000);

  test("a thinking answer's reasoning is replayed on the next turn, before its function_call", async () => {
    const cwd = join(root, "think-work-responses");
    mkdirSync(cwd, { recursive: true });
    const encrypted = "qZohxWFd49bV9XKre+EVkJudohb2DOSP/test==";
    const summary = "The user wants a file listing. I will run ls.";
    rfake.reset().on((req) => {
      if (!isMainResponsesTurn(req)) return answer({ text: ["Title"] })(req, 0);
      if (lastItem(req).type === "function_call_output") return scriptStream({ reasoning: { pieces: ["Listed."], encrypted: "SECOND" }, text: ["Done listing."] });
      return scriptStream({ reasoning: { pieces: [summary.slice(0, 20), summary.slice(20)], encrypted }, calls: [{ name: "Bash", args: ['{"command":"ls","description":"List"}'] }] });
    });
    const run = await claude(["-p", "List the files", "--output-format", "stream-json", "--verbose", "--allowedTools", "Bash"], cwd, rgateway);
    expect(run.code).toBe(0);
    const events = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === "result").result).toBe("Done listing.");
    const thinking = events.filter((e) => e.type === "assistant").flatMap((e) => e.message.content).find((b: { type: string }) => b.type === "thinking");
    expect(thinking.thinking).toBe(summary);
    expect(thinking.signature).toMatch(/^grok2api\.r1\./);
    const followUp = rfake.requests.filter(isMainResponsesTurn).at(-1)!;
    const input = followUp.body.input as Array<Record<string, unknown>>;
    const r = input.findIndex((i) => i.type === "reasoning");
    expect(input[r]).toEqual({ type: "reasoning", summary: [{ type: "summary_text", text: summary }], encrypted_content: encrypted });
    expect(input[r + 1]).toMatchObject({ type: "function_call", call_id: `call-${CALL_UUID}-0` });
  }, RUN_TIMEOUT_MS + 10_000);

  test("WebSearch: Claude Code's search sub-request is answered by Grok's web search, and the results reach the conversation", async () => {
    const cwd = join(root, "search-work-responses");
    mkdirSync(cwd, { recursive: true });
    const isSearch = (req: Recorded) => (req.body?.tools ?? []).some((t: { type: string }) => t.type === "web_search");
    rfake.reset().on((req) => {
      if (isSearch(req)) return recordedSearch()(req, 0);
      if (!isMainResponsesTurn(req)) return answer({ text: ["Title"] })(req, 0);
      if (lastItem(req).type === "function_call_output") return scriptStream({ text: ["Ruby 4.0.6 is the latest stable version."] });
      return scriptStream({ calls: [{ name: "WebSearch", args: ['{"query":"latest stable Ruby version"}'] }] });
    });
    const run = await claude(["-p", "What is the latest stable Ruby?", "--output-format", "stream-json", "--verbose", "--allowedTools", "WebSearch"], cwd, rgateway);
    expect(run.code).toBe(0);
    const events = run.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.type === "result").result).toBe("Ruby 4.0.6 is the latest stable version.");
    // Claude Code's own sub-request: its server tool, reaching xAI as web_search.
    const sub = rfake.requests.find(isSearch)!;
    expect(sub.body.tools).toEqual([{ type: "web_search" }]);
    expect(JSON.stringify(sub.body.input)).toContain("Perform a web search for the query: latest stable Ruby version");
    // What the WebSearch tool gave the conversation names the search's results.
    const toolResult = JSON.stringify(events.filter((e) => e.type === "user").flatMap((e) => e.message.content));
    expect(toolResult).toContain("https://www.ruby-lang.org/en/downloads/");
    const followUp = rfake.requests.filter(isMainResponsesTurn).at(-1)!;
    expect(lastItem(followUp).type).toBe("function_call_output");
    expect(lastItem(followUp).output).toContain("https://github.com/ruby/ruby/releases");
  }, RUN_TIMEOUT_MS + 10_000);
});
