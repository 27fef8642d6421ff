import { describe, expect, test } from "bun:test";
import type { MessagesRequest } from "../../src/anthropic/schema";
import { ApiError } from "../../src/http/errors";
import { createCapabilityTable, DEFAULT_CAPS, type ModelCaps } from "../../src/models/capabilities";
import { signThinking } from "../../src/dialects/signature";
import {
  convertMessages,
  convertToolChoice,
  convertTools,
  INTERRUPTED_TOOL_RESULT,
  toChatRequest,
} from "../../src/dialects/chat/request";
import { reasoningEffort } from "../../src/models/effort";

const caps = createCapabilityTable();
type Msgs = MessagesRequest["messages"];
const req = (messages: Msgs, extra: Partial<MessagesRequest> = {}): MessagesRequest => ({
  model: "claude-x",
  max_tokens: 100,
  messages,
  ...extra,
});
const translate = (r: MessagesRequest, model = "grok-4.3", stream = false) =>
  toChatRequest(r, { model, caps: caps.get(model), stream });

const weatherCall = (id: string, city: string) => ({ type: "tool_use", id, name: "weather", input: { city } });
const result = (id: string, content: unknown, extra: Record<string, unknown> = {}) => ({
  type: "tool_result",
  tool_use_id: id,
  content,
  ...extra,
});

describe("tools", () => {
  test("definitions become functions; extra fields and a missing type are fine", () => {
    const tools = convertTools([
      { name: "a", description: "A", input_schema: { type: "object", properties: { x: { type: "string" } } } },
      { name: "b", type: "custom", input_schema: { type: "object" }, strict: true, cache_control: { type: "ephemeral" } } as any,
      { name: "c", eager_input_streaming: true, defer_loading: false } as any,
    ]);
    expect(tools).toEqual([
      { type: "function", function: { name: "a", description: "A", parameters: { type: "object", properties: { x: { type: "string" } } } } },
      { type: "function", function: { name: "b", parameters: { type: "object" } } },
      { type: "function", function: { name: "c", parameters: { type: "object", properties: {} } } },
    ]);
  });

  test("Anthropic's client tools become the functions Claude knows; any other typed tool is a 400, never dropped", () => {
    const { body, warnings } = translate(
      req([{ role: "user", content: "hi" }], {
        tools: [
          { name: "bash", type: "bash_20250124" },
          { name: "str_replace_editor", type: "text_editor_20250124" },
          { name: "mine", input_schema: { type: "object" } },
        ],
      }),
    );
    expect(body.tools?.map((t) => t.function.name)).toEqual(["bash", "mine", "str_replace_editor"]);
    expect(warnings).toEqual([]);
    for (const type of ["web_search_20250305", "web_fetch_20250910", "mcp_toolset", "made_up_20270101"]) {
      expect(() => translate(req([{ role: "user", content: "hi" }], { tools: [{ name: "x", type }] }))).toThrow(type);
    }
  });

  test("no tools: no tool_choice goes upstream", () => {
    const { body } = translate(req([{ role: "user", content: "hi" }], { tools: [], tool_choice: { type: "any" } }));
    expect(body.tools).toBeUndefined();
    expect(body.tool_choice).toBeUndefined();
  });

  test("tool_choice mapping and the parallel flag", () => {
    const names = new Set(["weather"]);
    expect(convertToolChoice({ type: "auto" }, names)).toEqual({ tool_choice: "auto" });
    expect(convertToolChoice({ type: "any" }, names)).toEqual({ tool_choice: "required" });
    expect(convertToolChoice({ type: "none" }, names)).toEqual({ tool_choice: "none" });
    expect(convertToolChoice({ type: "tool", name: "weather" }, names)).toEqual({
      tool_choice: { type: "function", function: { name: "weather" } },
    });
    expect(convertToolChoice({ type: "auto", disable_parallel_tool_use: true }, names)).toEqual({
      tool_choice: "auto",
      parallel_tool_calls: false,
    });
    expect(convertToolChoice({ type: "any", disable_parallel_tool_use: false }, names)).toEqual({ tool_choice: "required" });
    expect(convertToolChoice({ type: "tool", name: "gone", disable_parallel_tool_use: true }, names)).toEqual({ parallel_tool_calls: false });
    expect(convertToolChoice(undefined, names)).toEqual({});
    expect(convertToolChoice({ type: "auto" }, new Set())).toEqual({});
  });
});

