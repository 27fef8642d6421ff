/**
 * /v1/messages through the real server with the official SDK, against a fake xAI that speaks
 * the Responses API exactly as the recordings do (tests/helpers/fake-responses.ts).
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { REASONING_PREFIX } from "../../src/dialects/signature";
import { sequence, sseResponse, within } from "../helpers/fake-upstream";
import { answer, fixture, fixtureJson, recordedStream, responsesSse, scriptEvents, scriptJson, scriptStream, xaiError } from "../helpers/fake-responses";
import { logText, parseSSE } from "../helpers/gateway";
import { useResponsesGateway } from "../helpers/setup";
import { checkFrames } from "../helpers/sse-grammar";

const h = useResponsesGateway();
const WEATHER = {
  name: "weather",
  description: "Gets current weather for a location",
  input_schema: {
    type: "object" as const,
    properties: { latitude: { type: "string", description: "Latitude (e.g., 52.5200)" }, longitude: { type: "string", description: "Longitude (e.g., 13.4050)" } },
    required: ["latitude", "longitude"],
  },
};
const ask = { model: "grok-4.3", max_tokens: 512, messages: [{ role: "user" as const, content: "Count from 1 to 3" }] };
/** The same request with thinking enabled: only then are Grok's reasoning summaries shown, signed. */
const thinking = { thinking: { type: "adaptive" as const } };

