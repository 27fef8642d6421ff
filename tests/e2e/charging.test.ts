/**
 * Every request that reached the upstream is charged, on every face, streamed or not, finished or
 * abandoned (issue 20 §1): a chat stream whose client did not ask for usage is charged the usage
 * the gateway asked for (and the client never sees it); a Responses stream's usage is read out of
 * its final event however long; a stream the client abandons is charged the upstream's final
 * usage when it comes within the drain, else an estimate marked `estimated` — never 0 for work done.
 * The charge is read where the ledger reads it: the request's access-log entry.
 */
import OpenAI from "openai";
import { describe, expect, test } from "bun:test";
import { chunk, controlledStream, streamOf, textChunks, usage, usageChunk } from "../helpers/fake-upstream";
import { responsesSse, scriptEvents, scriptStream } from "../helpers/fake-responses";
import { logText, resilience, type Gateway } from "../helpers/gateway";
import { useFakeUpstream, useGateways } from "../helpers/setup";

const fake = useFakeUpstream();
const start = useGateways(fake);

/** The access-log entry of the first request matching `pred`, once written. */
async function entry(gw: Gateway, pred: (e: any) => boolean): Promise<any> {
  const text = await logText(gw.logFile, (t) => t.split("\n").some((l) => l.includes('"msg":"request"') && pred(JSON.parse(l))), 5000);
  return text
    .split("\n")
    .filter((l) => l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l))
    .find(pred);
}

const post = (gw: Gateway, path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "k" }, body: JSON.stringify(body), signal });

/** Reads a response's body until `needle` has arrived. */
async function readUntil(res: Response, needle: string): Promise<string> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = "";
  while (!text.includes(needle)) {
    const { done, value } = await reader.read();
    if (done) break;
    text += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

describe("chat completions", () => {
  test("a stream whose client did not ask for usage: the upstream is asked, the request charged, the client never sees it", async () => {
    const gw = start({ resilience: resilience() });
    fake.on(() => streamOf(textChunks("Hello there", { usage: usage(40, 6, { cached: 10, reasoning: 20 }) })));
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "k", maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: "grok-4.3", messages: [{ role: "user", content: "hi" }], stream: true });
    const chunks: unknown[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.some((c) => (c as { usage?: unknown }).usage)).toBe(false);
    expect(fake.last.body.stream_options).toEqual({ include_usage: true });
    const e = await entry(gw, (x) => x.path === "/v1/chat/completions");
    expect(e).toMatchObject({ input_tokens: 30, output_tokens: 26, cached_tokens: 10, cost_ticks: 1000 });
    expect(e.estimated).toBeUndefined();
  });

  test("a stream the client abandons: the upstream read on for its final usage, which is charged", async () => {
    const gw = start({ resilience: resilience({ drain: { ms: 2000, bytes: 1 << 20 } }) });
    const s = controlledStream();
    fake.on(() => {
      s.push(chunk({ content: "Once upon", role: "assistant" }));
      return s.response;
    });
    const ac = new AbortController();
    const res = await post(gw, "/v1/chat/completions", { model: "grok-4.3", messages: [{ role: "user", content: "story" }], stream: true }, ac.signal);
    await readUntil(res, "Once upon");
    ac.abort();
    await Bun.sleep(100);
    // The upstream finishes after the client left: its usage is what the request cost.
    s.push(chunk({ content: " a time" }));
    s.push(chunk({}, "stop"));
    s.push(usageChunk(usage(12, 300)));
    s.end();
    const e = await entry(gw, (x) => x.path === "/v1/chat/completions" && x.status === 499);
    expect(e).toMatchObject({ error: "client_closed", input_tokens: 12, output_tokens: 300 });
    expect(e.estimated).toBeUndefined();
  });

  test("a stream the client abandons while the upstream goes silent: charged an estimate, marked estimated, never 0", async () => {
    const gw = start({ resilience: resilience({ drain: { ms: 100, bytes: 1 << 20 } }) });
    const s = controlledStream();
    fake.on(() => {
      for (const w of ["One", " two", " three", " four"]) s.push(chunk({ content: w, role: "assistant" }));
      return s.response;
    });
    const ac = new AbortController();
    const messages = [{ role: "user", content: "x".repeat(400) }];
    const res = await post(gw, "/v1/chat/completions", { model: "grok-4.3", messages, stream: true }, ac.signal);
    await readUntil(res, "four");
    ac.abort();
    const e = await entry(gw, (x) => x.path === "/v1/chat/completions" && x.status === 499);
    expect(e.estimated).toBe(true);
    expect(e.input_tokens).toBeGreaterThanOrEqual(100); // 400 characters of prompt
    expect(e.output_tokens).toBeGreaterThanOrEqual(4); // four deltas
    expect(await s.cancelled.then(() => true)).toBe(true); // and the upstream was stopped
  });
});