describe("conversation shape", () => {
  test("tool_use → tool_calls with the turn's text; results right after, in call order; then the user's text", () => {
    const out = convertMessages({
      messages: [
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          role: "assistant",
          content: [{ type: "text", text: "Checking both." }, weatherCall("toolu_call_1", "Paris"), weatherCall("toolu_call_2", "Rome")],
        },
        {
          role: "user",
          content: [result("toolu_call_2", "18°C"), result("toolu_call_1", [{ type: "text", text: "21°C" }]), { type: "text", text: "Thanks!" }],
        },
      ],
    });
    expect(out).toEqual([
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: "Checking both.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          { id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "21°C" },
      { role: "tool", tool_call_id: "call_2", content: "18°C" },
      { role: "user", content: "Thanks!" },
    ]);
  });

  test("is_error is visible to the model", () => {
    const out = convertMessages({
      messages: [
        { role: "assistant", content: [weatherCall("toolu_a", "X")] },
        { role: "user", content: [result("toolu_a", "city not found", { is_error: true })] },
      ],
    });
    expect(out[1]).toEqual({ role: "tool", tool_call_id: "a", content: "Error: city not found" });
    const empty = convertMessages({
      messages: [
        { role: "assistant", content: [weatherCall("toolu_a", "X")] },
        { role: "user", content: [result("toolu_a", undefined, { is_error: true })] },
      ],
    });
    expect((empty[1] as { content: string }).content).toMatch(/^Error: /);
  });

  test("images inside a tool_result reach the upstream as images, in a user message after the tool messages", () => {
    const png = { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } };
    const out = convertMessages({
      messages: [
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_s", name: "screenshot", input: {} }] },
        { role: "user", content: [result("toolu_s", [png]), { type: "text", text: "What do you see?" }] },
      ],
    });
    expect(out).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: "s", type: "function", function: { name: "screenshot", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "s", content: "(1 image attached below)" },
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          { type: "text", text: "What do you see?" },
        ],
      },
    ]);
  });

  test("a tool_use without a result (Esc) gets a synthetic error result", () => {
    const out = convertMessages({
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", content: [weatherCall("toolu_1", "A"), weatherCall("toolu_2", "B")] },
        { role: "user", content: [result("toolu_2", "ok"), { type: "text", text: "never mind" }] },
      ],
    });
    expect(out.slice(2)).toEqual([
      { role: "tool", tool_call_id: "1", content: INTERRUPTED_TOOL_RESULT },
      { role: "tool", tool_call_id: "2", content: "ok" },
      { role: "user", content: "never mind" },
    ]);
  });

  test("a call at the very end, or followed by another assistant turn, is answered too", () => {
    const atEnd = convertMessages({ messages: [{ role: "user", content: "go" }, { role: "assistant", content: [weatherCall("toolu_1", "A")] }] });
    expect(atEnd.at(-1)).toEqual({ role: "tool", tool_call_id: "1", content: INTERRUPTED_TOOL_RESULT });
    const then = convertMessages({
      messages: [
        { role: "assistant", content: [weatherCall("toolu_1", "A")] },
        { role: "user", content: "" },
        { role: "assistant", content: "Sorry." },
      ],
    });
    expect(then.map((m) => m.role)).toEqual(["assistant", "tool", "assistant"]);
  });

  test("a tool_result whose tool_use is gone becomes plain text", () => {
    const out = convertMessages({
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "user", content: [result("toolu_gone", "42"), { type: "text", text: "and?" }] },
      ],
    });
    expect(out.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "[Result of tool call toolu_gone]\n42" },
        { type: "text", text: "and?" },
      ],
    });
    expect(out.some((m) => m.role === "tool")).toBe(false);
  });

  test("a second result for the same call is kept as text, not a second tool message", () => {
    const out = convertMessages({
      messages: [
        { role: "assistant", content: [weatherCall("toolu_1", "A")] },
        { role: "user", content: [result("toolu_1", "first"), result("toolu_1", "second")] },
      ],
    });
    expect(out.filter((m) => m.role === "tool")).toEqual([{ role: "tool", tool_call_id: "1", content: "first" }]);
    expect(JSON.stringify(out.at(-1))).toContain("second");
  });

  test("empty text blocks and empty messages are dropped; same-role turns are merged", () => {
    const out = convertMessages({
      system: [{ type: "text", text: "" }],
      messages: [
        { role: "user", content: [{ type: "text", text: "" }] },
        { role: "user", content: "a" },
        { role: "user", content: [{ type: "text", text: "b" }, { type: "text", text: "" }] },
        { role: "assistant", content: [] },
        { role: "assistant", content: "" },
        { role: "user", content: "c" },
      ],
    });
    expect(out).toEqual([
      { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] },
      { role: "user", content: "c" },
    ]);
  });

  test("mid-conversation system messages are accepted", () => {
    const out = convertMessages({
      system: "You are terse.",
      messages: [
        { role: "user", content: "hi" },
        { role: "system", content: "The user is an admin." },
        { role: "assistant", content: "hello" },
      ],
    });
    expect(out).toEqual([
      { role: "system", content: "You are terse." },
      { role: "user", content: "hi" },
      { role: "system", content: "The user is an admin." },
      { role: "assistant", content: "hello" },
    ]);
  });

  test("a system turn between a call and its results waits until the results are placed", () => {
    const out = convertMessages({
      messages: [
        { role: "assistant", content: [weatherCall("toolu_1", "A")] },
        { role: "system", content: [{ type: "text", text: "Reminder: be brief." }] },
        { role: "user", content: [result("toolu_1", "sunny")] },
      ],
    });
    expect(out).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: "1", type: "function", function: { name: "weather", arguments: '{"city":"A"}' } }] },
      { role: "tool", tool_call_id: "1", content: "sunny" },
      { role: "system", content: "Reminder: be brief." },
    ]);
  });
});

