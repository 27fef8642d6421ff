/**
 * Grok's reasoning kept for clients that never see it (thinking not asked, or thinking blocks
 * dropped): the answer's encrypted items are kept under the digest of the turn as the client
 * received it, and that exact turn sent back gets them again, in place — checked against the
 * recorded turns xAI accepted. The store itself: bounded by bytes and by age.
 */
import { describe, expect, test } from "bun:test";
import type { AnthropicMessage, MessagesRequest } from "../../src/anthropic/schema";
import { createCapabilityTable } from "../../src/models/capabilities";
import { MemoryReasoningStore } from "../../src/reasoning/store";
import { toolUseId } from "../../src/dialects/ids";
import { toResponsesRequest } from "../../src/dialects/responses/request";
import { fromResponsesJson } from "../../src/dialects/responses/response";
import { ResponsesStreamTranslator, type KeptReasoning } from "../../src/dialects/responses/stream";
import { turnDigest, turnsToRestore, turnsToRestoreSliced, type StoredReasoning } from "../../src/dialects/turn-digest";
import { encodeReasoningSignature } from "../../src/dialects/signature";
import { Slicer } from "../../src/http/slicer";
import { loopTurnsDuring } from "../helpers/loop-turns";
import { fixture, fixtureJson, scriptEvents, streamEventsFor, type Script } from "../helpers/fake-responses";
import { assemble } from "../helpers/sse-grammar";
import { createEventDecoder } from "../../src/dialects/sse-reader";

const caps = createCapabilityTable();
const opts = (restored?: ReadonlyMap<number, readonly StoredReasoning[]>) => ({ model: "grok-4.3", caps: caps.get("grok-4.3"), stream: false, restored });

/** A streamed answer through the translator, thinking not asked: the message the client gets and what was kept. */
function streamed(events: Array<Record<string, unknown>>, search = false): { message: AnthropicMessage; kept: KeptReasoning | undefined } {
  const t = new ResponsesStreamTranslator({ messageId: "m", model: "claude-x", inputTokensEstimate: 1, ...(search ? { search: { webSearch: true } } : {}) });
  const out = [...t.start()];
  for (const e of events) out.push(...t.push(e as never));
  out.push(...t.finish());
  return { message: assemble(out), kept: t.reasoning };
}

function recordedSse(name: string): Array<Record<string, unknown>> {
  const d = createEventDecoder<Record<string, unknown>>((n) => n === "error");
  return d.push(new TextEncoder().encode(fixture(name))).flatMap((i) => (i.kind === "chunk" ? [i.chunk] : []));
}

/** The client's history as an SDK keeps it: the answer's content sent back as is. */
const sentBack = (m: AnthropicMessage) => JSON.parse(JSON.stringify(m.content));

/** What the store gives back for a request, the way the route finds it. */
function restoredFor(store: MemoryReasoningStore, req: Pick<MessagesRequest, "messages">): Map<number, readonly StoredReasoning[]> {
  const turns = turnsToRestore(req.messages);
  const found = store.getMany("s", turns.map((t) => t.digest));
  const map = new Map<number, readonly StoredReasoning[]>();
  found.forEach((items, k) => items && map.set(turns[k]!.ordinal, items));
  return map;
}

/** The recorded replay request with the reasoning summaries the client never saw left out (the store keeps no text). */
function withoutSummaries(input: Array<Record<string, unknown>>) {
  return input.map((i) => (i.type === "reasoning" ? { ...i, summary: [] } : i));
}

