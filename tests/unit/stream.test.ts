/**
 * The stream translator on its own: the peers' bug list, stop reasons, usage,
 * stop sequences, and a seeded property test over random streams and random splits.
 */
import { describe, expect, test } from "bun:test";
import type { StreamEvent } from "../../src/anthropic/events";
import { isOurSignature, signThinking } from "../../src/dialects/signature";
import { ToolArgumentsError } from "../../src/dialects/malformed";
import { chunk, sseText, usage, usageChunk } from "../helpers/fake-upstream";
import { byteByByte, between, randomSplit, rng } from "../helpers/random";
import { assemble, checkGrammar } from "../helpers/sse-grammar";
import { enc, newTranslator, translateChunks, translatePieces } from "../helpers/translate";

const call = (index: number, id: string | undefined, name: string | undefined, args: string | undefined) => ({
  index,
  ...(id ? { id, type: "function" } : {}),
  function: { ...(name ? { name } : {}), ...(args !== undefined ? { arguments: args } : {}) },
});
const toolChunk = (...calls: unknown[]) => chunk({ tool_calls: calls });
const blockTypes = (events: StreamEvent[]) =>
  events.flatMap((e) => (e.type === "content_block_start" ? [`${e.index}:${e.content_block.type}`] : []));

describe("tool calls (the peers' bug list)", () => {
  test("xAI's whole call in one chunk: nothing lost", () => {
    const events = translateChunks([
      toolChunk(call(0, "call_79382389", "weather", '{"location":"San Francisco"}')),
      chunk({}, "tool_calls"),
      usageChunk(),
    ]);
    const msg = assemble(events);
    expect(msg.content).toEqual([{ type: "tool_use", id: "toolu_call_79382389", name: "weather", input: { location: "San Francisco" } }]);
    expect(msg.stop_reason).toBe("tool_use");
    const json = events.filter((e) => e.type === "content_block_delta").map((e) => (e as any).delta.partial_json);
    expect(json).toEqual(['{"location":"San Francisco"}']);
  });

  test("1-byte argument fragments with escaped quotes and multi-byte UTF-8 reassemble exactly", () => {
    const input = { path: 'C:\\dir\\"q".txt', note: "héllo 🌍 — 日本語 \u0000 tab\there", nested: { list: [1, "two", null] } };
    const args = JSON.stringify(input);
    const chunks: unknown[] = [toolChunk(call(0, "call_1", "write", ""))];
    for (const ch of args) chunks.push(toolChunk(call(0, undefined, undefined, ch)));
    chunks.push(chunk({}, "tool_calls"));
    // Through the SSE layer too, one byte at a time, so UTF-8 sequences are cut.
    const events = translatePieces(byteByByte(enc.encode(sseText(chunks))));
    expect(assemble(events).content).toEqual([{ type: "tool_use", id: "toolu_call_1", name: "write", input }]);
    expect(assemble(translateChunks(chunks))).toEqual(assemble(events));
  });

  test("several calls, several in one chunk, become separate blocks with increasing indices", () => {
    const events = translateChunks([
      chunk({ content: "Let me check." }),
      toolChunk(call(0, "call_a", "weather", '{"city":"Paris"}'), call(1, "call_b", "weather", '{"city":"Rome"}')),
      toolChunk(call(2, "call_c", "time", '{"tz":')),
      toolChunk(call(2, undefined, undefined, '"CET"}')),
      chunk({}, "tool_calls"),
    ]);
    const msg = assemble(events);
    expect(blockTypes(events)).toEqual(["0:text", "1:tool_use", "2:tool_use", "3:tool_use"]);
    expect(msg.content.slice(1)).toEqual([
      { type: "tool_use", id: "toolu_call_a", name: "weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_call_b", name: "weather", input: { city: "Rome" } },
      { type: "tool_use", id: "toolu_call_c", name: "time", input: { tz: "CET" } },
    ]);
  });

  test("whole calls that all say index 0 but carry new ids stay separate", () => {
    const msg = assemble(
      translateChunks([
        toolChunk(call(0, "call_a", "weather", '{"city":"Paris"}')),
        toolChunk(call(0, "call_b", "weather", '{"city":"Rome"}')),
        chunk({}, "tool_calls"),
      ]),
    );
    expect(msg.content).toEqual([
      { type: "tool_use", id: "toolu_call_a", name: "weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_call_b", name: "weather", input: { city: "Rome" } },
    ]);
  });

  test("deltas without an index: a new id starts a call, no id continues the last", () => {
    const msg = assemble(
      translateChunks([
        chunk({ tool_calls: [{ id: "call_a", function: { name: "f", arguments: '{"a":' } }] }),
        chunk({ tool_calls: [{ function: { arguments: "1}" } }] }),
        chunk({ tool_calls: [{ id: "call_b", function: { name: "g", arguments: "{}" } }] }),
        chunk({}, "tool_calls"),
      ]),
    );
    expect(msg.content).toEqual([
      { type: "tool_use", id: "toolu_call_a", name: "f", input: { a: 1 } },
      { type: "tool_use", id: "toolu_call_b", name: "g", input: {} },
    ]);
  });

  test("empty arguments give input {}", () => {
    for (const args of [undefined, "", "  "]) {
      const msg = assemble(translateChunks([toolChunk(call(0, "call_x", "list_files", args)), chunk({}, "tool_calls")]));
      expect(msg.content).toEqual([{ type: "tool_use", id: "toolu_call_x", name: "list_files", input: {} }]);
    }
  });

  test("broken JSON arguments are repaired, and the client gets valid JSON", () => {
    const events = translateChunks([toolChunk(call(0, "call_x", "edit", '{"file": "a.ts", "line": 3,')), chunk({}, "tool_calls")]);
    const json = events.flatMap((e) => (e.type === "content_block_delta" && e.delta.type === "input_json_delta" ? [e.delta.partial_json] : []));
    expect(JSON.parse(json.join(""))).toEqual({ file: "a.ts", line: 3 });
    expect(assemble(events).content[0]).toMatchObject({ input: { file: "a.ts", line: 3 } });
  });

  test("unrepairable arguments are reported, never passed through", () => {
    const t = newTranslator();
    t.start();
    t.push(toolChunk(call(0, "call_x", "edit", "[1, 2, 3]")) as never);
    expect(() => t.push(chunk({}, "tool_calls") as never)).toThrow(ToolArgumentsError);
  });

  test("a call that never names its tool is reported; an empty fragment is ignored", () => {
    const t = newTranslator();
    t.start();
    t.push(toolChunk(call(0, "call_x", undefined, '{"a":1}')) as never);
    expect(() => t.finish()).toThrow(/without a tool name/);
    const ok = assemble(translateChunks([chunk({ content: "hi" }), toolChunk({ index: 3 }), chunk({}, "stop")]));
    expect(ok.content).toEqual([{ type: "text", text: "hi" }]);
  });

  test("calls are emitted when the upstream finishes even without a finish chunk", () => {
    const msg = assemble(translateChunks([toolChunk(call(0, "call_x", "f", "{}"))]));
    expect(msg.content).toEqual([{ type: "tool_use", id: "toolu_call_x", name: "f", input: {} }]);
    expect(msg.stop_reason).toBe("tool_use");
  });
});

