/**
 * The log: levels, size rotation, secrets masked and scrubbed, and the debug
 * mode that logs translated request bodies (prompt text only there).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../src/http/log";
import { isSecretName, redactSecrets } from "../src/redact";
import { fingerprint } from "../src/upstream/keys";
import { FakeUpstream, completion } from "./helpers/fake-upstream";
import { startGateway } from "./helpers/gateway";
import { ServerProcess } from "./helpers/process";
import { tempDir } from "./helpers/temp";

const tmp = () => tempDir("grok2api-logging-");
const linesOf = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

let fake: FakeUpstream;
beforeAll(() => {
  fake = new FakeUpstream();
});
afterAll(() => fake.stop());

describe("logger", () => {
  test("writes only lines at or above its level, and the level can change", async () => {
    const file = join(tmp(), "app.log");
    const log = createLogger({ file, stdout: false, level: "warn" });
    log.info("hidden-1");
    log.warn("shown-1");
    log.setLevel("debug");
    expect(log.enabled("debug")).toBe(true);
    log.debug("shown-2");
    log.setLevel("error");
    log.warn("hidden-2");
    log.error("shown-3");
    await log.close();
    expect(linesOf(file).map((l) => `${l.level}:${l.msg}`)).toEqual(["warn:shown-1", "debug:shown-2", "error:shown-3"]);
  });

  test("rotates by size, keeping the newest lines in order and at most log_keep old files", async () => {
    const file = join(tmp(), "app.log");
    const log = createLogger({ file, stdout: false, maxBytes: 400, keep: 2 });
    for (let i = 0; i < 40; i++) log.info("line", { i, pad: "x".repeat(40) });
    await log.close();
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const f of [file, `${file}.1`, `${file}.2`]) expect(readFileSync(f).byteLength).toBeLessThan(400 + 200);
    const kept = [...linesOf(`${file}.2`), ...linesOf(`${file}.1`), ...linesOf(file)].map((l) => l.i);
    expect(kept.at(-1)).toBe(39);
    expect(kept).toEqual(kept.map((_, k) => 40 - kept.length + k)); // the newest, consecutive, in order
    expect(kept.length).toBeLessThan(40); // the oldest were dropped
  });

  test("a configured secret never reaches the file: it is replaced by its fingerprint", async () => {
    const file = join(tmp(), "app.log");
    const secret = 'xai-secret-with-"quote-0123456789';
    const log = createLogger({ file, stdout: false });
    log.setSecrets([secret, "short"]);
    log.warn(`upstream said: bad key ${secret}`, { echoed: secret, other: "short stays" });
    await log.close();
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("secret-with");
    expect(text.split(fingerprint(secret)).length - 1).toBe(2);
    expect(text).toContain("short stays");
  });
});

describe("redactSecrets", () => {
  test("masks strings under secret-named fields, and nothing else", () => {
    expect(isSecretName("api_keys")).toBe(true);
    expect(isSecretName("clientKeys")).toBe(true);
    expect(isSecretName("x-api-key")).toBe(true);
    expect(isSecretName("max_tokens")).toBe(false);
    expect(isSecretName("monkey")).toBe(false);
    const body = {
      model: "grok-4",
      max_tokens: 10,
      api_key: "xai-aaaaaaaaaaaaaaaa",
      headers: { authorization: "Bearer xai-bbbbbbbbbbbb" },
      keys: ["xai-cccccccccccc"],
      tools: [{ parameters: { properties: { token: { type: "string", description: "a token" } } } }],
    };
    expect(redactSecrets(body)).toEqual({
      model: "grok-4",
      max_tokens: 10,
      api_key: `<${fingerprint("xai-aaaaaaaaaaaaaaaa")}>`,
      headers: { authorization: `<${fingerprint("Bearer xai-bbbbbbbbbbbb")}>` },
      keys: [`<${fingerprint("xai-cccccccccccc")}>`],
      tools: [{ parameters: { properties: { token: { type: "string", description: "a token" } } } }],
    });
  });
});

describe("request bodies in the log", () => {
  const PROMPT = "the-secret-plan-is-in-this-prompt";
  const ask = (url: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "claude-log", max_tokens: 16, messages: [{ role: "user", content: PROMPT }] }),
    });

  test("at info level, prompt text is never logged", async () => {
    fake.on(() => Response.json(completion({ content: "ok" })));
    const gw = startGateway(fake.baseUrl, { modelMap: { "claude-log": "grok-log" } });
    expect((await ask(gw.url)).status).toBe(200);
    await gw.stop();
    const text = readFileSync(gw.logFile, "utf8");
    expect(text).toContain('"model":"claude-log"');
    expect(text).not.toContain(PROMPT);
  });

  test("--debug logs the translated body, and no key, even one pasted into a prompt", async () => {
    const upstreamKey = "xai-debug-upstream-key-0123456789";
    const clientKey = "client-debug-key-0123456789";
    fake.on(() => Response.json(completion({ content: "ok" })));
    const dir = tmp();
    const logFile = join(dir, "app.log");
    const config = join(dir, "c.toml");
    writeFileSync(config, `port = 0\nlog_file = "${logFile}"\n[upstream]\nbase_url = "${fake.baseUrl}"\n[model_map]\n"claude-log" = "grok-log"\n`);
    const server = await ServerProcess.start(["--config", config, "--debug"], { XAI_API_KEY: upstreamKey, GROK2API_API_KEYS: clientKey });
    try {
      const res = await fetch(`${server.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": clientKey },
        body: JSON.stringify({ model: "claude-log", max_tokens: 16, messages: [{ role: "user", content: `${PROMPT} ${upstreamKey}` }] }),
      });
      expect(res.status).toBe(200);
      const debug = await server.waitFor((l) => l.msg === "upstream request");
      expect(debug.level).toBe("debug");
      expect(debug.body.model).toBe("grok-log");
      expect(debug.body.messages).toEqual([{ role: "user", content: `${PROMPT} <${fingerprint(upstreamKey)}>` }]);
      await server.waitFor((l) => l.msg === "request");
      server.signal("SIGTERM");
      expect(await server.exited).toBe(0);
    } finally {
      await server.kill();
    }
    const everything = readFileSync(logFile, "utf8") + JSON.stringify(server.lines) + server.stderr;
    expect(everything).toContain(PROMPT);
    expect(everything).not.toContain(upstreamKey);
    expect(everything).not.toContain(clientKey);
  });
});
