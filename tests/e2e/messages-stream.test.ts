/**
 * Streaming through the real server with the official SDK (messages.stream and its
 * finalMessage()) and as raw SSE: the event grammar and each item of the peers' bug list.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { isOurSignature } from "../../src/dialects/signature";
import { chunk, completion, sseResponse, sseText, streamOf, usage, usageChunk } from "../helpers/fake-upstream";
import { parseSSE } from "../helpers/gateway";
import { byteByByte, randomSplit, rng } from "../helpers/random";
import { useGateway } from "../helpers/setup";
import { checkFrames, type RawEvent } from "../helpers/sse-grammar";

const h = useGateway();

const ask = { model: "grok-4.3", max_tokens: 512, messages: [{ role: "user" as const, content: "Go." }] };
const call = (index: number, id: string | undefined, name: string | undefined, args: string) => ({
  index,
  ...(id ? { id, type: "function" } : {}),
  function: { ...(name ? { name } : {}), arguments: args },
});
const tools = (...calls: unknown[]) => chunk({ tool_calls: calls });
/** Thinking enabled on the request: only then is the upstream's reasoning shown (as signed thinking blocks). */
const thinking = { thinking: { type: "enabled", budget_tokens: 2048 } };

async function raw(body: Record<string, unknown>): Promise<RawEvent[]> {
  const res = await fetch(`${h.gw.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "test", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ ...ask, stream: true, ...body }),
  });
  expect(res.status).toBe(200);
  return parseSSE(await res.text());
}

/** Both views of one scripted upstream stream: the SDK's final message, and the raw frames (grammar-checked). */
async function both(chunksOrPieces: unknown[] | Uint8Array[], body: Record<string, unknown> = {}) {
  const respond = () =>
    chunksOrPieces[0] instanceof Uint8Array ? sseResponse(chunksOrPieces as Uint8Array[]) : streamOf(chunksOrPieces as unknown[]);
  h.fake.on(respond);
  const final = await h.client.messages.stream({ ...ask, ...body } as never).finalMessage();
  h.fake.on(respond);
  const frames = await raw(body);
  checkFrames(frames);
  return { final, frames };
}

describe("event grammar", () => {
  test("every frame is named for its data; indices 0..n-1; start payloads; signed thinking; nothing after message_delta but message_stop", async () => {
    const chunks = [
      chunk({ role: "assistant", reasoning_content: "Plan: " }),
      chunk({ reasoning_content: "answer, then call." }),
      chunk({ content: "Here." }),
      tools(call(0, "call_1", "f", "{}")),
      chunk({}, "tool_calls"),
      usageChunk(usage(12, 5, { reasoning: 9 })),
    ];
    // Thinking not enabled: the reasoning is not shown, and the indices still run 0..n-1.
    const plain = await both(chunks);
    expect(plain.frames.filter((f) => f.event === "content_block_start").map((f) => [f.data.index, f.data.content_block.type])).toEqual([
      [0, "text"],
      [1, "tool_use"],
    ]);
    expect(plain.final.usage.output_tokens).toBe(14); // 5 completion + 9 reasoning: output whether shown or not
    const { frames } = await both(chunks, thinking);
    const types = frames.map((f) => f.event);
    expect(types[0]).toBe("message_start");
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);
    const starts = frames.filter((f) => f.event === "content_block_start").map((f) => f.data);
    expect(starts.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(starts.map((s) => s.content_block)).toEqual([
      { type: "thinking", thinking: "", signature: "" },
      { type: "text", text: "" },
      { type: "tool_use", id: "toolu_call_1", name: "f", input: {} },
    ]);
    const sig = frames.find((f) => f.data.delta?.type === "signature_delta")!.data.delta.signature;
    expect(isOurSignature(sig)).toBe(true);
    expect(frames[0]!.data.message.usage.input_tokens).toBeGreaterThan(0);
  });

  test("the grammar checker itself rejects broken streams (so the checks above can fail)", () => {
    const start = { event: "message_start", data: { type: "message_start", message: { content: [], stop_reason: null, usage: { input_tokens: 1 } } } };
    const end = [
      { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 1 } } },
      { event: "message_stop", data: { type: "message_stop" } },
    ];
    const bs = (index: number, content_block: unknown) => ({ event: "content_block_start", data: { type: "content_block_start", index, content_block } });
    const stop = (index: number) => ({ event: "content_block_stop", data: { type: "content_block_stop", index } });
    expect(() => checkFrames([start, bs(1, { type: "text", text: "" }), stop(1), ...end])).toThrow(/expected 0/);
    expect(() => checkFrames([start, bs(0, { type: "thinking", thinking: "" }), stop(0), ...end])).toThrow(/thinking start/);
    expect(() => checkFrames([start, bs(0, { type: "thinking", thinking: "", signature: "" }), stop(0), ...end])).toThrow(/without a signature/);
    expect(() => checkFrames([start, bs(0, { type: "tool_use", id: "toolu_x", name: "f", input: { a: 1 } }), stop(0), ...end])).toThrow(/input is not/);
    expect(() => checkFrames([start, ...end, { event: "ping", data: { type: "ping" } }])).toThrow(/follows message_delta/);
    expect(() => checkFrames([{ event: null, data: start.data }, ...end])).toThrow(/no event: line/);
  });
});

describe("the peers' bug list, through the server", () => {
  test("a whole tool call in one chunk (xAI) loses nothing", async () => {
    const { final } = await both([tools(call(0, "call_9", "weather", '{"location":"San Francisco"}')), chunk({}, "tool_calls"), usageChunk()]);
    expect(final.content as unknown).toEqual([{ type: "tool_use", id: "toolu_call_9", name: "weather", input: { location: "San Francisco" } }]);
    expect(final.stop_reason).toBe("tool_use");
  });

  test("1-byte argument fragments with escaped quotes and multi-byte UTF-8, wire split byte by byte", async () => {
    const input = { cmd: 'echo "héllo" > \\tmp\\日本.txt', emoji: "🌍🚀", quote: '\\"' };
    const args = JSON.stringify(input);
    const chunks: unknown[] = [tools(call(0, "call_u", "bash", ""))];
    for (const ch of args) chunks.push(tools(call(0, undefined, undefined, ch)));
    chunks.push(chunk({}, "tool_calls"), usageChunk());
    const wire = new TextEncoder().encode(sseText(chunks));
    const { final } = await both(byteByByte(wire));
    expect(final.content as unknown).toEqual([{ type: "tool_use", id: "toolu_call_u", name: "bash", input }]);
  });

  test("several tool calls, several in one chunk, separate blocks with increasing indices", async () => {
    const { final, frames } = await both([
      chunk({ content: "Both:" }),
      tools(call(0, "call_a", "weather", '{"city":"Paris"}'), call(1, "call_b", "weather", '{"city":')),
      tools(call(1, undefined, undefined, '"Rome"}'), call(2, "call_c", "time", "")),
      chunk({}, "tool_calls"),
      usageChunk(),
    ]);
    expect(frames.filter((f) => f.event === "content_block_start").map((f) => [f.data.index, f.data.content_block.type])).toEqual([
      [0, "text"],
      [1, "tool_use"],
      [2, "tool_use"],
      [3, "tool_use"],
    ]);
    expect(final.content.slice(1) as unknown).toEqual([
      { type: "tool_use", id: "toolu_call_a", name: "weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_call_b", name: "weather", input: { city: "Rome" } },
      { type: "tool_use", id: "toolu_call_c", name: "time", input: {} },
    ]);
  });

  test("text → thinking → text → tool_use switches; a chunk with reasoning and content is split right", async () => {
    const chunks = [
      chunk({ content: "A" }),
      chunk({ reasoning_content: "think", content: "B" }),
      chunk({ reasoning_content: "more" }),
      chunk({ content: "C" }),
      tools(call(0, "call_1", "f", '{"x":1}')),
      chunk({}, "tool_calls"),
    ];
    // Without thinking the text is one block: nothing in between was shown.
    expect((await both(chunks)).final.content.map((b) => (b.type === "text" ? b.text : b.type))).toEqual(["ABC", "tool_use"]);
    const { final } = await both(chunks, thinking);
    expect(final.content.map((b) => b.type)).toEqual(["text", "thinking", "text", "thinking", "text", "tool_use"]);
    expect(final.content.map((b) => (b.type === "text" ? b.text : b.type === "thinking" ? b.thinking : (b as { name: string }).name))).toEqual([
      "A",
      "think",
      "B",
      "more",
      "C",
      "f",
    ]);
    for (const b of final.content) if (b.type === "thinking") expect(isOurSignature(b.signature)).toBe(true);
  });

  test("empty arguments give input {}", async () => {
    const { final } = await both([tools(call(0, "call_e", "now", "")), chunk({}, "tool_calls")]);
    expect(final.content as unknown).toEqual([{ type: "tool_use", id: "toolu_call_e", name: "now", input: {} }]);
  });

  test("broken JSON arguments are repaired", async () => {
    const { final, frames } = await both([tools(call(0, "call_r", "edit", '{"file": "a.ts", "lines": [1, 2')), chunk({}, "tool_calls")]);
    expect(final.content as unknown).toEqual([{ type: "tool_use", id: "toolu_call_r", name: "edit", input: { file: "a.ts", lines: [1, 2] } }]);
    const json = frames.filter((f) => f.data.delta?.type === "input_json_delta").map((f) => f.data.delta.partial_json).join("");
    expect(JSON.parse(json)).toEqual({ file: "a.ts", lines: [1, 2] });
  });

  test("unrepairable arguments are reported as an error event, never passed through", async () => {
    const script = () => streamOf([chunk({ content: "Calling." }), tools(call(0, "call_z", "edit", "[1,2]")), chunk({}, "tool_calls")]);
    h.fake.on(script);
    const err = await h.client.messages
      .stream(ask)
      .finalMessage()
      .catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String(err.message)).toContain("not valid JSON");
    h.fake.on(script);
    const frames = await raw({});
    const last = frames.at(-1)!;
    expect(last.event).toBe("error");
    expect(last.data).toEqual({ type: "error", error: { type: "api_error", message: expect.stringContaining('tool "edit"') } });
    expect(frames.some((f) => f.data.delta?.type === "input_json_delta")).toBe(false);
  });
});

describe("stop reasons and usage", () => {
  test("content_filter → refusal; tool_calls without tool blocks → end_turn; length → max_tokens", async () => {
    for (const [finish, expected] of [
      ["content_filter", "refusal"],
      ["tool_calls", "end_turn"],
      ["length", "max_tokens"],
      ["stop", "end_turn"],
    ] as const) {
      const { final } = await both([chunk({ content: "partial" }), chunk({}, finish), usageChunk()]);
      expect(final.stop_reason).toBe(expected);
    }
  });

  test("message_start has a local estimate; message_delta the exact numbers, cached tokens apart", async () => {
    const { final, frames } = await both([chunk({ reasoning_content: "r" }), chunk({ content: "hi" }), chunk({}, "stop"), usageChunk(usage(1200, 40, { cached: 1000, reasoning: 60 }))]);
    const startUsage = frames[0]!.data.message.usage;
    expect(startUsage.input_tokens).toBeGreaterThan(0);
    expect(startUsage.output_tokens).toBe(1);
    const delta = frames.find((f) => f.event === "message_delta")!.data;
    expect(delta.usage).toEqual({ input_tokens: 200, output_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000 });
    expect(final.usage).toMatchObject({ input_tokens: 200, output_tokens: 100, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000 });
  });

  test("stop_sequences: the matched one is named, text is cut, the upstream never sees `stop`", async () => {
    const { final } = await both([chunk({ content: "one two ST" }), chunk({ content: "OP three" }), chunk({}, "stop")], { stop_sequences: ["STOP"] });
    expect(final.content as unknown).toEqual([{ type: "text", text: "one two " }]);
    expect(final.stop_reason).toBe("stop_sequence");
    expect(final.stop_sequence).toBe("STOP");
    for (const r of h.fake.requests) {
      expect(r.body.stop).toBeUndefined();
      expect(r.body.presence_penalty).toBeUndefined();
      expect(r.body.frequency_penalty).toBeUndefined();
    }
  });
});

describe("random splits through the server", () => {
  test("a mixed stream split at random byte boundaries gives the same final message each time", async () => {
    const chunks = [
      chunk({ role: "assistant", reasoning_content: "Ünïcödé 🌍 \"quoted\" \\ back" }),
      chunk({ content: "Answer: 日本語 — done.\n" }),
      tools(call(0, "call_p", "write", '{"path":"/tmp/ü.txt","body":"line1\\nline2 \\"q\\""}'), call(1, "call_q", "noop", "")),
      chunk({}, "tool_calls"),
      usageChunk(usage(50, 10, { cached: 5 })),
    ];
    const wire = new TextEncoder().encode(sseText(chunks));
    h.fake.on(() => streamOf(chunks));
    const reference = await h.client.messages.stream(ask).finalMessage();
    const r = rng(4242);
    for (let i = 0; i < 8; i++) {
      h.fake.on(() => sseResponse(randomSplit(wire, r, 40)));
      const final = await h.client.messages.stream(ask).finalMessage();
      expect({ ...final, id: "" }).toEqual({ ...reference, id: "" });
    }
  });
});

describe("non-streaming answers", () => {
  test("messages.create: thinking, text and tool calls from one completion", async () => {
    h.fake.on(() =>
      Response.json(
        completion(
          {
            content: "Checking.",
            reasoning_content: "Need weather.",
            tool_calls: [{ id: "call_w", type: "function", function: { name: "weather", arguments: '{"city":"Lima"}' } }],
          },
          "tool_calls",
          usage(100, 10, { cached: 60, reasoning: 20 }),
        ),
      ),
    );
    const plain = await h.client.messages.create(ask);
    expect(plain.content.map((b) => b.type)).toEqual(["text", "tool_use"]);
    expect(plain.usage.output_tokens).toBe(30); // 10 completion + 20 reasoning, shown or not
    const msg = await h.client.messages.create({ ...ask, ...thinking } as never);
    expect(msg.content.map((b) => b.type)).toEqual(["thinking", "text", "tool_use"]);
    expect(msg.content[2] as unknown).toEqual({ type: "tool_use", id: "toolu_call_w", name: "weather", input: { city: "Lima" } });
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.usage).toMatchObject({ input_tokens: 40, output_tokens: 30, cache_read_input_tokens: 60, cache_creation_input_tokens: 0 });
    expect(h.fake.last.body.stream).toBeUndefined();
  });

  test("messages.create with stop_sequences is served from an upstream stream", async () => {
    h.fake.on((req) => (req.body.stream ? streamOf([chunk({ content: "abc END def" }), chunk({}, "stop")]) : Response.json(completion({ content: "wrong path" }))));
    const msg = await h.client.messages.create({ ...ask, stop_sequences: ["END"] });
    expect(msg.content as unknown).toEqual([{ type: "text", text: "abc " }]);
    expect(msg.stop_reason).toBe("stop_sequence");
    expect(msg.stop_sequence).toBe("END");
  });

  test("unrepairable tool arguments in a completion are a 502 in the Anthropic envelope", async () => {
    h.fake.on(() => Response.json(completion({ content: "", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "[]" } }] }, "tool_calls")));
    const err = await h.client.messages.create(ask).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(502);
    expect(err.error).toMatchObject({ type: "error", error: { type: "api_error" } });
  });
});
