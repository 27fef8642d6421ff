/**
 * The real Codex CLI (`codex exec`, headless) against the compiled binary's
 * `/v1/responses` and a fake xAI replaying recorded Responses traffic: a plain
 * answer; a shell command run through Codex's `exec_command` tool, its output sent
 * back, then the answer. Codex is configured as a user would (a custom model
 * provider with `wire_api = "responses"`, the key in an env var, no login), in a
 * temp CODEX_HOME; everything stays on 127.0.0.1; every run is killed after a
 * bounded time; the temp dirs are removed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startBinary, type RunningBinary } from "../helpers/binary";
import { logText } from "../helpers/gateway";
import { sseResponse, type Recorded } from "../helpers/fake-upstream";
import { STREAM_AFTER_TOOL, STREAM_TEXT, events, fixture, frames, functionCallStream, RECORDED_CALL_ID } from "../helpers/fake-responses-replay";
import { useFakeUpstream } from "../helpers/setup";
import { tempDir } from "../helpers/temp";

const CODEX = join(import.meta.dir, "..", "..", "node_modules", ".bin", "codex");
const RUN_TIMEOUT_MS = 90_000;
const CLIENT_KEY = "xai-codex-test-key";

const fake = useFakeUpstream();
let gateway: RunningBinary;
const root = tempDir("grok2api-codex-");

/** The text a recorded stream answers with. */
const answerOf = (sse: string) =>
  events(sse)
    .filter((e) => e.event === "response.output_text.delta")
    .map((e) => e.data.delta)
    .join("");

/** Codex's turns carry its tools; anything else it might send would not. */
const isTurn = (req: Recorded) => req.path === "/v1/responses" && Array.isArray(req.body?.tools);
const lastItem = (req: Recorded) => req.body.input[req.body.input.length - 1];

beforeAll(async () => {
  // Keep-alive comments every 20 ms, so that a slow upstream has Codex read `: ping` between events.
  const config = join(root, "grok2api.toml");
  writeFileSync(config, "[upstream]\nping_interval = 0.02\n");
  gateway = await startBinary(
    ["--config", config],
    { XAI_BASE_URL: fake.baseUrl, GROK2API_UPSTREAM_API: "responses", GROK2API_LOG_FILE: join(root, "gateway.log") },
    root,
  );
}, 120_000);
afterAll(async () => {
  await gateway?.stop();
});

