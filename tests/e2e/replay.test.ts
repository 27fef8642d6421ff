/**
 * Recorded real xAI streams (tests/fixtures, from the Vercel AI SDK) replayed through
 * the translator and through the real server: split anywhere, the message is the same.
 */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AnthropicMessage } from "../../src/anthropic/schema";
import { signThinking } from "../../src/dialects/signature";
import { sseResponse } from "../helpers/fake-upstream";
import { parseSSE } from "../helpers/gateway";
import { byteByByte, randomSplit, rng } from "../helpers/random";
import { useGateway } from "../helpers/setup";
import { assemble, checkFrames } from "../helpers/sse-grammar";
import { enc, translatePieces } from "../helpers/translate";

const fixture = (name: string) => readFileSync(join(import.meta.dir, "..", "fixtures", name), "utf8");
const lines = (name: string) => fixture(name).split("\n").filter((l) => l.trim());
const wireOf = (name: string) => enc.encode(lines(name).map((l) => `data: ${l}\n\n`).join("") + "data: [DONE]\n\n");
const reasoningOf = (name: string) =>
  lines(name)
    .map((l) => JSON.parse(l).choices?.[0]?.delta?.reasoning_content ?? "")
    .join("");

const TEXT = "xai-text.chunks.txt";
const TOOL = "xai-tool-call.chunks.txt";

/** The wire fields of a message, without its (random) id; the SDK adds fields of its own. */
const fields = (m: AnthropicMessage) => ({
  type: m.type,
  role: m.role,
  model: m.model,
  content: m.content,
  stop_reason: m.stop_reason,
  stop_sequence: m.stop_sequence,
  usage: m.usage,
});

describe("replay through the translator", () => {
  test("the fixtures are the recorded files, byte for byte (no editor touched them)", () => {
    const sha = (name: string) => createHash("sha256").update(readFileSync(join(import.meta.dir, "..", "fixtures", name))).digest("hex");
    expect(sha(TEXT)).toBe("d8aa31e70fe813b2596df9a6275819bf9eec822f0e54b06f4506dee1be6399a4");
    expect(sha(TOOL)).toBe("aa37181ad333e81ca2febe35eb7aabf0f06e9bf55f3cf5ad0054a4c0a6e463a8");
    expect(lines(TEXT).length).toBe(344);
    expect(lines(TOOL).length).toBe(230);
  });

  test("xai-text: signed thinking, then the text; usage from the last chunk", () => {
    const msg = assemble(translatePieces([wireOf(TEXT)]));
    const reasoning = reasoningOf(TEXT);
    expect(reasoning.startsWith('First, the user said: "Say a single word."')).toBe(true);
    expect(msg.content).toEqual([
      { type: "thinking", thinking: reasoning, signature: signThinking(reasoning) },
      { type: "text", text: "Grok" },
    ]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.stop_sequence).toBeNull();
    // prompt 12 (11 cached), completion 2, reasoning 340 outside completion (total 354).
    expect(msg.usage).toEqual({ input_tokens: 1, output_tokens: 342, cache_creation_input_tokens: 0, cache_read_input_tokens: 11 });
  });

  test("xai-tool-call: signed thinking, then the whole tool call from one chunk", () => {
    const msg = assemble(translatePieces([wireOf(TOOL)]));
    const reasoning = reasoningOf(TOOL);
    expect(msg.content).toEqual([
      { type: "thinking", thinking: reasoning, signature: signThinking(reasoning) },
      { type: "tool_use", id: "toolu_call_79382389", name: "weather", input: { location: "San Francisco" } },
    ]);
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.usage).toEqual({ input_tokens: 1, output_tokens: 253, cache_creation_input_tokens: 0, cache_read_input_tokens: 306 });
  });

  for (const name of [TEXT, TOOL]) {
    test(`${name}: random chunk boundaries (and one byte at a time) give the same message`, () => {
      const wire = wireOf(name);
      const whole = assemble(translatePieces([wire]));
      const r = rng(20260611);
      for (let i = 0; i < 60; i++) {
        expect(assemble(translatePieces(randomSplit(wire, r, 1 + (i % 12) * 40)))).toEqual(whole);
      }
      expect(assemble(translatePieces(byteByByte(wire)))).toEqual(whole);
    });
  }
});

describe("replay through the server", () => {
  const h = useGateway();

  // Thinking enabled: the recorded reasoning is shown (signed), as the translator tests above show it.
  const ask = { model: "grok-3-mini", max_tokens: 1024, thinking: { type: "adaptive" as const }, messages: [{ role: "user" as const, content: "Say a single word." }] };

  for (const name of [TEXT, TOOL]) {
    test(`${name}: messages.stream().finalMessage() over a randomly split upstream equals the unsplit translation`, async () => {
      const wire = wireOf(name);
      const expected = fields(assemble(translatePieces([wire])));
      const r = rng(name.length);
      for (let i = 0; i < 3; i++) {
        h.fake.on(() => sseResponse(randomSplit(wire, r, 200)));
        const final = await h.client.messages.stream(ask).finalMessage();
        expect(final.id).toMatch(/^msg_/);
        expect(fields(final as unknown as AnthropicMessage)).toEqual({ ...expected, model: "grok-3-mini" });
      }
    });

    test(`${name}: the raw SSE keeps the grammar`, async () => {
      h.fake.on(() => sseResponse(randomSplit(wireOf(name), rng(7), 300)));
      const res = await fetch(`${h.gw.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "test", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ ...ask, stream: true }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      checkFrames(parseSSE(await res.text()));
    });
  }

  test("non-stream xai-text.json: thinking and text, usage", async () => {
    h.fake.on(() => new Response(fixture("xai-text.json"), { headers: { "content-type": "application/json" } }));
    const msg = await h.client.messages.create(ask);
    const c = JSON.parse(fixture("xai-text.json")).choices[0].message;
    expect(msg.content as unknown).toEqual([
      { type: "thinking", thinking: c.reasoning_content, signature: signThinking(c.reasoning_content) },
      { type: "text", text: "Grok" },
    ]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage).toMatchObject({ input_tokens: 10, output_tokens: 322, cache_read_input_tokens: 2, cache_creation_input_tokens: 0 });
    // The same answer to a request without thinking: just the text, the same usage.
    h.fake.on(() => new Response(fixture("xai-text.json"), { headers: { "content-type": "application/json" } }));
    const { thinking: _, ...plain } = ask;
    const msg2 = await h.client.messages.create(plain);
    expect(msg2.content as unknown).toEqual([{ type: "text", text: "Grok" }]);
    expect(msg2.usage.output_tokens).toBe(322);
  });

  test("non-stream xai-tool-call.json: empty content gives no text block; the tool call is a tool_use", async () => {
    h.fake.on(() => new Response(fixture("xai-tool-call.json"), { headers: { "content-type": "application/json" } }));
    const msg = await h.client.messages.create({ ...ask, tools: [{ name: "weather", input_schema: { type: "object", properties: { location: { type: "string" } } } }] });
    expect(msg.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
    expect(msg.content[1]).toEqual({ type: "tool_use", id: "toolu_call_46427107", name: "weather", input: { location: "San Francisco" } } as never);
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.usage).toMatchObject({ input_tokens: 63, output_tokens: 281, cache_read_input_tokens: 244 });
  });
});