describe("blocks", () => {
  test("text → thinking → text → tool_use switches close and open blocks in order", () => {
    const events = translateChunks([
      chunk({ content: "Hello " }),
      chunk({ content: "there." }),
      chunk({ reasoning_content: "Hmm, " }),
      chunk({ reasoning_content: "a tool." }),
      chunk({ content: "Calling it." }),
      toolChunk(call(0, "call_1", "f", "{}")),
      chunk({}, "tool_calls"),
    ]);
    expect(blockTypes(events)).toEqual(["0:text", "1:thinking", "2:text", "3:tool_use"]);
    const msg = assemble(events);
    expect(msg.content).toEqual([
      { type: "text", text: "Hello there." },
      { type: "thinking", thinking: "Hmm, a tool.", signature: signThinking("Hmm, a tool.") },
      { type: "text", text: "Calling it." },
      { type: "tool_use", id: "toolu_call_1", name: "f", input: {} },
    ]);
  });

  test("one chunk with both reasoning_content and content: thinking first, then text", () => {
    const msg = assemble(translateChunks([chunk({ reasoning_content: "think", content: "say" }), chunk({}, "stop")]));
    expect(msg.content).toEqual([
      { type: "thinking", thinking: "think", signature: signThinking("think") },
      { type: "text", text: "say" },
    ]);
  });

  test("`reasoning` (not reasoning_content) is thinking too; the signature is ours and non-empty", () => {
    const events = translateChunks([chunk({ reasoning: "deep" }), chunk({ content: "ok" }), chunk({}, "stop")]);
    const sig = events.find((e) => e.type === "content_block_delta" && e.delta.type === "signature_delta") as any;
    expect(isOurSignature(sig.delta.signature)).toBe(true);
    expect(sig.delta.signature.length).toBeGreaterThan("grok2api.v1.".length);
    expect(assemble(events).content[0]).toEqual({ type: "thinking", thinking: "deep", signature: sig.delta.signature });
  });

  test("thinking not enabled: reasoning opens no block, indices stay 0..n-1, and usage counts the reasoning", () => {
    const events = translateChunks(
      [chunk({ reasoning_content: "Hmm, " }), chunk({ content: "a" }), chunk({ reasoning_content: "more" }), chunk({ content: "b" }), chunk({}, "stop"), usageChunk(usage(10, 2, { reasoning: 30 }))],
      { thinking: false },
    );
    checkGrammar(events);
    expect(blockTypes(events)).toEqual(["0:text"]);
    expect(events.some((e) => e.type === "content_block_delta" && (e.delta.type === "thinking_delta" || e.delta.type === "signature_delta"))).toBe(false);
    const msg = assemble(events);
    expect(msg.content).toEqual([{ type: "text", text: "ab" }]);
    expect(msg.usage.output_tokens).toBe(32);
  });

  test("a role-only first chunk and empty deltas open nothing", () => {
    const events = translateChunks([chunk({ role: "assistant", content: "" }), chunk({ content: null }), chunk({ content: "x" }), chunk({}, "stop")]);
    expect(blockTypes(events)).toEqual(["0:text"]);
  });

  test("an empty answer is still a well-formed message", () => {
    const events = translateChunks([chunk({ role: "assistant" }), chunk({}, "stop"), usageChunk()]);
    checkGrammar(events);
    expect(assemble(events).content).toEqual([]);
  });
});