/** `codex exec` with its own CODEX_HOME: the provider block the README gives, pointed at the gateway. */
async function codex(prompt: string, cwd: string, extraArgs: string[] = []) {
  const home = mkdtempSync(join(root, "home-"));
  const codexHome = join(home, ".codex");
  mkdirSync(codexHome);
  writeFileSync(
    join(codexHome, "config.toml"),
    [
      'model = "grok-4.3"',
      'model_provider = "grok2api"',
      "check_for_update_on_startup = false",
      "",
      "[model_providers.grok2api]",
      'name = "grok2api"',
      `base_url = "${gateway.url}/v1"`,
      'env_key = "GROK2API_KEY"',
      'wire_api = "responses"',
      // A failure shows at once instead of after Codex's retries.
      "request_max_retries = 0",
      "stream_max_retries = 0",
      "",
    ].join("\n"),
  );
  const lastMessage = join(home, "last-message.txt");
  const proc = Bun.spawn(
    [CODEX, "exec", "--skip-git-repo-check", "--color", "never", "--output-last-message", lastMessage, ...extraArgs, prompt],
    {
      cwd,
      env: { PATH: process.env.PATH ?? "", HOME: home, CODEX_HOME: codexHome, GROK2API_KEY: CLIENT_KEY },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const timer = setTimeout(() => proc.kill("SIGKILL"), RUN_TIMEOUT_MS);
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  clearTimeout(timer);
  let last = "";
  try {
    last = readFileSync(lastMessage, "utf8");
  } catch {
    // not written: the run failed
  }
  if (code !== 0) throw new Error(`codex exited ${code}: ${stderr.slice(-3000)} ${stdout.slice(-2000)}`);
  return { stdout, stderr, last };
}

describe("Codex CLI, headless, through the compiled binary's /v1/responses", () => {
  test("answers a prompt, streamed slowly, with keep-alive comments between the events", async () => {
    const sse = fixture(STREAM_TEXT);
    const slowly = frames(sse).map((f) => new TextEncoder().encode(f));
    fake.on(() => sseResponse(slowly, { delayMs: 50 }));
    const run = await codex("Count from 1 to 3", root);
    expect(run.last.trim()).toBe(answerOf(sse));
    const turn = fake.requests.find(isTurn)!;
    expect(turn).toBeDefined();
    // Codex's request reached xAI as xAI takes it: streamed, its reasoning replay asked for,
    // the client's key forwarded (no key configured), OpenAI-only parts left out.
    expect(turn.body.model).toBe("grok-4.3");
    expect(turn.body.stream).toBe(true);
    expect(turn.body.store).toBe(false);
    expect(turn.body.include).toEqual(["reasoning.encrypted_content"]);
    expect(turn.headers.get("authorization")).toBe(`Bearer ${CLIENT_KEY}`);
    expect(turn.body).not.toHaveProperty("client_metadata");
    const types = new Set(turn.body.tools.map((t: { type: string }) => t.type));
    expect([...types].every((t) => ["function", "web_search"].includes(t as string))).toBe(true);
    expect(turn.body.tools.some((t: { name?: string }) => t.name === "exec_command")).toBe(true);
    expect(JSON.stringify(turn.body.input)).toContain("Count from 1 to 3");
    // What was left out is named in the gateway's log.
    const log = await logText(join(root, "gateway.log"), (t) => t.includes("parameters adjusted"));
    const adjusted = log
      .split("\n")
      .filter((l) => l.includes("parameters adjusted"))
      .flatMap((l) => JSON.parse(l).adjusted as string[]);
    expect(adjusted).toContain("client_metadata dropped");
    expect(adjusted).toContain("tools.web_search dropped (external_web_access false)");
  }, RUN_TIMEOUT_MS + 10_000);

  test("runs a shell command through a tool call, sends its output back, then answers", async () => {
    const cwd = join(root, "tool-work");
    mkdirSync(cwd, { recursive: true });
    const marker = `grok-${crypto.randomUUID()}`;
    writeFileSync(join(cwd, "marker.txt"), marker);
    const after = fixture(STREAM_AFTER_TOOL);
    fake.on((req) => {
      if (!isTurn(req)) return sseResponse(fixture(STREAM_TEXT));
      const last = lastItem(req);
      if (last?.type === "function_call_output") return sseResponse(after);
      // grok-4.3's recorded function call, calling Codex's shell tool.
      return sseResponse(functionCallStream("exec_command", { cmd: "cat marker.txt" }));
    });
    const run = await codex("Show me what marker.txt says", cwd, ["--sandbox", "danger-full-access"]);
    expect(run.last.trim()).toBe(answerOf(after));
    const turns = fake.requests.filter(isTurn);
    expect(turns.length).toBe(2);
    // The second turn replays the call and carries the command's real output.
    const input = turns[1]!.body.input as Array<Record<string, any>>;
    const call = input.find((i) => i.type === "function_call");
    expect(call).toMatchObject({ name: "exec_command", call_id: RECORDED_CALL_ID });
    expect(JSON.parse(call!.arguments)).toEqual({ cmd: "cat marker.txt" });
    const output = input.find((i) => i.type === "function_call_output");
    expect(output!.call_id).toBe(RECORDED_CALL_ID);
    expect(JSON.stringify(output!.output)).toContain(marker);
    // The recorded reasoning item went back too, with its encrypted content and no null fields.
    const reasoning = input.find((i) => i.type === "reasoning");
    expect(reasoning?.encrypted_content?.length).toBeGreaterThan(100);
    expect(Object.values(reasoning!).includes(null)).toBe(false);
  }, RUN_TIMEOUT_MS + 10_000);
});