describe("thinking not asked: nothing shown, everything kept", () => {
  test("a recorded tool-call stream: no thinking block, indices 0..n-1, the reasoning kept at the start of the turn", () => {
    const { message, kept } = streamed(recordedSse("rubyllm-grok-4.3-stream-tool-call.1.sse"));
    expect(message.content.map((b) => b.type)).toEqual(["tool_use"]);
    expect(kept!.items).toHaveLength(1);
    expect(kept!.items[0]!.at).toBe(0);
    expect(kept!.items[0]!.e.length).toBeGreaterThan(100);
    // The digest is that of the turn the client got.
    expect(kept!.digest).toBe(turnDigest(sentBack(message)));
  });

  test("JSON and stream of the same answer keep the same items under the same digest", () => {
    const s: Script = { reasoning: { pieces: ["Let me ", "think."], encrypted: "ENC-1" }, text: ["Hello ", "there. "], calls: [{ name: "weather", args: ['{"a":', "1}"] }] };
    const json = fromResponsesJson(JSON.parse(JSON.stringify(jsonBody(s))), { id: "m", model: "claude-x", inputTokensEstimate: 1 });
    const st = streamed(scriptEvents(s));
    expect(json.message.content.map((b) => b.type)).toEqual(["text", "tool_use"]);
    expect(st.message.content).toEqual(json.message.content);
    expect(st.kept).toEqual(json.reasoning);
    expect(json.reasoning!.items).toEqual([{ at: 0, e: "ENC-1", i: `rs_${"1c1cae28-e3a2-9687-8eb0-6f07b789a60e"}` }]);
  });
});

function jsonBody(s: Script) {
  const events = scriptEvents(s);
  return (events.at(-1) as { response: unknown }).response;
}

