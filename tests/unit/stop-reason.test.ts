import { describe, expect, test } from "bun:test";
import { toStopReason } from "../../src/dialects/stop-reason";

describe("toStopReason", () => {
  const none = { emittedToolUse: false, matchedStopSequence: null };
  const tools = { emittedToolUse: true, matchedStopSequence: null };

  test("finish_reason mapping", () => {
    expect(toStopReason("stop", none)).toBe("end_turn");
    expect(toStopReason("length", none)).toBe("max_tokens");
    expect(toStopReason("content_filter", none)).toBe("refusal");
    expect(toStopReason("tool_calls", tools)).toBe("tool_use");
  });

  test("tool_use only when a tool_use block was emitted", () => {
    expect(toStopReason("tool_calls", none)).toBe("end_turn");
    expect(toStopReason("stop", tools)).toBe("tool_use");
    expect(toStopReason(null, tools)).toBe("tool_use");
  });

  test("a matched stop sequence wins over everything", () => {
    expect(toStopReason("stop", { emittedToolUse: true, matchedStopSequence: "END" })).toBe("stop_sequence");
    expect(toStopReason("length", { emittedToolUse: false, matchedStopSequence: "END" })).toBe("stop_sequence");
  });

  test("unknown or missing finish reasons end the turn", () => {
    expect(toStopReason(undefined, none)).toBe("end_turn");
    expect(toStopReason("something_new", none)).toBe("end_turn");
  });

  test("length beats tool calls (the call may be cut short)", () => {
    expect(toStopReason("length", tools)).toBe("max_tokens");
  });
});
