/**
 * Our upstream key never reaches a client: when the upstream's error text quotes the
 * credential it was sent (some OpenAI-compatible servers do), every text that leaves
 * the gateway carries the key's fingerprint instead — error envelopes on both faces,
 * SSE error events, relayed streams.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { fingerprint } from "../../src/upstream/keys";
import { chunk, controlledStream, within, xaiError } from "../helpers/fake-upstream";
import { resilience, startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream } from "../helpers/setup";

const KEY = "xai-secret-upstream-key-0123456789abcdef";
const echo = (r: { headers: Headers }) => `request rejected (credential used: ${r.headers.get("authorization")})`;
/** The error, with no rest asked for (a 429 would otherwise bench the only key for the next test). */
const failWith = (status: number, r: { headers: Headers }) => {
  const res = xaiError(status, echo(r));
  res.headers.set("retry-after-ms", "0");
  return res;
};

const fake = useFakeUpstream();
let gw: Gateway;
let anthropic: Anthropic;
let openai: OpenAI;
beforeAll(() => {
  gw = startGateway(fake.baseUrl, { upstream: { baseUrl: fake.baseUrl, keys: [KEY] }, resilience: resilience({ maxRetries: 0 }) });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: "client", maxRetries: 0 });
  openai = new OpenAI({ baseURL: gw.url + "/v1", apiKey: "client", maxRetries: 0 });
});
afterAll(() => gw.stop());

const ask = { model: "grok-4", max_tokens: 10, messages: [{ role: "user" as const, content: "hi" }] };

async function raw(path: string, body: unknown): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(gw.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

function expectScrubbed(text: string) {
  expect(text).not.toContain(KEY);
  expect(text).toContain(fingerprint(KEY));
}

describe("upstream error texts that quote our key", () => {
  test.each([400, 404, 422, 429, 500])("/v1/messages, upstream %d", async (status) => {
    fake.on((r) => failWith(status, r));
    const { status: got, text, headers } = await raw("/v1/messages", ask);
    expect(got).toBeGreaterThanOrEqual(400);
    expectScrubbed(text);
    for (const [, v] of headers) expect(v).not.toContain(KEY);
  });

  test.each([400, 404, 429, 500])("/v1/chat/completions, upstream %d", async (status) => {
    fake.on((r) => failWith(status, r));
    const { status: got, text } = await raw("/v1/chat/completions", { model: "grok-4", messages: [{ role: "user", content: "hi" }] });
    expect(got).toBeGreaterThanOrEqual(400);
    expectScrubbed(text);
  });

  test("the Anthropic SDK sees the fingerprint, not the key", async () => {
    fake.on((r) => failWith(400, r));
    const err = await anthropic.messages.create(ask).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String(err.message)).not.toContain(KEY);
  });

  test("a mid-stream error event on /v1/messages", async () => {
    fake.on((r) => {
      const s = controlledStream();
      s.push(chunk({ content: "Hel", role: "assistant" }));
      s.push({ error: { message: echo(r) } });
      s.end({ done: false });
      return s.response;
    });
    const { text } = await raw("/v1/messages", { ...ask, stream: true });
    expect(text).toContain("event: error");
    expectScrubbed(text);
  });

  test("a relayed stream on /v1/chat/completions, the key split across reads", async () => {
    fake.on((r) => {
      const s = controlledStream();
      const line = `data: ${JSON.stringify({ error: { message: echo(r) } })}\n\n`;
      const cut = line.indexOf(KEY) + 10;
      s.push(`data: ${JSON.stringify(chunk({ content: "Hel", role: "assistant" }))}\n\n`);
      s.push(line.slice(0, cut));
      setTimeout(() => {
        s.push(line.slice(cut));
        s.end();
      }, 20);
      return s.response;
    });
    const { text } = await raw("/v1/chat/completions", { model: "grok-4", stream: true, messages: [{ role: "user", content: "hi" }] });
    expect(text).toContain("Hel");
    expectScrubbed(text);
  });

  test("a read that is nothing but the start of a key is held back, and the stream goes on", async () => {
    fake.on(() => {
      const s = controlledStream();
      const open = `data: ${JSON.stringify(chunk({ content: "xa-PLACEHOLDER", role: "assistant" }))}`.split("xa-PLACEHOLDER");
      s.push(open[0]!);
      // Read on its own, "xa" could begin the key: the relay holds it back and must read on.
      setTimeout(() => s.push("xa"), 20);
      setTimeout(() => {
        s.push(`yz${open[1]}\n\n`);
        s.end();
      }, 40);
      return s.response;
    });
    const answer = raw("/v1/chat/completions", { model: "grok-4", stream: true, messages: [{ role: "user", content: "hi" }] });
    expect(await within(answer, 5000)).toBe(true); // the stream did not stall
    const { text } = await answer;
    expect(text).toContain('"content":"xayz"');
    expect(text).toContain("data: [DONE]");
  });

  test("the OpenAI SDK sees the fingerprint on a chat completion error", async () => {
    fake.on((r) => failWith(429, r));
    const err = await openai.chat.completions.create({ model: "grok-4", messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String(err.message)).not.toContain(KEY);
  });
});
