/**
 * Upstream numbers are not trusted: a negative, fractional, huge or non-numeric token
 * count must not reach the metrics (prom-client throws on a decreasing counter, in a
 * deferred callback that used to end the process) nor cost the answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { completion, streamOf, textChunks, usage } from "../helpers/fake-upstream";
import { startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream } from "../helpers/setup";
import { recordRequest, tokenCount } from "../../src/metrics";

const fake = useFakeUpstream();
let gw: Gateway;
beforeAll(() => {
  gw = startGateway(fake.baseUrl);
});
afterAll(() => gw.stop());

/** [name, prompt_tokens, completion_tokens, a non-stream /v1/messages answer is a 502 (not numbers at all: malformed)] */
const BAD: Array<[string, unknown, unknown, boolean]> = [
  ["negative", -3, -5, false],
  ["fractional and huge", 0.5, 1e300, false],
  ["strings", "12", "five", true],
  ["NaN-like", null, { n: 1 }, true],
];

async function post(path: string, body: unknown) {
  const res = await fetch(gw.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

describe.each(BAD)("usage with %s counts", (_name, prompt, completionTokens, malformed) => {
  const u = { ...usage(), prompt_tokens: prompt, completion_tokens: completionTokens } as unknown as ReturnType<typeof usage>;

  test("non-stream then stream on /v1/messages and /v1/chat/completions: answered, and the metrics still scrape", async () => {
    fake.on((r) => (r.body?.stream ? streamOf(textChunks("hello", { usage: u })) : Response.json(completion({ content: "hello" }, "stop", u))));
    const ask = { model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] };
    // Numbers that cannot be counts are dropped (the estimate stands in); values that are not numbers make
    // a non-stream answer malformed (502); a stream the client already has is never lost over its usage.
    const plain = await post("/v1/messages", ask);
    expect(plain.status).toBe(malformed ? 502 : 200);
    if (!malformed) {
      const usage = JSON.parse(plain.text).usage;
      for (const v of [usage.input_tokens, usage.output_tokens]) expect(Number.isInteger(v) && v >= 0 && v < 1e12).toBe(true);
    }
    const stream = await post("/v1/messages", { ...ask, stream: true });
    expect(stream.status).toBe(200);
    expect(stream.text).toContain("message_stop");
    const delta = stream.text.split("\n").find((l) => l.includes('"message_delta"'))!;
    const streamed = JSON.parse(delta.slice(delta.indexOf("{"))).usage;
    for (const v of [streamed.input_tokens, streamed.output_tokens]) expect(Number.isInteger(v) && v >= 0 && v < 1e12).toBe(true);
    expect((await post("/v1/chat/completions", { model: "grok-4", messages: ask.messages })).status).toBe(200);
    expect((await post("/v1/chat/completions", { model: "grok-4", messages: ask.messages, stream: true })).status).toBe(200);
    // Let deferred bookkeeping run, then check the process is still serving and the metrics are sane.
    await Bun.sleep(20);
    const metrics = await fetch(gw.url + "/metrics");
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    for (const line of text.split("\n").filter((l) => l.startsWith("grok2api_tokens_total"))) {
      const value = Number(line.split(" ").pop());
      expect(Number.isFinite(value) && value >= 0 && value < 1e12).toBe(true);
    }
  });
});

test("tokenCount keeps only finite whole counts ≥ 0", () => {
  expect([tokenCount(5), tokenCount(0), tokenCount(-5), tokenCount(2.7), tokenCount("5"), tokenCount(NaN), tokenCount(1e300)]).toEqual([
    5,
    0,
    undefined,
    2,
    undefined,
    undefined,
    undefined,
  ]);
});

test("a record prom-client would refuse is dropped, not thrown", async () => {
  recordRequest({ route: "/v1/messages", method: "POST", status: 200, durationMs: -1, outputTokens: -5, inputTokens: Number.NaN });
  await Bun.sleep(20);
  expect((await fetch(gw.url + "/health")).status).toBe(200);
});