describe("the Responses API face", () => {
  test("a stream whose final event carries megabytes of answer: its usage is charged exactly", async () => {
    const gw = start({ upstream: { baseUrl: fake.baseUrl, keys: ["xai-test-upstream-key"], api: "responses" }, resilience: resilience() });
    const long = "word ".repeat(400_000); // 2 MB, in the deltas and again in response.completed
    fake.on(() => scriptStream({ text: [long], usage: { input: 321, cached: 21, output: 654 } }));
    const res = await post(gw, "/v1/responses", { model: "grok-4.3", input: "write", stream: true });
    const text = await res.text();
    expect(text).toContain("event: response.completed");
    const e = await entry(gw, (x) => x.path === "/v1/responses");
    expect(e).toMatchObject({ input_tokens: 300, cached_tokens: 21, output_tokens: 654, cost_ticks: 3515000 });
  });

  test("an upstream that cuts the stream short: the request is charged an estimate, marked estimated", async () => {
    const gw = start({ upstream: { baseUrl: fake.baseUrl, keys: ["xai-test-upstream-key"], api: "responses" }, resilience: resilience() });
    const events = scriptEvents({ text: ["a", "b", "c", "d", "e"] });
    const cut = responsesSse(events.slice(0, -2)); // no response.completed
    fake.on(() => new Response(cut, { headers: { "content-type": "text/event-stream" } }));
    const res = await post(gw, "/v1/responses", { model: "grok-4.3", input: "y".repeat(800), stream: true });
    expect(await res.text()).toContain("event: error");
    const e = await entry(gw, (x) => x.path === "/v1/responses");
    expect(e).toMatchObject({ estimated: true, error: "upstream_incomplete" });
    expect(e.input_tokens).toBeGreaterThanOrEqual(200);
    expect(e.output_tokens).toBe(5);
  });
});

describe("the Anthropic face", () => {
  test("a stream the client abandons: charged the final usage when it comes within the drain, else an estimate", async () => {
    const gw = start({ resilience: resilience({ drain: { ms: 2000, bytes: 1 << 20 } }) });
    const s = controlledStream();
    fake.on(() => {
      s.push(chunk({ content: "Once upon", role: "assistant" }));
      return s.response;
    });
    const ac = new AbortController();
    const body = { model: "grok-4.3", max_tokens: 100, stream: true, messages: [{ role: "user", content: "story" }] };
    const res = await post(gw, "/v1/messages", body, ac.signal);
    await readUntil(res, "Once upon");
    ac.abort();
    await Bun.sleep(100);
    s.push(chunk({ content: " a time" }));
    s.push(chunk({}, "stop"));
    s.push(usageChunk(usage(15, 200)));
    s.end();
    const e = await entry(gw, (x) => x.path === "/v1/messages" && x.status === 499);
    expect(e).toMatchObject({ error: "client_closed", input_tokens: 15, output_tokens: 200 });
    expect(e.estimated).toBeUndefined();

    // The same with a short drain and an upstream that says nothing more: the estimate, marked.
    const quick = start({ resilience: resilience({ drain: { ms: 50, bytes: 1 << 20 } }) });
    const t = controlledStream();
    fake.on(() => {
      t.push(chunk({ content: "Once upon a time there was", role: "assistant" }));
      return t.response;
    });
    const ac2 = new AbortController();
    await readUntil(await post(quick, "/v1/messages", body, ac2.signal), "there was");
    ac2.abort();
    const e2 = await entry(quick, (x) => x.path === "/v1/messages" && x.status === 499);
    expect(e2.estimated).toBe(true);
    expect(e2.output_tokens).toBeGreaterThan(0);
    expect(e2.input_tokens).toBeGreaterThan(0);
  });

  test("a JSON answer without usage from the upstream is charged an estimate, marked estimated", async () => {
    const gw = start({ resilience: resilience() });
    fake.on(() => new Response(JSON.stringify({ id: "x", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "fine" }, finish_reason: "stop" }] }), { headers: { "content-type": "application/json" } }));
    const res = await post(gw, "/v1/messages", { model: "grok-4.3", max_tokens: 10, messages: [{ role: "user", content: "z".repeat(80) }] });
    expect(res.status).toBe(200);
    const e = await entry(gw, (x) => x.path === "/v1/messages");
    expect(e.estimated).toBe(true);
    expect(e.input_tokens).toBeGreaterThan(0);
    expect(e.output_tokens).toBeGreaterThan(0);
  });
});