describe("stop reasons and usage", () => {
  const finishWith = (reason: string, extra: unknown[] = []) => assemble(translateChunks([chunk({ content: "x" }), ...extra, chunk({}, reason)]));

  test("finish_reason → stop_reason", () => {
    expect(finishWith("stop").stop_reason).toBe("end_turn");
    expect(finishWith("length").stop_reason).toBe("max_tokens");
    expect(finishWith("content_filter").stop_reason).toBe("refusal");
    expect(finishWith("tool_calls").stop_reason).toBe("end_turn"); // no tool_use block was emitted
  });

  test("usage: input excludes cached tokens, cache_read = cached, output counts reasoning (xAI)", () => {
    const msg = assemble(
      translateChunks([chunk({ reasoning_content: "r" }), chunk({ content: "x" }), chunk({}, "stop"), usageChunk(usage(307, 26, { cached: 306, reasoning: 227 }))]),
    );
    expect(msg.usage).toEqual({ input_tokens: 1, output_tokens: 253, cache_creation_input_tokens: 0, cache_read_input_tokens: 306 });
  });

  test("message_start carries the local estimate; without upstream usage message_delta does too", () => {
    const events = translateChunks([chunk({ content: "abcdefgh" }), chunk({}, "stop")], { inputTokensEstimate: 42 });
    expect((events[0] as any).message.usage).toEqual({ input_tokens: 42, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    expect((events.at(-2) as any).usage).toEqual({ input_tokens: 42, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });
});

describe("stop sequences", () => {
  test("a sequence split across chunks stops the message, and the text before it is kept", () => {
    const t = newTranslator({ stopSequences: ["<END>", "STOP"] });
    const events = [...t.start()];
    for (const piece of ["Hello <E", "N", "D> never seen"]) events.push(...t.push(chunk({ content: piece }) as never));
    expect(t.stopped).toBe(true);
    events.push(...t.finish());
    const msg = assemble(events);
    expect(msg.content).toEqual([{ type: "text", text: "Hello " }]);
    expect(msg.stop_reason).toBe("stop_sequence");
    expect(msg.stop_sequence).toBe("<END>");
  });

  test("a held partial match that never completes is released", () => {
    const msg = assemble(translateChunks([chunk({ content: "a <EN" }), chunk({ content: "D? no" }), chunk({}, "stop")], { stopSequences: ["<END>"] }));
    expect(msg.content).toEqual([{ type: "text", text: "a <END? no" }]);
    const tail = assemble(translateChunks([chunk({ content: "ends with <EN" }), chunk({}, "stop")], { stopSequences: ["<END>"] }));
    expect(tail.content).toEqual([{ type: "text", text: "ends with <EN" }]);
    expect(tail.stop_reason).toBe("end_turn");
  });

  test("tool calls after a matched stop sequence are not emitted", () => {
    const msg = assemble(
      translateChunks([chunk({ content: "x END" }), toolChunk(call(0, "call_1", "f", "{}")), chunk({}, "tool_calls")], { stopSequences: ["END"] }),
    );
    expect(msg.content).toEqual([{ type: "text", text: "x " }]);
    expect(msg.stop_reason).toBe("stop_sequence");
  });
});

// ---- property test ----

type Op =
  | { kind: "reasoning"; text: string }
  | { kind: "text"; text: string }
  | { kind: "both"; reasoning: string; text: string };

const ALPHABET = ["a", "b", " ", "\n", '"', "\\", "é", "日", "🌍", "—", "{", "}", ":", "<", "data: ", "\r"];

function randomText(r: () => number): string {
  let s = "";
  const n = between(r, 1, 12);
  for (let i = 0; i < n; i++) s += ALPHABET[between(r, 0, ALPHABET.length - 1)];
  return s;
}

function randomValue(r: () => number, depth = 0): unknown {
  switch (between(r, 0, depth > 1 ? 3 : 5)) {
    case 0:
      return randomText(r);
    case 1:
      return between(r, -1000, 1000);
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return Array.from({ length: between(r, 0, 3) }, () => randomValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: between(r, 0, 3) }, (_, i) => [`k${i}${randomText(r)}`, randomValue(r, depth + 1)]));
  }
}

/** Cuts a string into 1..n pieces at random (possibly between surrogate halves: JSON carries them). */
function cut(s: string, r: () => number): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < s.length) {
    const n = between(r, 1, Math.max(1, Math.ceil(s.length / 2)));
    out.push(s.slice(at, at + n));
    at += n;
  }
  return out.length ? out : [""];
}