async function raw(body: Record<string, unknown>) {
  const res = await fetch(`${h.gw.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "test", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe("plain answers", () => {
  test("non-streaming: POST /v1/responses with store:false and encrypted reasoning asked for; no thinking block unless thinking is enabled", async () => {
    const s = { reasoning: { pieces: ["The user ", "asked."], encrypted: "ENC/+=" }, text: ["1, 2, ", "3."], usage: { input: 199, cached: 150, output: 160 } };
    h.fake.on(answer(s));
    const plain = await h.client.messages.create(ask);
    expect(plain.content).toEqual([{ type: "text", text: "1, 2, 3." }] as never);
    expect(plain.usage.output_tokens).toBe(160); // the reasoning is output, shown or not
    h.fake.on(answer(s));
    const msg = (await h.client.messages.create({ ...ask, ...thinking, stop_sequences: [], temperature: 0.5, top_k: 3, metadata: { user_id: "u" } } as never)) as Anthropic.Message;
    expect(msg.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect((msg.content[0] as Anthropic.ThinkingBlock).signature.startsWith(REASONING_PREFIX)).toBe(true);
    expect((msg.content[1] as Anthropic.TextBlock).text).toBe("1, 2, 3.");
    expect(msg.usage).toMatchObject({ input_tokens: 49, output_tokens: 160, cache_read_input_tokens: 150 });
    const sent = h.fake.last;
    expect(sent.path).toBe("/v1/responses");
    expect(sent.body).toMatchObject({ model: "grok-4.3", store: false, include: ["reasoning.encrypted_content"], max_output_tokens: 512, temperature: 0.5 });
    for (const k of ["stop", "top_k", "metadata", "stream", "messages", "max_completion_tokens"]) expect(k in sent.body).toBe(false);
  });

  test("streaming: the recorded text stream, through the SDK and as raw frames that follow the grammar", async () => {
    h.fake.on(recordedStream("rubyllm-grok-4.3-stream-text.sse"));
    const plain = await h.client.messages.stream(ask).finalMessage();
    expect(plain.content).toEqual([{ type: "text", text: "1, 2, 3." }] as never);
    h.fake.on(recordedStream("rubyllm-grok-4.3-stream-text.sse"));
    const final = await h.client.messages.stream({ ...ask, ...thinking }).finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect((final.content[1] as Anthropic.TextBlock).text).toBe("1, 2, 3.");
    expect(h.fake.last.body.stream).toBe(true);
    for (const body of [{ ...ask, stream: true }, { ...ask, ...thinking, stream: true }]) {
      h.fake.on(recordedStream("rubyllm-grok-4.3-stream-text.sse"));
      const frames = parseSSE((await raw(body)).text);
      checkFrames(frames);
      const starts = frames.filter((f) => f.event === "content_block_start").map((f) => f.data.content_block.type);
      expect(starts).toEqual("thinking" in body ? ["thinking", "text"] : ["text"]);
    }
    h.fake.on(recordedStream("rubyllm-grok-4.3-stream-text.sse"));
    const r = await raw({ ...ask, stream: true });
    expect(r.status).toBe(200);
    const frames = parseSSE(r.text);
    checkFrames(frames);
    expect(frames.at(-1)!.event).toBe("message_stop");
    expect(frames[0]!.data.message.usage.input_tokens).toBeGreaterThan(0);
  });

  test("response.incomplete (max_output_tokens) → stop_reason max_tokens, stream and not", async () => {
    const s = { text: ["Once"], status: "incomplete" as const };
    h.fake.on(answer(s));
    expect((await h.client.messages.create(ask)).stop_reason).toBe("max_tokens");
    h.fake.on(answer(s));
    expect((await h.client.messages.stream(ask).finalMessage()).stop_reason).toBe("max_tokens");
  });

  test("structured output reaches xAI as text.format; an unsupported format is a 400 that says so", async () => {
    h.fake.on(answer({ text: ['{"a":"b"}'] }));
    const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false };
    await h.client.messages.create({ ...ask, output_config: { format: { type: "json_schema", schema } } } as never);
    expect(h.fake.last.body.text).toEqual({ format: { type: "json_schema", name: "output", schema, strict: true } });
    h.fake.reset();
    const r = await raw({ ...ask, output_config: { format: { type: "grammar" } } });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toMatchObject({ type: "invalid_request_error" });
    expect(JSON.parse(r.text).error.message).toContain("not supported");
    expect(h.fake.requests).toHaveLength(0);
  });

  test("stop sequences are watched by the gateway: Responses gets no stop", async () => {
    h.fake.on(() => scriptStream({ text: ["alpha ", "beta END gamma"] }));
    const msg = await h.client.messages.create({ ...ask, stop_sequences: ["END"] });
    expect(msg.stop_reason).toBe("stop_sequence");
    expect((msg.content[0] as Anthropic.TextBlock).text).toBe("alpha beta ");
    expect("stop" in h.fake.last.body).toBe(false);
  });
});

describe("streamed tool calls", () => {
  test("arguments split over several deltas: one tool_use, signature after the thinking deltas, grammar holds", async () => {
    const s = { reasoning: { pieces: ["Run ", "it."], encrypted: "E1" }, calls: [{ name: "Bash", args: ['{"comm', 'and":"l', 's"}'] }] };
    h.fake.on(() => scriptStream(s));
    const final = await h.client.messages.stream({ ...ask, ...thinking, tools: [{ name: "Bash", input_schema: { type: "object" } }] }).finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content[1]).toMatchObject({ type: "tool_use", name: "Bash", input: { command: "ls" } });
    h.fake.on(() => scriptStream(s));
    const frames = parseSSE((await raw({ ...ask, ...thinking, stream: true, tools: [{ name: "Bash", input_schema: { type: "object" } }] })).text);
    checkFrames(frames);
    const deltas = frames.filter((f) => f.event === "content_block_delta").map((f) => f.data.delta.type);
    expect(deltas).toEqual(["thinking_delta", "thinking_delta", "signature_delta", "input_json_delta"]);
    // Thinking not asked: the tool call is block 0, nothing else is sent.
    h.fake.on(() => scriptStream(s));
    const plain = parseSSE((await raw({ ...ask, stream: true, tools: [{ name: "Bash", input_schema: { type: "object" } }] })).text);
    checkFrames(plain);
    expect(plain.filter((f) => f.event === "content_block_delta").map((f) => f.data.delta.type)).toEqual(["input_json_delta"]);
    expect(plain.find((f) => f.event === "content_block_start")!.data).toMatchObject({ index: 0, content_block: { type: "tool_use", name: "Bash" } });
  });
});

describe("a multi-turn tool conversation", () => {
  test("the second upstream request replays the reasoning item and the exact call_id, byte for byte as xAI accepted", async () => {
    h.fake.on(sequence(recordedStream("rubyllm-grok-4.3-stream-tool-call.1.sse"), recordedStream("rubyllm-grok-4.3-stream-tool-call.2.sse")));
    const first = await h.client.messages
      .stream({ ...ask, ...thinking, messages: [{ role: "user", content: "What's the weather in Berlin? (52.5200, 13.4050)" }], tools: [WEATHER] })
      .finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    const call = first.content.find((b) => b.type === "tool_use") as Anthropic.ToolUseBlock;
    expect(call.id).toBe("toolu_call-5386e269-cd64-432e-aa64-5c80dd4e0286-0");
    const second = await h.client.messages
      .stream({
        ...ask,
        ...thinking,
        tools: [WEATHER],
        messages: [
          { role: "user", content: "What's the weather in Berlin? (52.5200, 13.4050)" },
          { role: "assistant", content: first.content },
          { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h" }] },
        ],
      })
      .finalMessage();
    expect(second.stop_reason).toBe("end_turn");
    expect(second.content.at(-1)!.type).toBe("text");
    const recorded = fixtureJson("rubyllm-grok-4.3-stream-tool-call.2.request.json");
    const sent = h.fake.requests[1]!.body;
    expect(JSON.stringify(sent.input)).toBe(JSON.stringify(recorded.input));
    expect(sent.input[2].call_id).toBe("call-5386e269-cd64-432e-aa64-5c80dd4e0286-0");
  });

  test("xAI's 400 'Could not decrypt' is retried once without the encrypted content, summary kept, and logged", async () => {
    h.fake.on(recordedStream("rubyllm-grok-4.3-stream-tool-call.1.sse"));
    const first = await h.client.messages.stream({ ...ask, ...thinking, tools: [WEATHER] }).finalMessage();
    const call = first.content.find((b) => b.type === "tool_use") as Anthropic.ToolUseBlock;
    h.fake.reset();
    h.fake.on(sequence(() => xaiError(400, "Could not decrypt the provided encrypted_content. Ensure the value is unmodified.", "Client specified an invalid argument"), answer({ text: ["15°C."] })));
    const msg = await h.client.messages.create({
      ...ask,
      ...thinking,
      tools: [WEATHER],
      messages: [ask.messages[0]!, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "15°C" }] }],
    });
    expect((msg.content[0] as Anthropic.TextBlock).text).toBe("15°C.");
    expect(h.fake.requests).toHaveLength(2);
    expect(h.fake.requests[0]!.body.input[1].encrypted_content).toBeString();
    expect(h.fake.requests[1]!.body.input[1]).toEqual({ type: "reasoning", summary: [{ type: "summary_text", text: (first.content[0] as Anthropic.ThinkingBlock).thinking }] });
    expect(await logText(h.gw.logFile, (t) => t.includes("replayed reasoning"))).toContain("replayed reasoning");
  });
});

describe("the client's side", () => {
  test("a thinking block signed by Anthropic (or a hash-only grok2api.v1 one) never reaches xAI", async () => {
    h.fake.on(answer({ text: ["ok"] }));
    await h.client.messages.create({
      ...ask,
      messages: [
        { role: "user", content: "hi" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "anthropic's private thoughts", signature: "EqQBCkYIBxgCKkBeT0+ZGpWn4x/anthropic==" },
            { type: "thinking", thinking: "old chat-path thoughts", signature: "grok2api.v1.abc" },
            { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4a" },
            { type: "text", text: "hello" },
          ],
        },
        { role: "user", content: "again" },
      ],
    });
    const sent = JSON.stringify(h.fake.last.body);
    for (const secret of ["private thoughts", "chat-path thoughts", "EqQBCkYI", "EmwKAhgB", "grok2api.v1"]) expect(sent).not.toContain(secret);
    expect(h.fake.last.body.input).toEqual([
      { role: "user", content: "hi" },
      { role: "assistant", content: [{ type: "output_text", text: "hello" }] },
      { role: "user", content: "again" },
    ]);
  });

  test("a client that goes away mid-stream aborts the upstream request", async () => {
    const events = scriptEvents({ text: ["one ", "two"] });
    h.fake.on(() => sseResponse(responsesSse(events.slice(0, 6)), { hang: true }));
    const abort = new AbortController();
    const res = await fetch(`${h.gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k" },
      body: JSON.stringify({ ...ask, stream: true }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the stream has started
    abort.abort();
    expect(await within(h.fake.last.closed, 5000)).toBe(true);
    expect(h.fake.last.aborted()).toBe(true);
  });
});

