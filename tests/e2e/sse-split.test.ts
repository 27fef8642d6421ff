/**
 * The upstream SSE reader survives TCP splits anywhere: inside a line, inside
 * `data:`, inside a multi-byte UTF-8 character. A recorded-format xAI stream with
 * reasoning, non-ASCII text and a whole-in-one-chunk tool call is split at every
 * byte offset; the translated message must equal the one from the unsplit stream.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { MessageAccumulator } from "../../src/anthropic/accumulate";
import type { StreamEvent } from "../../src/anthropic/events";
import { createChunkDecoder } from "../../src/dialects/sse-reader";
import { StreamTranslator } from "../../src/dialects/chat/stream";
import { sseResponse } from "../helpers/fake-upstream";
import { useGateway } from "../helpers/setup";

const recording = new Uint8Array(await Bun.file(`${import.meta.dir}/../fixtures/xai-weather-tool.sse`).arrayBuffer());

function translate(pieces: Uint8Array[]) {
  const decoder = createChunkDecoder();
  // A request with thinking enabled: the reasoning is part of what must survive the splits.
  const t = new StreamTranslator({ messageId: "msg_test", model: "claude-test", inputTokensEstimate: 10, thinking: true });
  const events: StreamEvent[] = [...t.start()];
  let done = 0;
  const feed = (items: ReturnType<typeof decoder.push>) => {
    for (const item of items) {
      if (item.kind === "chunk") events.push(...t.push(item.chunk));
      else if (item.kind === "done") done++;
      else throw new Error(item.message);
    }
  };
  for (const p of pieces) feed(decoder.push(p));
  feed(decoder.end());
  events.push(...t.finish());
  return { message: new MessageAccumulator().applyAll(events).message!, done };
}

describe("SSE split at every byte offset", () => {
  const whole = translate([recording]);

  test("the unsplit recording translates to the expected message", () => {
    expect(whole.done).toBe(1);
    const m = whole.message;
    expect(m.content.map((b) => b.type)).toEqual(["thinking", "text", "tool_use"]);
    expect(m.content[0]).toMatchObject({ thinking: "The user wants the weather in Zürich — call the tool." });
    expect((m.content[0] as { signature: string }).signature).toMatch(/^grok2api\.v1\./);
    expect(m.content[1]).toEqual({ type: "text", text: "Checking the weather in Zürich 🌤️ for you: “quoted” text, 日本語." });
    expect(m.content[2]).toEqual({
      type: "tool_use",
      id: "toolu_call_12345678",
      name: "weather",
      input: { location: "Zürich", unit: "°C", note: 'say "hi"' },
    });
    expect(m.stop_reason).toBe("tool_use");
    expect(m.usage).toEqual({ input_tokens: 7, output_tokens: 253, cache_read_input_tokens: 300, cache_creation_input_tokens: 0 });
  });

  test("two pieces, split at every offset", () => {
    for (let i = 1; i < recording.length; i++) {
      const split = translate([recording.subarray(0, i), recording.subarray(i)]);
      expect(split).toEqual(whole);
    }
  });

  test("one byte at a time", () => {
    const bytes: Uint8Array[] = [];
    for (let i = 0; i < recording.length; i++) bytes.push(recording.subarray(i, i + 1));
    expect(translate(bytes)).toEqual(whole);
  });

  describe("through the server", () => {
    const rig = useGateway();

    test("the SDK gets the same message whatever the TCP split", async () => {
      const client = new Anthropic({ baseURL: rig.gw.url, apiKey: "unused", maxRetries: 0 });
      // Offsets inside "Zürich", inside the emoji, inside "data:", and every 7th byte.
      const text = new TextDecoder().decode(recording);
      const cuts = [
        recording.indexOf(0xc3) + 1,
        new TextEncoder().encode(text.slice(0, text.indexOf("🌤"))).length + 2,
        3,
      ];
      const plans: number[][] = [cuts, Array.from({ length: Math.floor(recording.length / 7) }, (_, k) => (k + 1) * 7)];
      for (const plan of plans) {
        const sorted = [...new Set(plan)].sort((a, b) => a - b);
        const pieces: Uint8Array[] = [];
        let at = 0;
        for (const c of sorted) {
          pieces.push(recording.subarray(at, c));
          at = c;
        }
        pieces.push(recording.subarray(at));
        rig.fake.on(() => sseResponse(pieces));
        const final = await client.messages
          .stream({ model: "grok-3-mini", max_tokens: 100, thinking: { type: "adaptive" }, messages: [{ role: "user", content: "Weather in Zürich?" }] } as never)
          .finalMessage();
        expect(final.content as unknown).toEqual(whole.message.content as Anthropic.ContentBlock[]);
        expect(final.stop_reason).toBe("tool_use");
        expect(final.usage.cache_read_input_tokens).toBe(300);
      }
    });
  });
});
