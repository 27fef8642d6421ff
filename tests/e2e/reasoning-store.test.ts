/**
 * Grok's reasoning kept for clients that never ask for thinking: through the real server with the
 * official SDK, against the fake xAI Responses upstream replaying the recorded grok-4.3 turns. A
 * tool loop, a streamed tool loop and a text turn give xAI back the exact encrypted reasoning of the
 * turn before, in place — on one instance (memory), and across two instances sharing a real
 * redis-server; an edited turn gets none. The log says how many items came back and whence; the
 * metrics count hits and misses; Redis holds digests and encrypted blobs, never text.
 */
import Anthropic from "@anthropic-ai/sdk";
import { RedisClient } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config";
import { toolUseId } from "../../src/dialects/ids";
import { sequence } from "../helpers/fake-upstream";
import { answer, fixtureJson, recordedStream } from "../helpers/fake-responses";
import { logText, resilience, type Gateway } from "../helpers/gateway";
import { parsePrometheus, valueOf } from "../helpers/prometheus";
import { RedisServer, redisBinary, serviceAvailable } from "../helpers/services";
import { clientFor, useFakeUpstream, useGateways } from "../helpers/setup";

const fake = useFakeUpstream();
const start = useGateways(fake);
const responses = (extra: Partial<Config> = {}): Partial<Config> => ({
  upstream: { baseUrl: fake.baseUrl, keys: ["xai-test-upstream-key"], api: "responses" },
  resilience: resilience(),
  ...extra,
});

const WEATHER = {
  name: "weather",
  description: "Gets current weather for a location",
  input_schema: {
    type: "object" as const,
    properties: { latitude: { type: "string", description: "Latitude (e.g., 52.5200)" }, longitude: { type: "string", description: "Longitude (e.g., 13.4050)" } },
    required: ["latitude", "longitude"],
  },
};
const BEST = { name: "best_language_to_learn", description: "Gets the best language to learn", input_schema: { type: "object" as const, properties: {} } };

/** The recorded next request, with the reasoning summaries the client never saw left out (the gateway keeps no text). */
const expectedInput = (name: string) =>
  fixtureJson(name).input.map((i: Record<string, unknown>) => (i.type === "reasoning" ? { ...i, summary: [] } : i));

/** The streamed tool loop of the recordings: turn one to `a`, turn two (with the result) to `b`. */
async function streamedToolLoop(a: Anthropic, b: Anthropic) {
  fake.on(sequence(recordedStream("rubyllm-grok-4.3-stream-tool-call.1.sse"), recordedStream("rubyllm-grok-4.3-stream-tool-call.2.sse")));
  const question = "What's the weather in Berlin? (52.5200, 13.4050)";
  const ask = { model: "grok-4.3", max_tokens: 512, tools: [WEATHER] };
  const first = await a.messages.stream({ ...ask, messages: [{ role: "user", content: question }] }).finalMessage();
  expect(first.content.map((x) => x.type)).toEqual(["tool_use"]); // no thinking block: none was asked for
  const call = first.content[0] as Anthropic.ToolUseBlock;
  await b.messages
    .stream({
      ...ask,
      messages: [
        { role: "user", content: question },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h" }] },
      ],
    })
    .finalMessage();
  return { first, sent: fake.requests[1]!.body };
}

/** The non-streamed tool loop of the recordings (two parallel calls). */
async function jsonToolLoop(a: Anthropic, b: Anthropic) {
  fake.on(sequence(() => Response.json(fixtureJson("rubyllm-grok-4.3-parallel-tool-calls.1.json")), () => Response.json(fixtureJson("rubyllm-grok-4.3-parallel-tool-calls.2.json"))));
  const recorded = fixtureJson("rubyllm-grok-4.3-parallel-tool-calls.2.request.json");
  const question = recorded.input[0].content as string;
  const ask = { model: "grok-4.3", max_tokens: 512, tools: [WEATHER, BEST] };
  const first = await a.messages.create({ ...ask, messages: [{ role: "user", content: question }] });
  expect(first.content.map((x) => x.type)).toEqual(["tool_use", "tool_use"]);
  const outputs = recorded.input.filter((i: any) => i.type === "function_call_output");
  await b.messages.create({
    ...ask,
    messages: [
      { role: "user", content: question },
      { role: "assistant", content: first.content },
      { role: "user", content: outputs.map((o: any) => ({ type: "tool_result" as const, tool_use_id: toolUseId(o.call_id), content: o.output })) },
    ],
  });
  return { first, sent: fake.requests[1]!.body };
}

/** A plain text turn (no tools), then the next user turn. */
async function textTurn(a: Anthropic, b: Anthropic, edit = (t: string) => t) {
  fake.on(sequence(answer({ reasoning: { pieces: ["Two plus ", "two."], encrypted: "ENC-TEXT/+=" }, text: ["It is ", "4."] }), answer({ text: ["Yes."] })));
  const ask = { model: "grok-4.3", max_tokens: 100 };
  const first = await a.messages.create({ ...ask, messages: [{ role: "user", content: "2+2?" }] });
  const text = (first.content[0] as Anthropic.TextBlock).text;
  expect(text).toBe("It is 4.");
  await b.messages.create({ ...ask, messages: [{ role: "user", content: "2+2?" }, { role: "assistant", content: edit(text) }, { role: "user", content: "Sure?" }] });
  return fake.requests[1]!.body;
}