describe("the same turn back: the items in place, as xAI accepted them", () => {
  test("parallel tool calls (recorded): the next request is the recorded one, the summary aside", () => {
    const json = fixtureJson("rubyllm-grok-4.3-parallel-tool-calls.1.json");
    const { message, reasoning } = fromResponsesJson(json, { id: "m", model: "claude-x", inputTokensEstimate: 1 });
    expect(message.content.map((b) => b.type)).toEqual(["tool_use", "tool_use"]);
    const store = new MemoryReasoningStore({ maxBytes: 1 << 20, ttlMs: 60_000 });
    store.put("s", reasoning!.digest, reasoning!.items);

    const recorded = fixtureJson("rubyllm-grok-4.3-parallel-tool-calls.2.request.json");
    const outputs = recorded.input.filter((i: any) => i.type === "function_call_output");
    const req: MessagesRequest = {
      model: "grok-4.3",
      max_tokens: 100,
      messages: [
        { role: "user", content: recorded.input[0].content },
        { role: "assistant", content: sentBack(message) },
        { role: "user", content: outputs.map((o: any) => ({ type: "tool_result", tool_use_id: toolUseId(o.call_id), content: o.output })) },
      ],
    };
    const t = toResponsesRequest(req, opts(restoredFor(store, req)));
    expect(JSON.stringify(t.body.input)).toBe(JSON.stringify(withoutSummaries(recorded.input)));
    expect(t.restoredReasoning).toBe(1);
    expect(t.replayedReasoning).toBe(1);
  });

  test("the recorded web search, streamed: the searches, tool outputs and both reasoning items go back in xAI's order", () => {
    const turn1 = fixtureJson("rubyllm-grok-4.3-web-search.1.json");
    const { message, kept } = streamed(streamEventsFor(turn1, 5), true);
    expect(message.content.some((b) => b.type === "thinking")).toBe(false);
    const store = new MemoryReasoningStore({ maxBytes: 1 << 20, ttlMs: 60_000 });
    store.put("s", kept!.digest, kept!.items);
    const req = {
      model: "grok-4.3",
      max_tokens: 1024,
      tools: [{ type: "web_search_20250305", name: "web_search" }],
      messages: [
        { role: "user", content: "Search the web: what is the latest stable Ruby version?" },
        { role: "assistant", content: sentBack(message) },
        { role: "user", content: "Thanks. Now just say OK." },
      ],
    } as unknown as MessagesRequest;
    const t = toResponsesRequest(req, opts(restoredFor(store, req)));
    const recorded = fixtureJson("rubyllm-grok-4.3-web-search.2.request.json");
    expect(JSON.stringify(t.body.input)).toBe(JSON.stringify(withoutSummaries(recorded.input)));
  });

  test("an edited turn matches nothing and gets nothing; a turn with our signatures does not ask the store", () => {
    const s: Script = { reasoning: { pieces: ["hm"], encrypted: "ENC-2" }, text: ["The answer is 4."] };
    const { message, kept } = streamed(scriptEvents(s));
    const store = new MemoryReasoningStore({ maxBytes: 1 << 20, ttlMs: 60_000 });
    store.put("s", kept!.digest, kept!.items);
    const ask = (content: unknown) => ({ model: "grok-4.3", max_tokens: 10, messages: [{ role: "user", content: "2+2?" }, { role: "assistant", content }, { role: "user", content: "thanks" }] }) as MessagesRequest;

    const same = ask(sentBack(message));
    expect(toResponsesRequest(same, opts(restoredFor(store, same))).body.input[1]).toEqual({ type: "reasoning", summary: [], encrypted_content: "ENC-2" });
    // A merged or trimmed copy of the same text is the same turn …
    const trimmed = ask("The answer is 4.\n");
    expect(restoredFor(store, trimmed).size).toBe(1);
    // … an edited one is not.
    const edited = ask([{ type: "text", text: "The answer is 5." }]);
    const t = toResponsesRequest(edited, opts(restoredFor(store, edited)));
    expect(t.body.input.some((i: any) => i.type === "reasoning")).toBe(false);
    expect(t.restoredReasoning).toBe(0);
    // With thinking shown, the signature carries it: the turn is not looked up at all.
    const shown = new ResponsesStreamTranslator({ messageId: "m", model: "x", inputTokensEstimate: 1, thinking: true });
    const ev = [...shown.start()];
    for (const e of scriptEvents(s)) ev.push(...shown.push(e as never));
    ev.push(...shown.finish());
    expect(turnsToRestore(ask(sentBack(assemble(ev))).messages)).toEqual([]);
  });

  test("a reasoning item between two calls goes back between them", () => {
    // xAI's output order: call A, reasoning, call B (as when it reasons again mid-turn).
    const out = [
      { type: "function_call", id: "fc_1", call_id: "call-a", name: "a", arguments: "{}" },
      { type: "reasoning", id: "rs_2", summary: [], encrypted_content: "ENC-MID" },
      { type: "function_call", id: "fc_2", call_id: "call-b", name: "b", arguments: '{"x":1}' },
    ];
    const { message, reasoning } = fromResponsesJson({ output: out, status: "completed" }, { id: "m", model: "x", inputTokensEstimate: 1 });
    expect(reasoning!.items).toEqual([{ at: 1, e: "ENC-MID", i: "rs_2" }]);
    const store = new MemoryReasoningStore({ maxBytes: 1 << 20, ttlMs: 60_000 });
    store.put("s", reasoning!.digest, reasoning!.items);
    const req = {
      model: "grok-4.3",
      max_tokens: 10,
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", content: sentBack(message) },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_call-a", content: "A" }, { type: "tool_result", tool_use_id: "toolu_call-b", content: "B" }] },
      ],
    } as MessagesRequest;
    const types = toResponsesRequest(req, opts(restoredFor(store, req))).body.input.map((i: any) => i.type ?? i.role);
    expect(types).toEqual(["user", "function_call", "reasoning", "function_call", "function_call_output", "function_call_output"]);
  });
});

