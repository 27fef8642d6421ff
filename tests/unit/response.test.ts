import { describe, expect, test } from "bun:test";
import { isOurSignature, signThinking } from "../../src/dialects/signature";
import { toAnthropicMessage, UnparseableToolArguments } from "../../src/dialects/chat/response";
import { completion, usage } from "../helpers/fake-upstream";

/** A request that enabled thinking, unless a test says otherwise. */
const opts = { id: "msg_1", model: "claude-sonnet-4-5", inputTokensEstimate: 33, thinking: true };
const convert = (c: unknown, extra: Partial<typeof opts> & { stopSequences?: string[] } = {}) =>
  toAnthropicMessage(c as never, { ...opts, ...extra });

describe("toAnthropicMessage", () => {
  test("the envelope: id, model as asked, usage, stop", () => {
    const m = convert(completion({ content: "Hi" }, "stop", usage(10, 3, { cached: 4 })));
    expect(m).toEqual({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [{ type: "text", text: "Hi" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 6, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 4 },
    });
  });

  test("reasoning first as a thinking block with our signature; then text, then tool calls", () => {
    const m = convert(
      completion(
        {
          content: "Let me look.",
          reasoning_content: "The user wants the weather.",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
            { id: "call_2", type: "function", function: { name: "time", arguments: "" } },
          ],
        },
        "tool_calls",
      ),
    );
    expect(m.content).toEqual([
      { type: "thinking", thinking: "The user wants the weather.", signature: signThinking("The user wants the weather.") },
      { type: "text", text: "Let me look." },
      { type: "tool_use", id: "toolu_call_1", name: "weather", input: { city: "Oslo" } },
      { type: "tool_use", id: "toolu_call_2", name: "time", input: {} },
    ]);
    expect(isOurSignature((m.content[0] as { signature: string }).signature)).toBe(true);
    expect(m.stop_reason).toBe("tool_use");
  });

  test("thinking not enabled: no thinking block, the text is content[0], and the reasoning still counts as output", () => {
    const c = completion({ content: "Hi", reasoning_content: "x".repeat(400) }, "stop", null as never);
    const m = convert(c, { thinking: false });
    expect(m.content).toEqual([{ type: "text", text: "Hi" }]);
    // Without upstream usage the estimate counts what the model wrote, shown or not (404 chars ≈ 101 tokens).
    expect(m.usage.output_tokens).toBe(101);
  });

  test("`reasoning` is accepted as well as `reasoning_content`", () => {
    expect(convert(completion({ content: "x", reasoning: "hmm" })).content[0]).toMatchObject({ type: "thinking", thinking: "hmm" });
  });

  test("finish reasons, judged by what was emitted", () => {
    expect(convert(completion({ content: "x" }, "length")).stop_reason).toBe("max_tokens");
    expect(convert(completion({ content: "" }, "content_filter")).stop_reason).toBe("refusal");
    expect(convert(completion({ content: "x", tool_calls: [] }, "tool_calls")).stop_reason).toBe("end_turn");
    expect(convert(completion({ content: "x", tool_calls: null }, "tool_calls")).stop_reason).toBe("end_turn");
  });

  test("a refusal message becomes the text", () => {
    const m = convert(completion({ content: null, refusal: "I can't help with that." }, "content_filter"));
    expect(m.content).toEqual([{ type: "text", text: "I can't help with that." }]);
    expect(m.stop_reason).toBe("refusal");
  });

  test("broken arguments are repaired; unrepairable ones and nameless calls are errors", () => {
    const repaired = convert(completion({ content: "", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: '{"a": [1, 2' } }] }));
    expect(repaired.content).toEqual([{ type: "tool_use", id: "toolu_c", name: "f", input: { a: [1, 2] } }]);
    expect(() => convert(completion({ tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "[1]" } }] }))).toThrow(UnparseableToolArguments);
    expect(() => convert(completion({ tool_calls: [{ id: "c", type: "function", function: { arguments: "{}" } }] }))).toThrow(/without a tool name/);
  });

  test("stop sequences cut the text and drop tool calls", () => {
    const m = convert(
      completion({ content: "one two STOP three", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }] }),
      { stopSequences: ["STOP"] },
    );
    expect(m.content).toEqual([{ type: "text", text: "one two " }]);
    expect(m.stop_reason).toBe("stop_sequence");
    expect(m.stop_sequence).toBe("STOP");
  });

  test("no usage from the upstream: local estimates", () => {
    const c = completion({ content: "abcdefgh" });
    delete (c as { usage?: unknown }).usage;
    expect(convert(c).usage).toEqual({ input_tokens: 33, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  test("no choices at all: an empty message, not a crash", () => {
    const m = convert({ id: "x", choices: [] });
    expect(m.content).toEqual([]);
    expect(m.stop_reason).toBe("end_turn");
  });
});