describe("upstream errors", () => {
  test("xAI's {code, error} bodies reach the client in the Anthropic envelope with the upstream's words; 410 keeps its status", async () => {
    h.fake.on(() => xaiError(410, "Live search is deprecated. Please switch to the Agent Tools API.", "Gone"));
    const r = await raw(ask);
    expect(r.status).toBe(410);
    const body = JSON.parse(r.text);
    expect(body.type).toBe("error");
    expect(body.error.message).toContain("Live search is deprecated");
  });

  test("400 'Incorrect API key' takes the key out of the pool and is never retried with it", async () => {
    h.fake.on(() => new Response(fixture("rubyllm-grok-4.3-error-invalid-api-key.json"), { status: 400, headers: { "content-type": "application/json" } }));
    const r = await raw(ask);
    expect(r.status).not.toBe(500);
    expect(JSON.parse(r.text).error.message).toContain("Incorrect API key provided");
    expect(h.fake.requests).toHaveLength(1);
    expect(await logText(h.gw.logFile, (t) => t.includes("rejected"))).toContain("upstream rejected");
  });

  test("429 is retried after the upstream's retry-after", async () => {
    h.fake.on(sequence(() => Response.json({ code: "resource-exhausted", error: "Too many requests" }, { status: 429, headers: { "retry-after-ms": "5" } }), answer({ text: ["ok"] })));
    const msg = await h.client.messages.create(ask);
    expect((msg.content[0] as Anthropic.TextBlock).text).toBe("ok");
    expect(h.fake.requests).toHaveLength(2);
  });

  test("an error event before response.created ends the stream with event: error", async () => {
    h.fake.on(() => sseResponse(`event: error\ndata: ${JSON.stringify({ sequence_number: 0, type: "error", code: "internal_error", message: "backend unavailable" })}\n\n`));
    const r = await raw({ ...ask, stream: true });
    const frames = parseSSE(r.text);
    expect(frames.at(-1)!.event).toBe("error");
    expect(frames.at(-1)!.data.error.message).toContain("backend unavailable");
    expect(frames.some((f) => f.event === "message_stop")).toBe(false);
  });

  test("response.failed mid-stream ends the stream with event: error and the upstream's words", async () => {
    const events = scriptEvents({ text: ["partial "] }).slice(0, -1);
    events.push({ type: "response.failed", response: { status: "failed", error: { code: "internal", message: "the model crashed" } } });
    h.fake.on(() => sseResponse(responsesSse(events)));
    const r = await raw({ ...ask, stream: true });
    const frames = parseSSE(r.text);
    expect(frames.at(-1)!.event).toBe("error");
    expect(frames.at(-1)!.data.error.message).toContain("the model crashed");
    await expect(
      (async () => {
        h.fake.on(() => sseResponse(responsesSse(events)));
        await h.client.messages.stream(ask).finalMessage();
      })(),
    ).rejects.toThrow(/the model crashed/);
  });

  test("a stream that ends without response.completed is an error, not a silent cut", async () => {
    h.fake.on(() => sseResponse(responsesSse(scriptEvents({ text: ["half"] }).slice(0, -1))));
    const frames = parseSSE((await raw({ ...ask, stream: true })).text);
    expect(frames.at(-1)!.event).toBe("error");
  });

  test("a 200 whose body is broken is a 502 api_error with a plain message, never a 500", async () => {
    const good = JSON.stringify(await scriptJson({ text: ["x"] }).json());
    const bodies: Array<() => Response> = [
      () => new Response(good.slice(0, good.length / 2), { headers: { "content-type": "application/json" } }),
      () => new Response("", { headers: { "content-type": "application/json" } }),
      () => Response.json(null),
      () => Response.json({ ...JSON.parse(good), usage: { input_tokens: "12", output_tokens: 3 } }),
      () => Response.json({ ...JSON.parse(good), output: "nope" }),
      () => {
        const stream = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode(good.slice(0, 40)));
            setTimeout(() => c.error(new Error("connection reset")), 5);
          },
        });
        return new Response(stream, { headers: { "content-type": "application/json" } });
      },
    ];
    for (const body of bodies) {
      h.fake.on(body);
      const r = await raw(ask);
      expect(r.status).toBe(502);
      const e = JSON.parse(r.text).error;
      expect(e.type).toBe("api_error");
      expect(e.message).toMatch(/^the upstream /);
    }
  });
});
