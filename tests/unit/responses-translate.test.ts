/**
 * The Responses dialect's pure translators against the real recordings: a recorded turn
 * translated to Anthropic and sent back must give exactly the request xAI accepted next.
 */
import { describe, expect, test } from "bun:test";
import type { AnthropicMessage, MessagesRequest } from "../../src/anthropic/schema";
import { ApiError } from "../../src/http/errors";
import { createCapabilityTable } from "../../src/models/capabilities";
import { reasoningEffort } from "../../src/models/effort";
import { toChatRequest } from "../../src/dialects/chat/request";
import { checkChatCompletion } from "../../src/dialects/chat/response";
import { toolUseId, upstreamToolCallId } from "../../src/dialects/ids";
import { MalformedUpstream } from "../../src/dialects/malformed";
import { promptTurns } from "../../src/dialects/prompt";
import { fromResponsesJson } from "../../src/dialects/responses/response";
import { toResponsesRequest } from "../../src/dialects/responses/request";
import { ResponsesStreamFailed } from "../../src/dialects/responses/stream";
import { responsesUsage } from "../../src/dialects/responses/usage";
import {
  decodeReasoningSignature,
  encodeReasoningSignature,
  REASONING_PREFIX,
  signThinking,
} from "../../src/dialects/signature";
import { fixture, fixtureJson, responsesSse, scriptEvents, translateResponsesPieces, type Script } from "../helpers/fake-responses";
import { randomSplit, rng } from "../helpers/random";

const caps = createCapabilityTable();
const enc = new TextEncoder();
const opts = (model = "grok-4.3", extra: Record<string, unknown> = {}) => ({ model, caps: caps.get(model), stream: false, ...extra });
const base = (messages: MessagesRequest["messages"], extra: Partial<MessagesRequest> = {}): MessagesRequest => ({
  model: "claude-sonnet-4-5",
  max_tokens: 1024,
  messages,
  ...extra,
});
const WEATHER = {
  name: "weather",
  description: "Gets current weather for a location",
  input_schema: {
    type: "object",
    properties: { latitude: { type: "string", description: "Latitude (e.g., 52.5200)" }, longitude: { type: "string", description: "Longitude (e.g., 13.4050)" } },
    required: ["latitude", "longitude"],
  },
};
const whole = (name: string) => translateResponsesPieces([enc.encode(fixture(name))]).message;
const scripted = (s: Script) => translateResponsesPieces([enc.encode(responsesSse(scriptEvents(s)))]);

/** The assistant turn a client sends back: the message's content as it came. */
const assistant = (m: AnthropicMessage) => ({ role: "assistant" as const, content: m.content as never });

