/**
 * Web search on Grok for Anthropic clients, through the real server with the official SDK,
 * against the fake xAI Responses upstream serving the recorded grok-4.3 web search (as JSON, and
 * as the stream xAI sends for it: tests/helpers/fake-responses.ts `streamEventsFor`).
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadCommand } from "../../src/config";
import { sequence } from "../helpers/fake-upstream";
import { answer, fixtureJson, recordedSearch } from "../helpers/fake-responses";
import { logText, parseSSE } from "../helpers/gateway";
import { useResponsesGateway } from "../helpers/setup";
import { tempDir } from "../helpers/temp";
import { checkFrames } from "../helpers/sse-grammar";

const h = useResponsesGateway();
const x = useResponsesGateway({ serverTools: { xSearch: true } });

const WEB_SEARCH = { type: "web_search_20250305", name: "web_search" } as unknown as Anthropic.Tool;
const QUESTION = "Search the web: what is the latest stable Ruby version?";
/** Thinking enabled: the turn's reasoning is shown and carried in signatures (the store's path without it is tested below). */
const ask = { model: "grok-4.3", max_tokens: 1024, thinking: { type: "adaptive" as const }, messages: [{ role: "user" as const, content: QUESTION }], tools: [WEB_SEARCH] };

async function raw(url: string, body: Record<string, unknown>) {
  const res = await fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "test", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const types = (m: Anthropic.Message) => m.content.map((b) => b.type);

describe("a web search answer", () => {
  test("non-streaming: the searches, their results and cited text as Anthropic shapes them; xAI gets its web_search tool", async () => {
    h.fake.on(recordedSearch());
    const msg = await h.client.messages.create(ask);
    expect(h.fake.last.body.tools).toEqual([{ type: "web_search" }]);
    expect(types(msg).slice(0, 6)).toEqual(["thinking", "server_tool_use", "web_search_tool_result", "server_tool_use", "web_search_tool_result", "thinking"]);
    const use = msg.content[1] as Anthropic.ServerToolUseBlock;
    expect(use).toMatchObject({ name: "web_search", input: { query: "latest stable Ruby version" } });
    expect(use.id).toMatch(/^srvtoolu_/);
    const result = msg.content[2] as Anthropic.WebSearchToolResultBlock;
    expect(result.tool_use_id).toBe(use.id);
    expect((result.content as Anthropic.WebSearchResultBlock[]).map((r) => r.url)).toContain("https://github.com/ruby/ruby/releases");
    const texts = msg.content.filter((b): b is Anthropic.TextBlock => b.type === "text");
    expect(texts.map((t) => t.text).join("")).not.toContain("[[");
    const cited = texts.filter((t) => t.citations?.length);
    expect(cited).toHaveLength(3);
    expect(cited[0]!.citations![0]).toMatchObject({ type: "web_search_result_location", url: "https://www.ruby-lang.org/en/downloads/", title: "www.ruby-lang.org" });
    expect(msg.usage.server_tool_use).toEqual({ web_search_requests: 2, web_fetch_requests: 0 });
    expect(msg.stop_reason).toBe("end_turn");
  });

  test("streaming: the SDK's finalMessage() is the same message; raw frames follow the grammar in Anthropic's order", async () => {
    h.fake.on(recordedSearch());
    const json = await h.client.messages.create(ask);
    h.fake.on(recordedSearch());
    const final = await h.client.messages.stream(ask).finalMessage();
    expect(final.content).toEqual(json.content as never);
    expect(final.usage.server_tool_use).toEqual({ web_search_requests: 2, web_fetch_requests: 0 });
    expect(h.fake.last.body.stream).toBe(true);

    h.fake.on(recordedSearch());
    const r = await raw(h.gw.url, { ...ask, stream: true });
    expect(r.status).toBe(200);
    const frames = parseSSE(r.text);
    checkFrames(frames); // event: lines, indices 0..n-1, one block open at a time, citations before cited text
    const data = frames.map((f) => f.data);
    const useStart = data.findIndex((d) => d.type === "content_block_start" && d.content_block.type === "server_tool_use");
    expect(data[useStart].content_block.input).toEqual({});
    expect(data[useStart + 1].delta).toEqual({ type: "input_json_delta", partial_json: '{"query":"latest stable Ruby version"}' });
    expect(data[useStart + 2].type).toBe("content_block_stop");
    expect(data[useStart + 3].content_block.type).toBe("web_search_tool_result");
    expect(data[useStart + 3].content_block.content).toHaveLength(9);
    expect(data[useStart + 4].type).toBe("content_block_stop");
    const citedStart = data.findIndex((d) => d.type === "content_block_start" && Array.isArray(d.content_block.citations));
    expect(data[citedStart + 1].delta.type).toBe("citations_delta");
    expect(data[citedStart + 2].delta).toEqual({ type: "text_delta", text: "**The latest stable Ruby version is 4.0.6.**" });
    expect(data.at(-2).usage.server_tool_use).toEqual({ web_search_requests: 2, web_fetch_requests: 0 });
  });

  test("two turns: the second request gives xAI the search turn back exactly as the recorded request it accepted", async () => {
    const recorded = fixtureJson("rubyllm-grok-4.3-web-search.2.request.json");
    for (const stream of [true, false]) {
      h.fake.reset();
      h.fake.on(sequence(recordedSearch(), answer({ text: ["OK"] })));
      const first = stream ? await h.client.messages.stream(ask).finalMessage() : await h.client.messages.create(ask);
      const second = await h.client.messages.create({
        ...ask,
        messages: [ask.messages[0]!, { role: "assistant", content: first.content }, { role: "user", content: "Thanks. Now just say OK." }],
      });
      expect((second.content[0] as Anthropic.TextBlock).text).toBe("OK");
      const sent = h.fake.requests[1]!.body;
      expect(JSON.stringify(sent.input)).toBe(JSON.stringify(recorded.input));
      expect(sent.tools).toEqual(recorded.tools);
    }
  });

  test("no thinking asked: the same answer without thinking blocks, and the next turn still gives xAI its reasoning back (kept by the gateway)", async () => {
    const recorded = fixtureJson("rubyllm-grok-4.3-web-search.2.request.json");
    const { thinking: _, ...plain } = ask;
    for (const stream of [true, false]) {
      h.fake.reset();
      h.fake.on(sequence(recordedSearch(), answer({ text: ["OK"] })));
      const first = stream ? await h.client.messages.stream(plain).finalMessage() : await h.client.messages.create(plain);
      expect(types(first).slice(0, 4)).toEqual(["server_tool_use", "web_search_tool_result", "server_tool_use", "web_search_tool_result"]);
      expect(types(first)).not.toContain("thinking");
      await h.client.messages.create({
        ...plain,
        messages: [plain.messages[0]!, { role: "assistant", content: first.content }, { role: "user", content: "Thanks. Now just say OK." }],
      });
      // xAI's own turn, in its order; only the summaries the client never saw are left out.
      const expected = recorded.input.map((i: Record<string, unknown>) => (i.type === "reasoning" ? { ...i, summary: [] } : i));
      expect(JSON.stringify(h.fake.requests[1]!.body.input)).toBe(JSON.stringify(expected));
    }
  });

  test("a search turn from real Anthropic is plain text context: 200, nothing of Anthropic's encrypted values sent", async () => {
    const anthropic = fixtureJson("anthropic-target/anthropic-web-search-tool.1.json");
    h.fake.on(answer({ text: ["Sure."] }));
    const msg = await h.client.messages.create({
      ...ask,
      messages: [{ role: "user", content: "tech news?" }, { role: "assistant", content: anthropic.content }, { role: "user", content: "More on Apple?" }],
    });
    expect((msg.content[0] as Anthropic.TextBlock).text).toBe("Sure.");
    const sent = JSON.stringify(h.fake.last.body.input);
    expect(sent).toContain("https://developer.apple.com/news/");
    expect(sent).not.toContain("encrypted_content");
    expect(sent).not.toContain(anthropic.content[1].content[0].encrypted_content.slice(0, 40));
  });
});

describe("limits and what is not supported", () => {
  test("max_uses passed: the extra search is answered max_uses_exceeded, the turn pauses there", async () => {
    h.fake.on(recordedSearch());
    const limited = { ...ask, tools: [{ ...WEB_SEARCH, max_uses: 1 } as unknown as Anthropic.Tool] };
    const final = await h.client.messages.stream(limited).finalMessage();
    expect(types(final)).toEqual(["thinking", "server_tool_use", "web_search_tool_result", "server_tool_use", "web_search_tool_result"]);
    expect((final.content[4] as Anthropic.WebSearchToolResultBlock).content).toEqual({ type: "web_search_tool_result_error", error_code: "max_uses_exceeded" });
    expect(final.stop_reason).toBe("pause_turn");
    h.fake.on(recordedSearch());
    const json = await h.client.messages.create(limited);
    expect(json.stop_reason).toBe("pause_turn");
    expect(json.content).toEqual(final.content as never);
  });

  test("a server tool grok2api does not serve is a 400 that names what is supported; nothing reaches xAI", async () => {
    const r = await raw(h.gw.url, { ...ask, tools: [WEB_SEARCH, { type: "web_fetch_20250910", name: "web_fetch" }] });
    expect(r.status).toBe(400);
    const err = JSON.parse(r.text);
    expect(err.type).toBe("error");
    expect(err.error.type).toBe("invalid_request_error");
    expect(err.error.message).toContain("web_fetch_20250910");
    expect(err.error.message).toContain("web_search_20250305");
    expect(err.error.message).toContain("code_execution_20250825");
    expect(h.fake.requests).toHaveLength(0);
  });

  test("domain filters reach xAI in filters{}; user_location is noted in the log as not supported", async () => {
    h.fake.on(answer({ text: ["ok"] }));
    const tool = { ...WEB_SEARCH, blocked_domains: ["example.com"], user_location: { type: "approximate", city: "Paris" } } as unknown as Anthropic.Tool;
    await h.client.messages.create({ ...ask, tools: [tool] });
    expect(h.fake.last.body.tools).toEqual([{ type: "web_search", filters: { excluded_domains: ["example.com"] } }]);
    expect(await logText(h.gw.logFile, (t) => t.includes("user_location"))).toContain("user_location ignored");
  });

  test("[server_tools] x_search = true: the same request also gets xAI's x_search", async () => {
    x.fake.on(recordedSearch());
    const msg = await x.client.messages.create(ask);
    expect(x.fake.last.body.tools).toEqual([{ type: "web_search" }, { type: "x_search" }]);
    expect(msg.content.filter((b) => b.type === "server_tool_use")).toHaveLength(2);
  });
});

describe("[server_tools] in the config file", () => {
  test("x_search = true is read; unset is false; an unknown key is refused", async () => {
    const dir = tempDir("grok2api-ws-");
    const load = async (toml: string) => {
      const file = join(dir, "c.toml");
      writeFileSync(file, toml);
      const cmd = await loadCommand(["--config", file], {});
      return cmd.kind === "serve" ? cmd.config.serverTools : undefined;
    };
    expect(await load("[server_tools]\nx_search = true\n")).toEqual({ xSearch: true });
    expect(await load("port = 9600\n")).toEqual({ xSearch: false });
    await expect(load("[server_tools]\ncode_interpreter = true\n")).rejects.toThrow();
  });
});