describe("thinking in the history", () => {
  const ours = { type: "thinking", thinking: "secret plan", signature: signThinking("secret plan") };
  const theirs = { type: "thinking", thinking: "anthropic plan", signature: "EqQBCkYIBxgCKkAabc" };
  const redacted = { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" };

  test("never forwarded as text, ours or not; a turn of only thinking disappears", () => {
    const out = convertMessages({
      messages: [
        { role: "user", content: "q1" },
        { role: "assistant", content: [ours, { type: "text", text: "a1" }] },
        { role: "user", content: "q2" },
        { role: "assistant", content: [theirs, redacted, { type: "text", text: "a2" }] },
        { role: "user", content: "q3" },
        { role: "assistant", content: [ours, theirs] },
        { role: "user", content: "q4" },
      ],
    });
    const wire = JSON.stringify(out);
    for (const s of ["secret plan", "anthropic plan", "EmwKAhgBEgy3va3pzix", "grok2api.v1.", "EqQBCkYIBxgCKkAabc"]) expect(wire).not.toContain(s);
    expect(out).toEqual([
      { role: "user", content: "q1" },
      { role: "assistant", content: "a1" },
      { role: "user", content: "q2" },
      { role: "assistant", content: "a2" },
      { role: "user", content: "q3" },
      { role: "user", content: "q4" },
    ]);
  });

  test("thinking before tool_use keeps the call", () => {
    const out = convertMessages({
      messages: [{ role: "assistant", content: [ours, weatherCall("toolu_9", "Oslo")] }],
    });
    expect(out[0]).toMatchObject({ role: "assistant", content: null, tool_calls: [{ id: "9" }] });
  });
});

describe("documents", () => {
  test("text and content sources are inlined with their title and context", () => {
    const out = convertMessages({
      messages: [
        {
          role: "user",
          content: [
            { type: "document", title: "Notes", context: "from the wiki", source: { type: "text", media_type: "text/plain", data: "alpha" } },
            { type: "document", source: { type: "content", content: [{ type: "text", text: "beta" }, { type: "text", text: "gamma" }] } },
            { type: "document", title: null, source: { type: "content", content: "delta" } },
            { type: "text", text: "Summarise." },
          ],
        },
      ],
    });
    expect(out[0]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "<document>\nDocument: Notes\nContext: from the wiki\n\nalpha\n</document>" },
        { type: "text", text: "<document>\nDocument\n\nbeta\n\ngamma\n</document>" },
        { type: "text", text: "<document>\nDocument\n\ndelta\n</document>" },
        { type: "text", text: "Summarise." },
      ],
    });
  });

  test("a PDF that was not turned into text first is a 400, not a crash", () => {
    const run = () =>
      convertMessages({
        messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } }] }],
      });
    expect(run).toThrow(ApiError);
    expect(run).toThrow(/document source of type base64/);
  });
});