describe("the memory store is bounded", () => {
  const item = (n: number): StoredReasoning[] => [{ at: 0, e: "x".repeat(n) }];

  test("past the byte cap the least recently used turn goes first; a turn larger than the cap is not kept", () => {
    const store = new MemoryReasoningStore({ maxBytes: 1000, ttlMs: 60_000 });
    store.put("s", "a", item(300));
    store.put("s", "b", item(300));
    store.getMany("s", ["a"]); // a used: b is now the oldest
    store.put("s", "c", item(300));
    expect(store.size).toBeLessThanOrEqual(1000);
    expect(store.getMany("s", ["a", "b", "c"]).map((v) => v !== undefined)).toEqual([true, false, true]);
    store.put("s", "huge", item(5000));
    expect(store.getMany("s", ["huge"])).toEqual([undefined]);
  });

  test("an entry lives its TTL after its last use; scopes never see each other's turns", () => {
    let now = 0;
    const store = new MemoryReasoningStore({ maxBytes: 1 << 20, ttlMs: 1000 }, () => now);
    store.put("s", "a", item(10));
    now = 900;
    expect(store.getMany("s", ["a"])[0]).toBeDefined(); // used: lives until 1900
    now = 1800;
    expect(store.getMany("other", ["a"])[0]).toBeUndefined();
    expect(store.getMany("s", ["a"])[0]).toBeDefined();
    now = 3000;
    expect(store.getMany("s", ["a"])[0]).toBeUndefined();
    expect(store.size).toBe(0);
  });
});

describe("turns looked up in a large request", () => {
  /** `n` assistant turns of one call each, every third with text before it and every fifth merged with a neighbour. */
  function conversation(n: number): MessagesRequest["messages"] {
    const messages: MessagesRequest["messages"] = [{ role: "user", content: "go" }];
    for (let i = 0; i < n; i++) {
      const use = { type: "tool_use" as const, id: `toolu_${i}`, name: "bash", input: { command: `ls /tmp/${i}` } };
      messages.push({ role: "assistant", content: i % 3 === 0 ? [{ type: "text", text: `step ${i}` }, use] : [use] });
      if (i % 5 === 0) messages.push({ role: "assistant", content: `and ${i}` });
      messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: `toolu_${i}`, content: "ok" }] });
    }
    return messages;
  }

  test("in slices: the same digests as at once, and the event loop gets turns meanwhile", async () => {
    const messages = conversation(3000);
    const whole = turnsToRestore(messages);
    expect(whole).toHaveLength(3000);
    const use = (i: number) => ({ type: "tool_use" as const, id: `toolu_${i}`, name: "bash", input: { command: `ls /tmp/${i}` } });
    expect(whole[7]).toEqual({ ordinal: 7, digest: turnDigest([use(7)]) });
    // Same-role neighbours are one turn.
    expect(whole[5]).toEqual({ ordinal: 5, digest: turnDigest([use(5), { type: "text", text: "and 5" }]) });
    expect(whole[6]!.digest).not.toBe(turnDigest([use(6), { type: "text", text: "and 6" }]));
    // A slice of 0 ms: every pause point gives the loop a turn.
    const { value, turns } = await loopTurnsDuring(() => turnsToRestoreSliced(messages, new Slicer(0)));
    expect(value).toEqual(whole);
    expect(turns).toBeGreaterThan(0);
  });

  test("in slices when the turns are plain strings too (as many SDK users send them)", async () => {
    const messages: MessagesRequest["messages"] = [{ role: "user", content: "go" }];
    for (let i = 0; i < 3000; i++) messages.push({ role: "assistant", content: `answer ${i}` }, { role: "user", content: `question ${i}` });
    const { value, turns } = await loopTurnsDuring(() => turnsToRestoreSliced(messages, new Slicer(0)));
    expect(value).toEqual(turnsToRestore(messages));
    expect(turns).toBeGreaterThan(0);
  });

  test("a turn holding a block no answer has (search_result) is not looked up; one carrying its reasoning neither", () => {
    const sig = encodeReasoningSignature({ encryptedContent: "enc" });
    const messages: MessagesRequest["messages"] = [
      { role: "user", content: "go" },
      { role: "assistant", content: [{ type: "search_result", source: "s", title: "t", content: [{ type: "text", text: "x" }] }] },
      { role: "user", content: "and" },
      { role: "assistant", content: [{ type: "thinking", thinking: "", signature: sig }, { type: "text", text: "hi" }] },
      { role: "user", content: "and" },
      { role: "assistant", content: "plain" },
    ];
    expect(turnsToRestore(messages)).toEqual([{ ordinal: 2, digest: turnDigest([{ type: "text", text: "plain" }]) }]);
  });
});
