/**
 * The access log of the running server: one JSON line per request, with names
 * and numbers, never a key or prompt text (prompt text only in --debug's
 * translated bodies, keys never).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fingerprint } from "../../src/upstream/keys";
import { completion, streamOf, textChunks, usage } from "../helpers/fake-upstream";
import { ServerProcess } from "../helpers/process";
import { clientFor, useFakeUpstream, useGateway, useGateways } from "../helpers/setup";
import { tempDir } from "../helpers/temp";

const SECRET_PROMPT = "my-very-secret-prompt-text";
const CLIENT_KEY = "client-key-do-not-log";
const UPSTREAM_KEY = "xai-upstream-key-do-not-log";

const fake = useFakeUpstream();
const h = useGateway({ clientKeys: [CLIENT_KEY], upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] } }, fake);
const startGateway = useGateways(fake);
const tmp = () => tempDir("grok2api-logging-");

async function logLines(): Promise<any[]> {
  const text = await Bun.file(h.gw.logFile).text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test("requests are logged as JSON lines without keys or prompt text", async () => {
  const client = clientFor(h.gw, CLIENT_KEY);
  fake.on(() => Response.json(completion({ content: "fine" }, "stop", usage(21, 3))));
  await client.messages.create({ model: "claude-3-opus-latest", max_tokens: 5, messages: [{ role: "user", content: SECRET_PROMPT }] });
  fake.on(() => streamOf(textChunks("streamed answer", { usage: usage(30, 4) })));
  await client.messages
    .stream({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: SECRET_PROMPT }] })
    .finalMessage();
  await fetch(`${h.gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": "wrong-key-also-secret" }, body: "{}" });
  await fetch(`${h.gw.url}/nope`);
  await h.gw.stop(); // flushes the log file

  const lines = await logLines();
  const requests = lines.filter((l) => l.msg === "request");
  expect(requests).toHaveLength(4);
  const [plain, streamed, unauthorized, missing] = requests;
  expect(plain).toMatchObject({
    method: "POST",
    path: "/v1/messages",
    model: "claude-3-opus-latest",
    upstream_model: "grok-4.3",
    stream: false,
    status: 200,
    input_tokens: 21,
    output_tokens: 3,
  });
  expect(plain.request_id).toMatch(/^req_/);
  expect(typeof plain.duration_ms).toBe("number");
  expect(new Date(plain.time).getTime()).toBeGreaterThan(0);
  expect(streamed).toMatchObject({ model: "grok-4", upstream_model: "grok-4", stream: true, status: 200, input_tokens: 30, output_tokens: 4 });
  expect(unauthorized).toMatchObject({ status: 401, error: "authentication_error" });
  expect(missing).toMatchObject({ path: "/nope", status: 404 });

  const raw = await Bun.file(h.gw.logFile).text();
  for (const secret of [SECRET_PROMPT, CLIENT_KEY, UPSTREAM_KEY, "wrong-key-also-secret"]) expect(raw).not.toContain(secret);
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
    const gw = startGateway({ modelMap: { "claude-log": "grok-log" } });
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
