/** The access log: one JSON line per request, with names and numbers, never a key or prompt text. */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { FakeUpstream, completion, streamOf, textChunks, usage } from "./helpers/fake-upstream";
import { startGateway, type Gateway } from "./helpers/gateway";

const SECRET_PROMPT = "my-very-secret-prompt-text";
const CLIENT_KEY = "client-key-do-not-log";
const UPSTREAM_KEY = "xai-upstream-key-do-not-log";

let fake: FakeUpstream;
let gw: Gateway;
beforeAll(() => {
  fake = new FakeUpstream();
  gw = startGateway(fake.baseUrl, { clientKeys: [CLIENT_KEY], upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] } });
});
afterAll(() => fake.stop());

async function logLines(): Promise<any[]> {
  const text = await Bun.file(gw.logFile).text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test("requests are logged as JSON lines without keys or prompt text", async () => {
  const client = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0 });
  fake.on(() => Response.json(completion({ content: "fine" }, "stop", usage(21, 3))));
  await client.messages.create({ model: "claude-3-opus-latest", max_tokens: 5, messages: [{ role: "user", content: SECRET_PROMPT }] });
  fake.on(() => streamOf(textChunks("streamed answer", { usage: usage(30, 4) })));
  await client.messages
    .stream({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: SECRET_PROMPT }] })
    .finalMessage();
  await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": "wrong-key-also-secret" }, body: "{}" });
  await fetch(`${gw.url}/nope`);
  await gw.stop(); // flushes the log file

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

  const raw = await Bun.file(gw.logFile).text();
  for (const secret of [SECRET_PROMPT, CLIENT_KEY, UPSTREAM_KEY, "wrong-key-also-secret"]) expect(raw).not.toContain(secret);
});