describe("reasoning effort", () => {
  const on = (budget_tokens: number) => ({ thinking: { type: "enabled" as const, budget_tokens } });
  const grok43 = caps.get("grok-4.3");
  const mini = caps.get("grok-3-mini");

  test("grok-4.3: budgets, disabled, adaptive and output_config.effort", () => {
    expect(reasoningEffort(on(1024), grok43)).toBe("low");
    expect(reasoningEffort(on(8000), grok43)).toBe("medium");
    expect(reasoningEffort(on(32000), grok43)).toBe("high");
    expect(reasoningEffort({ thinking: { type: "disabled" } }, grok43)).toBe("none");
    expect(reasoningEffort({ thinking: { type: "adaptive" } }, grok43)).toBeUndefined();
    expect(reasoningEffort({}, grok43)).toBeUndefined();
    expect(reasoningEffort({ output_config: { effort: "medium" } }, grok43)).toBe("medium");
    expect(reasoningEffort({ thinking: { type: "adaptive" }, output_config: { effort: "max" } }, grok43)).toBe("high");
    expect(reasoningEffort({ output_config: { effort: "xhigh" } }, grok43)).toBe("high");
    expect(reasoningEffort({ output_config: { effort: "turbo" } }, grok43)).toBeUndefined();
    expect(reasoningEffort({ thinking: { type: "disabled" }, output_config: { effort: "high" } }, grok43)).toBe("none");
  });

  test("grok-3-mini takes low|high only: the nearest one, more effort on a tie", () => {
    expect(reasoningEffort(on(8000), mini)).toBe("high");
    expect(reasoningEffort({ thinking: { type: "disabled" } }, mini)).toBe("low");
    expect(reasoningEffort({ output_config: { effort: "low" } }, mini)).toBe("low");
  });

  test("models without the dial never get one", () => {
    for (const model of ["grok-4.20-0309-reasoning", "grok-4.20-0309-non-reasoning", "grok-build-0.1", "grok-4-0709", "grok-code-fast-1", "other-model"]) {
      const body = translate(req([{ role: "user", content: "hi" }], { ...on(32000), output_config: { effort: "high" } }), model).body;
      expect(body.reasoning_effort).toBeUndefined();
    }
  });
});

describe("toChatRequest", () => {
  test("sampling fields, user, max tokens clamp, stream options; never stop or penalties", () => {
    const small: ModelCaps = { ...DEFAULT_CAPS, maxOutput: 50 };
    const { body, warnings } = toChatRequest(
      req([{ role: "user", content: "hi" }], {
        max_tokens: 1000,
        temperature: 0.3,
        top_p: 0.9,
        top_k: 5,
        stop_sequences: ["END"],
        metadata: { user_id: "user_abc_account__session_1" },
      }),
      { model: "m", caps: small, stream: true },
    );
    expect(body).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      max_completion_tokens: 50,
      temperature: 0.3,
      top_p: 0.9,
      user: "user_abc_account__session_1",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(warnings).toContain("top_k dropped (the upstream has none)");
  });

  test("a model without vision gets a note instead of each image, and a warning", () => {
    const { body, warnings } = translate(
      req([
        {
          role: "user",
          content: [
            { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
            { type: "text", text: "what is it?" },
          ],
        },
      ]),
      "grok-3-mini",
    );
    expect(JSON.stringify(body.messages)).not.toContain("image_url");
    expect(JSON.stringify(body.messages)).toContain("[image omitted");
    expect(warnings.join()).toContain("1 image(s)");
  });
});
