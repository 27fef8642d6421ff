/**
 * Chat-completions stream chunks are checked as JSON answers are: a chunk whose fields have the
 * wrong type (text that is not text, tool calls that are not a list, a delta or choice that is not
 * an object, a usage that is not an object, …) ends a /v1/messages stream with `event: error`
 * `api_error` naming the upstream's fault — never a TypeError, a 500 or text made up from it
 * ("42", "[object Object]"). The stop-sequence path (a JSON answer read from a stream) answers 502.
 * /v1/chat/completions relays its stream untouched: a malformed chunk reaches the client as sent,
 * and the gateway stays up.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { beforeAll, describe, expect, test } from "bun:test";
import { chunk, streamOf, textChunks, usageChunk } from "../helpers/fake-upstream";
import { logText, parseSSE } from "../helpers/gateway";
import { clientFor, useGateway } from "../helpers/setup";

const h = useGateway();
let client: Anthropic;
beforeAll(() => {
  client = clientFor(h.gw);
});

const call = (fn: unknown) => ({ index: 0, id: "call_1", type: "function", function: fn });
/** [what is wrong, the chunk that carries it] — each after a first good chunk of text. */
const MALFORMED: Array<[string, unknown]> = [
  ["content is a number", chunk({ content: 42 })],
  ["content is an object", chunk({ content: { text: "hi" } })],
  ["reasoning_content is a number", chunk({ reasoning_content: 7 })],
  ["tool_calls is an object", chunk({ tool_calls: { 0: call({ name: "f", arguments: "{}" }) } })],
  ["a tool call is null", chunk({ tool_calls: [null] })],
  ["a tool call's function is text", chunk({ tool_calls: [call("f")] })],
  ["a tool name is a number", chunk({ tool_calls: [call({ name: 5, arguments: "{}" })] })],
  ["tool call arguments are an object", chunk({ tool_calls: [call({ name: "f", arguments: { a: 1 } })] })],
  ["the delta is text", { ...chunk({}), choices: [{ index: 0, delta: "hi" }] }],
  ["a choice is text", { ...chunk({}), choices: ["hi"] }],
  ["choices is an object", { ...chunk({}), choices: { 0: { delta: { content: "x" } } } }],
  ["finish_reason is a number", chunk({}, 5 as unknown as string)],
  ["usage is text", { ...usageChunk(), usage: "lots" }],
];

const ask = { model: "grok-4", max_tokens: 50, messages: [{ role: "user" as const, content: "hi" }] };
const post = (body: unknown) =>
  fetch(`${h.gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe.each(MALFORMED)("a chunk where %s", (_what, bad) => {
  beforeAll(() => {
    h.fake.on(() => streamOf([chunk({ content: "Hello", role: "assistant" }), bad, chunk({}, "stop"), usageChunk()]));
  });

  test("/v1/messages streamed: event: error api_error naming the upstream's fault, no message_stop", async () => {
    const res = await post({ ...ask, stream: true });
    expect(res.status).toBe(200);
    const events = parseSSE(await res.text());
    expect(events.map((e) => e.event)).not.toContain("message_stop");
    const last = events.at(-1)!;
    expect(last.event).toBe("error");
    expect(last.data.error.type).toBe("api_error");
    expect(last.data.error.message).toMatch(/^the upstream sent /);
    // The SDK sees it as an API error too.
    const err = await client.messages.stream(ask).finalMessage().catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String(err.message)).toContain("the upstream sent ");
  });

  test("/v1/messages with stop sequences (a JSON answer read from a stream): 502 api_error", async () => {
    const err = await client.messages.create({ ...ask, stop_sequences: ["END"] }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(502);
    expect(err.error.error.type).toBe("api_error");
    expect(err.error.error.message).toMatch(/^the upstream sent /);
  });
});

test("the access log says api_error, never a 500", async () => {
  h.fake.on(() => streamOf([chunk({ content: "Hello", role: "assistant" }), chunk({ reasoning_content: 7 }), chunk({}, "stop")]));
  await (await post({ ...ask, model: "grok-malformed-log", stream: true })).text();
  const text = await logText(h.gw.logFile, (t) => t.includes('"model":"grok-malformed-log"'));
  const line = JSON.parse(text.split("\n").find((l) => l.includes('"model":"grok-malformed-log"'))!);
  expect(line).toMatchObject({ status: 200, error: "api_error" });
  expect(text).not.toContain("stream failed");
});

describe("/v1/chat/completions relays its stream as the upstream sent it", () => {
  test("malformed chunks pass through untouched, the stream completes and the gateway stays up", async () => {
    const chunks = [chunk({ content: "Hello", role: "assistant" }), ...MALFORMED.map(([, bad]) => bad), ...textChunks(" world")];
    h.fake.on(() => streamOf(chunks));
    const res = await fetch(`${h.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "grok-4", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } }),
    });
    expect(res.status).toBe(200);
    const frames = (await res.text()).trim().split("\n\n");
    expect(frames.at(-1)).toBe("data: [DONE]");
    expect(frames.slice(0, -1).map((f) => JSON.parse(f.slice("data: ".length)))).toEqual(JSON.parse(JSON.stringify(chunks)));
    expect((await fetch(`${h.gw.url}/health`)).status).toBe(200);
    const openai = new OpenAI({ baseURL: `${h.gw.url}/v1`, apiKey: "k", maxRetries: 0 });
    h.fake.on(() => streamOf(textChunks("still fine")));
    let text = "";
    for await (const c of await openai.chat.completions.create({ model: "grok-4", messages: [{ role: "user", content: "hi" }], stream: true })) {
      text += c.choices[0]?.delta?.content ?? "";
    }
    expect(text).toBe("still fine");
  });
});