function randomStream(seed: number) {
  const r = rng(seed);
  const chunks: unknown[] = [chunk({ role: "assistant" })];
  const expected: Array<{ type: "thinking"; thinking: string } | { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: unknown }> = [];
  const add = (type: "thinking" | "text", s: string) => {
    const last = expected.at(-1);
    if (last && last.type === type) (last as any)[type] += s;
    else expected.push(type === "thinking" ? { type, thinking: s } : { type, text: s });
  };
  const ops = between(r, 0, 8);
  for (let i = 0; i < ops; i++) {
    const op: Op =
      r() < 0.4 ? { kind: "reasoning", text: randomText(r) } : r() < 0.8 ? { kind: "text", text: randomText(r) } : { kind: "both", reasoning: randomText(r), text: randomText(r) };
    if (op.kind === "reasoning") {
      chunks.push(chunk({ reasoning_content: op.text }));
      add("thinking", op.text);
    } else if (op.kind === "text") {
      chunks.push(chunk({ content: op.text }));
      add("text", op.text);
    } else {
      chunks.push(chunk({ reasoning_content: op.reasoning, content: op.text }));
      add("thinking", op.reasoning);
      add("text", op.text);
    }
  }
  const nCalls = between(r, 0, 3);
  const tools: Array<{ id: string; name: string; input: Record<string, unknown> }> = [];
  for (let i = 0; i < nCalls; i++) {
    const input = randomValue(r, 1);
    tools.push({ id: `call_${seed}_${i}`, name: `tool_${i}`, input: typeof input === "object" && input && !Array.isArray(input) ? (input as Record<string, unknown>) : { v: input } });
  }
  // Interleave the calls' fragments: whole in one chunk, several calls per chunk, or 1-char pieces.
  const queues = tools.map((t, i) => {
    const args = JSON.stringify(t.input);
    const pieces = r() < 0.3 ? [args] : cut(args, r);
    return pieces.map((p, j) => call(i, j === 0 ? t.id : undefined, j === 0 ? t.name : undefined, p));
  });
  while (queues.some((q) => q.length)) {
    const batch: unknown[] = [];
    for (const q of queues) if (q.length && r() < 0.6) batch.push(q.shift());
    if (batch.length) chunks.push(toolChunk(...batch));
  }
  chunks.push(chunk({}, tools.length ? "tool_calls" : "stop"));
  chunks.push(usageChunk(usage(100, 20, { cached: 40, reasoning: 5 })));
  const content = [
    ...expected.map((b) => (b.type === "thinking" ? { ...b, signature: signThinking(b.thinking) } : b)),
    ...tools.map((t) => ({ type: "tool_use" as const, id: `toolu_${t.id}`, name: t.name, input: t.input })),
  ];
  return { chunks, content, stopReason: tools.length ? "tool_use" : "end_turn" };
}

describe("property: random streams, random splits", () => {
  test("any split of the wire gives the same, well-formed message as the model predicts", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const { chunks, content, stopReason } = randomStream(seed);
      const wire = enc.encode(sseText(chunks));
      const whole = assemble(translatePieces([wire]));
      expect(whole.content).toEqual(content as never);
      expect(whole.stop_reason).toBe(stopReason as never);
      expect(whole.usage).toEqual({ input_tokens: 60, output_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 40 });
      const r = rng(seed * 7919);
      for (let k = 0; k < 4; k++) {
        const split = assemble(translatePieces(randomSplit(wire, r, 64)));
        expect(split).toEqual(whole);
      }
    }
  });
});