describe("recorded grok-4.3 streams", () => {
  test("tool call: signed reasoning, then a tool_use with the exact xAI call id; stop_reason tool_use although xAI says completed", () => {
    const m = whole("rubyllm-grok-4.3-stream-tool-call.1.sse");
    expect(m.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
    const [thinking, call] = m.content as [any, any];
    expect(thinking.thinking).toBe('The user asked: "What\'s the weather in Berlin? (52.5200, 13.4050)"\n');
    expect(thinking.signature.startsWith(REASONING_PREFIX)).toBe(true);
    expect(call).toEqual({ type: "tool_use", id: "toolu_call-5386e269-cd64-432e-aa64-5c80dd4e0286-0", name: "weather", input: { latitude: "52.5200", longitude: "13.4050" } });
    expect(upstreamToolCallId(call.id)).toBe("call-5386e269-cd64-432e-aa64-5c80dd4e0286-0");
    expect(m.stop_reason).toBe("tool_use");
    // usage: input 340 of which 320 cached; output_tokens 105 already counts the 83 reasoning tokens
    expect(m.usage).toEqual({ input_tokens: 20, output_tokens: 105, cache_creation_input_tokens: 0, cache_read_input_tokens: 320 });
  });

  test("the next turn replays reasoning, call and output byte for byte as the recorded request xAI accepted", () => {
    const turn1 = whole("rubyllm-grok-4.3-stream-tool-call.1.sse");
    const recorded = fixtureJson("rubyllm-grok-4.3-stream-tool-call.2.request.json");
    const req = base(
      [
        { role: "user", content: "What's the weather in Berlin? (52.5200, 13.4050)" },
        assistant(turn1),
        { role: "user", content: [{ type: "tool_result", tool_use_id: (turn1.content[1] as any).id, content: "Current weather at 52.5200, 13.4050: 15°C, Wind: 10 km/h" }] },
      ],
      { tools: [WEATHER], stream: true },
    );
    const { body, replayedReasoning } = toResponsesRequest(req, { ...opts(), stream: true });
    expect(JSON.stringify(body.input)).toBe(JSON.stringify(recorded.input));
    expect(replayedReasoning).toBe(1);
    expect(body.store).toBe(false);
    expect(body.include).toEqual(["reasoning.encrypted_content"]);
    expect(body.tools).toEqual([{ type: "function", name: "weather", description: WEATHER.description, parameters: WEATHER.input_schema }]);
  });

  test("each recording gives the same final message whole, byte by byte and split at random points", () => {
    for (const name of ["rubyllm-grok-4.3-stream-text.sse", "rubyllm-grok-4.3-stream-tool-call.1.sse", "rubyllm-grok-4.3-stream-tool-call.2.sse"]) {
      const bytes = enc.encode(fixture(name));
      const expected = translateResponsesPieces([bytes]).message;
      expect(expected.content.length).toBeGreaterThan(0);
      const r = rng(name.length * 7919);
      for (let i = 0; i < 40; i++) expect(translateResponsesPieces(randomSplit(bytes, r, 64)).message).toEqual(expected);
    }
  });

  test("text: thinking then text; events in the order a client expects", () => {
    const { events, message } = translateResponsesPieces([enc.encode(fixture("rubyllm-grok-4.3-stream-text.sse"))]);
    expect(message.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect((message.content[1] as any).text).toBe("1, 2, 3.");
    expect(message.stop_reason).toBe("end_turn");
    const kinds = events.map((e) => (e.type === "content_block_delta" ? e.delta.type : e.type));
    // thinking deltas stream as they come; the signature arrives when the item is done, before the block stops
    const sig = kinds.indexOf("signature_delta");
    expect(kinds.indexOf("thinking_delta")).toBeLessThan(sig);
    expect(kinds[sig + 1]).toBe("content_block_stop");
    expect(kinds.filter((k) => k === "thinking_delta").length).toBeGreaterThan(1);
  });
});

describe("recorded non-streaming answers", () => {
  test("parallel calls: two tool_use blocks with the exact call ids, and the replay matches the recorded request", () => {
    const json = fixtureJson("rubyllm-grok-4.3-parallel-tool-calls.1.json");
    const { message, promptTokens } = fromResponsesJson(json, { id: "msg_1", model: "claude-x", inputTokensEstimate: 9, thinking: true });
    expect(message.content.map((b) => b.type)).toEqual(["thinking", "tool_use", "tool_use"]);
    const ids = message.content.filter((b) => b.type === "tool_use").map((b) => (b as any).id);
    expect(ids.map(upstreamToolCallId)).toEqual(json.output.filter((i: any) => i.type === "function_call").map((i: any) => i.call_id));
    expect(message.stop_reason).toBe("tool_use");
    expect(promptTokens).toBe(json.usage.input_tokens);
    expect(message.usage.output_tokens).toBe(json.usage.output_tokens);

    const recorded = fixtureJson("rubyllm-grok-4.3-parallel-tool-calls.2.request.json");
    const outputs = recorded.input.filter((i: any) => i.type === "function_call_output");
    const req = base([
      { role: "user", content: recorded.input[0].content },
      assistant(message),
      { role: "user", content: outputs.map((o: any) => ({ type: "tool_result", tool_use_id: toolUseId(o.call_id), content: o.output })) },
    ]);
    const { body } = toResponsesRequest(req, opts());
    expect(JSON.stringify(body.input)).toBe(JSON.stringify(recorded.input));
  });

  test("text answer with usage.context_details (vercel recording)", () => {
    const json = fixtureJson("vercel-issue-17936-grok-4.3-generate.json");
    const { message } = fromResponsesJson(json, { id: "msg_1", model: "claude-x", inputTokensEstimate: 9 });
    expect(message.content.some((b) => b.type === "text")).toBe(true);
    expect(message.usage.output_tokens).toBe(json.usage.output_tokens);
  });

  test("server-side web search items are skipped safely", () => {
    const json = fixtureJson("rubyllm-grok-4.3-web-search.1.json");
    const { message } = fromResponsesJson(json, { id: "msg_1", model: "claude-x", inputTokensEstimate: 9 });
    expect(message.content.at(-1)!.type).toBe("text");
    expect(message.stop_reason).toBe("end_turn");
  });

  test("a body of the wrong shape is MalformedUpstream, never a crash", () => {
    const o = { id: "m", model: "c", inputTokensEstimate: 1 };
    for (const bad of [null, 3, "x", [], {}, { output: "no" }, { output: [], usage: { input_tokens: "12" } }, { output: [], usage: "x" }]) {
      expect(() => fromResponsesJson(bad, o)).toThrow(MalformedUpstream);
    }
    expect(() => fromResponsesJson({ output: [{ type: "function_call", call_id: "c", arguments: "{}" }] }, o)).toThrow(MalformedUpstream);
    for (const bad of [null, [], { choices: "x" }, { choices: [{ message: { tool_calls: "x" } }] }, { choices: [], usage: { prompt_tokens: "1" } }]) {
      expect(() => checkChatCompletion(bad)).toThrow(MalformedUpstream);
    }
  });
});

describe("scripted streams", () => {
  test("arguments split over several deltas make one tool_use", () => {
    const { message } = scripted({ calls: [{ name: "Bash", args: ['{"comm', 'and":"ls', ' -la"}'] }] });
    expect(message.content).toEqual([{ type: "tool_use", id: `toolu_call-5386e269-cd64-432e-aa64-5c80dd4e0286-0`, name: "Bash", input: { command: "ls -la" } }]);
    expect(message.stop_reason).toBe("tool_use");
  });

  test("response.incomplete with max_output_tokens → max_tokens", () => {
    const { message } = scripted({ text: ["Once upon"], status: "incomplete", incompleteReason: "max_output_tokens" });
    expect(message.stop_reason).toBe("max_tokens");
  });

  test("refusal text is text, and the stop reason says refusal (stream and JSON)", () => {
    const sse = responsesSse([
      { type: "response.created", response: {} },
      { type: "response.refusal.delta", delta: "I can't help with that.", item_id: "msg_1", output_index: 0 },
      { type: "response.completed", response: { status: "completed", usage: null } },
    ]);
    const { message } = translateResponsesPieces([enc.encode(sse)]);
    expect(message.content).toEqual([{ type: "text", text: "I can't help with that." }]);
    expect(message.stop_reason).toBe("refusal");
    const json = { status: "completed", output: [{ type: "message", content: [{ type: "refusal", refusal: "No." }] }] };
    expect(fromResponsesJson(json, { id: "m", model: "c", inputTokensEstimate: 1 }).message.stop_reason).toBe("refusal");
  });

  test("unknown event and item types are skipped", () => {
    const s: Script = { text: ["hi"], extra: [{ type: "response.doom_loop_check" }, { type: "response.output_item.added", item: { type: "x_search_call", id: "x" }, output_index: 9 }] };
    expect(scripted(s).message.content).toEqual([{ type: "text", text: "hi" }]);
  });

  test("response.failed throws with the upstream's words", () => {
    const sse = responsesSse([{ type: "response.created", response: {} }, { type: "response.failed", response: { status: "failed", error: { code: "internal", message: "model overloaded" } } }]);
    expect(() => translateResponsesPieces([enc.encode(sse)])).toThrow(ResponsesStreamFailed);
  });

  test("stop sequences are watched on the text (Responses has no stop)", () => {
    const { message } = translateResponsesPieces([enc.encode(responsesSse(scriptEvents({ text: ["one two ", "STOP three"] })))], { stopSequences: ["STOP"] });
    expect(message.content).toEqual([{ type: "text", text: "one two " }]);
    expect(message.stop_reason).toBe("stop_sequence");
  });
});

describe("requests", () => {
  test("signatures that are not ours never reach the upstream; ours carry the encrypted content", () => {
    const sig = encodeReasoningSignature({ encryptedContent: "ENC+/=", id: "rs_1" });
    expect(decodeReasoningSignature(sig)).toEqual({ encryptedContent: "ENC+/=", id: "rs_1" });
    for (const foreign of ["EqQBCkYIBxgCKkA", signThinking("x"), `${REASONING_PREFIX}!!!`, `${REASONING_PREFIX}${Buffer.from("{}").toString("base64url")}`, undefined]) {
      expect(decodeReasoningSignature(foreign)).toBeUndefined();
      const req = base([
        { role: "user", content: "hi" },
        { role: "assistant", content: [{ type: "thinking", thinking: "secret plan", ...(foreign ? { signature: foreign } : {}) }, { type: "text", text: "hello" }] },
        { role: "user", content: "again" },
      ]);
      const { body, warnings } = toResponsesRequest(req, opts());
      expect(JSON.stringify(body)).not.toContain("secret plan");
      expect(body.input.some((i) => "type" in i && i.type === "reasoning")).toBe(false);
      expect(warnings.join()).toContain("thinking");
    }
  });

  test("without encrypted reasoning (after xAI could not decrypt it) the summary is kept, no encrypted_content, no nulls", () => {
    const sig = encodeReasoningSignature({ encryptedContent: "ENC" });
    const req = base([
      { role: "user", content: "hi" },
      { role: "assistant", content: [{ type: "thinking", thinking: "plan", signature: sig }, { type: "tool_use", id: "toolu_call-a-0", name: "f", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_call-a-0", content: "ok", is_error: true }] },
    ]);
    const { body } = toResponsesRequest(req, { ...opts(), withoutEncryptedReasoning: true });
    expect(body.input.slice(1)).toEqual([
      { type: "reasoning", summary: [{ type: "summary_text", text: "plan" }] },
      { type: "function_call", call_id: "call-a-0", name: "f", arguments: "{}" },
      { type: "function_call_output", call_id: "call-a-0", output: "Error: ok" },
    ]);
    expect(JSON.stringify(body)).not.toContain("null");
  });

  test("system → instructions without the billing line; images; tool_choice; never stop, penalties, top_k or metadata", () => {
    const req = base(
      [
        { role: "user", content: [{ type: "text", text: "look" }, { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBOR" } }] },
      ],
      {
        system: "x-anthropic-billing-header: cc_version=2.1; cch=1;\nYou are helpful.",
        stop_sequences: ["END"],
        top_k: 5,
        temperature: 0.2,
        metadata: { user_id: "u1" },
        tools: [{ name: "b", input_schema: { type: "object" } }, { name: "a" }, { name: "web_search", type: "web_search_20250305" }],
        tool_choice: { type: "tool", name: "a", disable_parallel_tool_use: true },
      },
    );
    const { body, warnings } = toResponsesRequest(req, { ...opts(), cacheKey: "sess-1" });
    expect(body.instructions).toBe("You are helpful.");
    expect(body.input).toEqual([{ role: "user", content: [{ type: "input_text", text: "look" }, { type: "input_image", image_url: "data:image/png;base64,iVBOR" }] }]);
    // Client tools sorted by name, then xAI's own web search for Anthropic's.
    expect(body.tools!.map((t) => ("name" in t ? t.name : t.type))).toEqual(["a", "b", "web_search"]);
    expect(body.tool_choice).toEqual({ type: "function", name: "a" });
    expect(body.parallel_tool_calls).toBe(false);
    expect(body.prompt_cache_key).toBe("sess-1");
    expect(body.temperature).toBe(0.2);
    for (const k of ["stop", "top_k", "metadata", "presence_penalty", "frequency_penalty", "user"]) expect(k in body).toBe(false);
    expect(warnings.join()).toContain("top_k");
  });

  test("conversation shape: outputs right after their calls, images after the outputs, missing results answered, held system turns, orphans as text", () => {
    const png = { type: "image" as const, source: { type: "base64" as const, media_type: "image/png", data: "AAAA" } };
    const req = base([
      { role: "user", content: "start" },
      { role: "assistant", content: [{ type: "text", text: "calling" }, { type: "tool_use", id: "toolu_call-u-0", name: "shot", input: { a: 1 } }, { type: "tool_use", id: "toolu_call-u-1", name: "ls", input: {} }] },
      { role: "system", content: "be brief" },
      { role: "user", content: [{ type: "text", text: "here" }, { type: "tool_result", tool_use_id: "toolu_call-u-0", content: [{ type: "text", text: "took it" }, png] }, { type: "tool_result", tool_use_id: "toolu_gone", content: "late" }] },
      { role: "user", content: "and more" },
    ]);
    const { body } = toResponsesRequest(req, opts());
    expect(body.input).toEqual([
      { role: "user", content: "start" },
      { role: "assistant", content: [{ type: "output_text", text: "calling" }] },
      { type: "function_call", call_id: "call-u-0", name: "shot", arguments: '{"a":1}' },
      { type: "function_call", call_id: "call-u-1", name: "ls", arguments: "{}" },
      { type: "function_call_output", call_id: "call-u-0", output: "took it" },
      { type: "function_call_output", call_id: "call-u-1", output: "Error: the tool call was interrupted before it returned a result." },
      { role: "system", content: "be brief" },
      {
        role: "user",
        content: [
          { type: "input_image", image_url: "data:image/png;base64,AAAA" },
          { type: "input_text", text: "[Result of tool call toolu_gone]\nlate" },
          { type: "input_text", text: "here" },
          { type: "input_text", text: "and more" },
        ],
      },
    ]);
  });

  test("effort from the capability table: grok-4.20 none at all, grok-4.3 none..high, grok-4.6/4.7 up to xhigh", () => {
    const think = (t: MessagesRequest["thinking"], effort?: string): Pick<MessagesRequest, "thinking" | "output_config"> => ({ thinking: t, ...(effort ? { output_config: { effort } } : {}) });
    expect(toResponsesRequest(base([{ role: "user", content: "x" }], think({ type: "enabled", budget_tokens: 30000 })), opts("grok-4.20-0309-reasoning")).body.reasoning).toBeUndefined();
    expect(toResponsesRequest(base([{ role: "user", content: "x" }], think({ type: "disabled" })), opts("grok-4.3")).body.reasoning).toEqual({ effort: "none" });
    expect(reasoningEffort(think(undefined, "max"), caps.get("grok-4.7"))).toBe("xhigh");
    expect(reasoningEffort(think(undefined, "xhigh"), caps.get("grok-4.6"))).toBe("xhigh");
    expect(reasoningEffort(think(undefined, "max"), caps.get("grok-4.3"))).toBe("high");
    expect(toResponsesRequest(base([{ role: "user", content: "x" }]), opts("grok-4.20-0309-non-reasoning")).body.include).toBeUndefined();
  });

  test("structured output: Responses text.format and chat response_format; an unsupported format is a 400", () => {
    const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"] };
    const r = base([{ role: "user", content: "x" }], { output_config: { format: { type: "json_schema", schema } } });
    expect(toResponsesRequest(r, opts()).body.text).toEqual({ format: { type: "json_schema", name: "output", schema, strict: true } });
    expect(toChatRequest(r, { ...opts(), stream: false }).body.response_format).toEqual({ type: "json_schema", json_schema: { name: "output", schema, strict: true } });
    const beta = base([{ role: "user", content: "x" }], { output_format: { type: "json_schema", schema } });
    expect(toResponsesRequest(beta, opts()).body.text?.format.schema).toEqual(schema);
    const bad = base([{ role: "user", content: "x" }], { output_config: { format: { type: "regex" } } });
    expect(() => toResponsesRequest(bad, opts())).toThrow(ApiError);
    expect(() => toChatRequest(bad, { ...opts(), stream: false })).toThrow(/not supported/);
  });

  test("160,000 consecutive user messages merge into one turn in one linear pass (both dialects)", () => {
    const messages = Array.from({ length: 160_000 }, (_, i) => ({ role: "user" as const, content: `m${i}` }));
    expect(promptTurns(messages)).toHaveLength(1);
    const { body } = toResponsesRequest(base(messages), opts());
    expect(body.input).toHaveLength(1);
    expect((body.input[0] as any).content).toHaveLength(160_000);
    expect(toChatRequest(base(messages), { ...opts(), stream: false }).body.messages).toHaveLength(1);
  });
});

describe("usage", () => {
  test("input minus cached, cached as cache_read, output as is; more cached than input keeps input", () => {
    expect(responsesUsage({ input_tokens: 199, output_tokens: 160, input_tokens_details: { cached_tokens: 150 }, output_tokens_details: { reasoning_tokens: 152 } }, { input: 1, output: 1 }).usage).toEqual({
      input_tokens: 49,
      output_tokens: 160,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 150,
    });
    expect(responsesUsage({ input_tokens: 4142, output_tokens: 5, input_tokens_details: { cached_tokens: 4328 } }, { input: 1, output: 1 }).usage.input_tokens).toBe(4142);
  });
});

describe("hostile upstream events", () => {
  const values = [null, 0, -1, "x", "", [], {}, true, { type: "function_call" }, { type: "reasoning", summary: "x" }, [{ type: "summary_text" }]];
  const types = [
    "response.output_item.added",
    "response.output_item.done",
    "response.reasoning_summary_text.delta",
    "response.output_text.delta",
    "response.function_call_arguments.delta",
    "response.completed",
    "response.incomplete",
    "response.refusal.delta",
    "made.up",
  ];
  const fields = ["item", "delta", "item_id", "response", "summary_index", "output_index"];
  const allowed = (err: unknown) =>
    err instanceof MalformedUpstream || err instanceof ResponsesStreamFailed || (err instanceof Error && err.constructor.name === "ToolArgumentsError");

  test("random events and fields never crash the stream translator (only the upstream's-fault errors)", () => {
    const r = rng(1111);
    const pick = <T,>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
    for (let run = 0; run < 300; run++) {
      const events: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 12; i++) {
        const e: Record<string, unknown> = { type: pick(types) };
        for (const f of fields) if (r() < 0.5) e[f] = pick(values);
        events.push(e);
      }
      try {
        const { message } = translateResponsesPieces([enc.encode(responsesSse(events))]);
        expect(message.type).toBe("message");
      } catch (err) {
        expect(allowed(err)).toBe(true);
      }
    }
  });

  test("random non-streaming bodies never crash the JSON translator", () => {
    const r = rng(2222);
    const pick = <T,>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
    const o = { id: "m", model: "c", inputTokensEstimate: 1 };
    for (let run = 0; run < 300; run++) {
      const body: Record<string, unknown> = { output: Array.from({ length: 3 }, () => ({ type: pick(["reasoning", "message", "function_call", "x"]), summary: pick(values), content: pick(values), call_id: pick(values), name: pick(values), arguments: pick(values), encrypted_content: pick(values) })) };
      if (r() < 0.5) body.usage = pick(values);
      if (r() < 0.3) body.status = pick(["failed", "incomplete", "completed", 3]);
      try {
        fromResponsesJson(body, o);
      } catch (err) {
        expect(err instanceof MalformedUpstream || (err instanceof Error && err.constructor.name === "FailedResponse")).toBe(true);
      }
    }
  });
});