describe("one instance (in memory)", () => {
  let gw: Gateway;
  let client: Anthropic;
  beforeAll(() => {
    gw = start(responses());
    client = clientFor(gw);
  });

  test("a streamed tool loop: the next request is the one xAI accepted, with the same encrypted reasoning in place", async () => {
    const { sent } = await streamedToolLoop(client, client);
    expect(JSON.stringify(sent.input)).toBe(JSON.stringify(expectedInput("rubyllm-grok-4.3-stream-tool-call.2.request.json")));
    const line = (await logText(gw.logFile, (t) => t.includes('"reasoning_from":"store"'))).split("\n").find((l) => l.includes('"reasoning_from":"store"'))!;
    expect(JSON.parse(line)).toMatchObject({ msg: "request", reasoning_restored: 1, reasoning_from: "store" });
  });

  test("a non-streamed tool loop with parallel calls: the same", async () => {
    const { sent } = await jsonToolLoop(client, client);
    expect(JSON.stringify(sent.input)).toBe(JSON.stringify(expectedInput("rubyllm-grok-4.3-parallel-tool-calls.2.request.json")));
  });

  test("a text turn: the reasoning goes back before the assistant's message; an edited turn gets none", async () => {
    const sent = await textTurn(client, client);
    expect(sent.input.slice(0, 3)).toEqual([
      { role: "user", content: "2+2?" },
      { type: "reasoning", summary: [], encrypted_content: "ENC-TEXT/+=" },
      { role: "assistant", content: [{ type: "output_text", text: "It is 4." }] },
    ]);
    fake.reset();
    const edited = await textTurn(client, client, () => "It is 5.");
    expect(edited.input.some((i: { type?: string }) => i.type === "reasoning")).toBe(false);
  });

  test("the metrics count the turns found and not found", async () => {
    const read = async () => parsePrometheus(await (await fetch(`${gw.url}/metrics`)).text());
    const before = await read();
    await textTurn(client, client);
    fake.reset();
    await textTurn(client, client, () => "Something else.");
    const after = await read();
    const delta = (result: string) => valueOf(after, "grok2api_reasoning_store_total", { result }) - valueOf(before, "grok2api_reasoning_store_total", { result });
    expect(delta("hit")).toBe(1);
    expect(delta("miss")).toBe(1);
    expect(delta("stored")).toBe(2);
  });

  test("thinking asked: the signature carries the reasoning and the store is not consulted", async () => {
    fake.on(sequence(recordedStream("rubyllm-grok-4.3-stream-tool-call.1.sse"), recordedStream("rubyllm-grok-4.3-stream-tool-call.2.sse")));
    const ask = { model: "grok-4.3", max_tokens: 512, tools: [WEATHER], thinking: { type: "adaptive" as const } };
    const question = "What's the weather in Berlin? (52.5200, 13.4050)";
    const first = await client.messages.stream({ ...ask, messages: [{ role: "user", content: question }] } as never).finalMessage();
    expect(first.content.map((x) => x.type)).toEqual(["thinking", "tool_use"]);
    const call = first.content[1] as Anthropic.ToolUseBlock;
    await client.messages
      .stream({
        ...ask,
        messages: [
          { role: "user", content: question },
          { role: "assistant", content: first.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h" }] },
        ],
      } as never)
      .finalMessage();
    // The summary the client saw goes back too: exactly the recorded request.
    expect(JSON.stringify(fake.requests[1]!.body.input)).toBe(JSON.stringify(fixtureJson("rubyllm-grok-4.3-stream-tool-call.2.request.json").input));
    const log = await logText(gw.logFile, (t) => t.includes('"reasoning_from":"signature"'));
    expect(log).toContain('"reasoning_from":"signature"');
  });
});

const binary = redisBinary();
const run = serviceAvailable("redis-server", binary);

describe.skipIf(!run)("two instances sharing a real redis-server", () => {
  let redis: RedisServer;
  let a: Anthropic;
  let b: Anthropic;
  beforeAll(async () => {
    redis = await RedisServer.start(binary!);
    const withRedis = () => responses({ reasoningStore: { maxBytes: 1 << 20, ttlMs: 60_000, redisUrl: redis.url } });
    a = clientFor(start(withRedis()));
    b = clientFor(start(withRedis()));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  test("turn one on one instance, turn two on the other: streamed and non-streamed tool loops, and a text turn", async () => {
    const streamed = await streamedToolLoop(a, b);
    expect(JSON.stringify(streamed.sent.input)).toBe(JSON.stringify(expectedInput("rubyllm-grok-4.3-stream-tool-call.2.request.json")));
    fake.reset();
    const json = await jsonToolLoop(b, a);
    expect(JSON.stringify(json.sent.input)).toBe(JSON.stringify(expectedInput("rubyllm-grok-4.3-parallel-tool-calls.2.request.json")));
    fake.reset();
    const text = await textTurn(a, b);
    expect(text.input[1]).toEqual({ type: "reasoning", summary: [], encrypted_content: "ENC-TEXT/+=" });
    fake.reset();
    const edited = await textTurn(b, a, () => "It is four.");
    expect(edited.input.some((i: { type?: string }) => i.type === "reasoning")).toBe(false);
  });

  test("Redis holds digests and xAI's encrypted blobs with a time to live, never prompt or answer text", async () => {
    await textTurn(a, b);
    const admin = new RedisClient(redis.url);
    try {
      const keys = (await admin.send("KEYS", ["grok2api:reasoning:*"])) as string[];
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) {
        const v = (await admin.get(k))!;
        expect(v).not.toContain("It is 4.");
        expect(v).not.toContain("2+2");
        expect(v).not.toContain("Berlin");
        expect(v).not.toContain("Two plus");
        const ttl = Number(await admin.send("PTTL", [k]));
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }
      expect(keys.some((k) => k.includes("It is"))).toBe(false);
    } finally {
      admin.close();
    }
  });
});
