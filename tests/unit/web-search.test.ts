/**
 * Grok's server-side web search for Anthropic clients, the pure pieces: inline links → cited
 * passages, our opaque carriers, the recorded grok-4.3 search as Anthropic blocks (JSON and stream
 * give the same message), the next turn given back to xAI exactly as the recorded request that xAI
 * accepted, max_uses, hidden sub-calls, foreign search blocks, and the request's tools.
 */
import { describe, expect, test } from "bun:test";
import type { AnthropicMessage, MessagesRequest } from "../../src/anthropic/schema";
import { refuseServerTools, webSearchSpec } from "../../src/anthropic/server-tools";
import { validateMessagesRequest } from "../../src/anthropic/validate";
import { ApiError } from "../../src/http/errors";
import { InlineCitations, type CiteUnit } from "../../src/dialects/responses/citations";
import { toResponsesRequest } from "../../src/dialects/responses/request";
import { fromResponsesJson } from "../../src/dialects/responses/response";
import {
  decodeCitation,
  decodeResult,
  encodeCitation,
  encodeResult,
  searchItemId,
  serverToolUseId,
} from "../../src/dialects/responses/search-codec";
import { ResponsesStreamTranslator } from "../../src/dialects/responses/stream";
import { fixtureJson, streamEventsFor } from "../helpers/fake-responses";
import { assemble } from "../helpers/sse-grammar";
import { rng } from "../helpers/random";

const TURN1 = "rubyllm-grok-4.3-web-search.1.json";
const caps = { vision: true, maxOutput: 128000, stop: false, reasoningEffort: ["low", "medium", "high"] } as never;
const search = { webSearch: true };

const rebuild = (units: CiteUnit[]) =>
  units.map((u) => (u.kind === "text" ? u.text : u.kind === "cited" ? u.text + u.link.markup : u.link.markup)).join("");

function json(response = fixtureJson(TURN1), opts: { maxUses?: number } = {}): AnthropicMessage {
  // Thinking enabled: these tests follow the reasoning items through its signatures (the store's path is in reasoning-store.test.ts).
  return fromResponsesJson(response, { id: "msg_t", model: "claude-x", inputTokensEstimate: 10, search: { ...search, ...opts }, thinking: true }).message;
}

function streamed(response = fixtureJson(TURN1), piece = 7, opts: { maxUses?: number } = {}): { message: AnthropicMessage; stopped: boolean } {
  const t = new ResponsesStreamTranslator({ messageId: "msg_t", model: "claude-x", inputTokensEstimate: 10, search: { ...search, ...opts }, thinking: true });
  const events = [...t.start()];
  for (const e of streamEventsFor(response, piece)) {
    if (t.stopped) break;
    events.push(...t.push(e as never));
  }
  events.push(...t.finish());
  return { message: assemble(events), stopped: t.stopped };
}

const replayRequest = (assistant: AnthropicMessage): MessagesRequest =>
  ({
    model: "grok-4.3",
    max_tokens: 1024,
    tools: [{ type: "web_search_20250305", name: "web_search" }],
    messages: [
      { role: "user", content: "Search the web: what is the latest stable Ruby version?" },
      { role: "assistant", content: JSON.parse(JSON.stringify(assistant.content)) },
      { role: "user", content: "Thanks. Now just say OK." },
    ],
  }) as never;

describe("inline citations", () => {
  const text: string = fixtureJson(TURN1).output.at(-1).content[0].text;

  test("the recorded answer: three cited passages, links out of the text, plain text between", () => {
    const c = new InlineCitations();
    const units = [...c.push(text), ...c.finish()];
    expect(units.filter((u) => u.kind === "cited").map((u) => (u as { link: { n: string } }).link.n)).toEqual(["1", "1", "2"]);
    for (const u of units) if (u.kind !== "more") expect(u.text).not.toContain("[[");
    expect(units[0]).toMatchObject({ kind: "cited", text: "**The latest stable Ruby version is 4.0.6.**" });
    expect(units[1]).toEqual({ kind: "text", text: "\n\n" });
    expect(rebuild(units)).toBe(text);
  });

  test("any split of the text into deltas gives the same units back, and the text exactly", () => {
    const whole = new InlineCitations();
    const expected = [...whole.push(text), ...whole.finish()];
    const rnd = rng(12);
    for (let run = 0; run < 200; run++) {
      const c = new InlineCitations();
      const units: CiteUnit[] = [];
      for (let i = 0; i < text.length; ) {
        const n = 1 + Math.floor(rnd() * 12);
        units.push(...c.push(text.slice(i, i + n)));
        i += n;
      }
      units.push(...c.finish());
      expect(rebuild(units)).toBe(text);
      // Plain text may come in more pieces; the cited passages are the same.
      expect(units.filter((u) => u.kind !== "text")).toEqual(expected.filter((u) => u.kind !== "text"));
    }
  });

  test("a second link right after the first cites the same passage; text without links passes as it is", () => {
    const c = new InlineCitations();
    const units = [...c.push("Fact one.[[1]](https://a.example/x) [[2]](https://b.example/)\nNo link here"), ...c.finish()];
    expect(units.map((u) => u.kind)).toEqual(["cited", "more", "text", "text"]);
    expect(units[1]).toMatchObject({ link: { n: "2", url: "https://b.example/", markup: " [[2]](https://b.example/)" } });
    expect(rebuild(units)).toBe("Fact one.[[1]](https://a.example/x) [[2]](https://b.example/)\nNo link here");
    const wiki = "Ruby is a language.[[3]](https://en.wikipedia.org/wiki/Ruby_(programming_language)) More.";
    for (const n of [1, 5, 100]) {
      const c = new InlineCitations();
      const got: CiteUnit[] = [];
      for (let i = 0; i < wiki.length; i += n) got.push(...c.push(wiki.slice(i, i + n)));
      got.push(...c.finish());
      expect(got.find((u) => u.kind === "cited")).toMatchObject({ text: "Ruby is a language.", link: { url: "https://en.wikipedia.org/wiki/Ruby_(programming_language)" } });
      expect(rebuild(got)).toBe(wiki);
    }
    const plain = new InlineCitations();
    expect([...plain.push("a [b](c) [[x]] ["), ...plain.finish()]).toEqual([{ kind: "text", text: "a [b](c) [[x]] [" }]);
  });
});

describe("our carriers", () => {
  test("round trips; anyone else's values are foreign", () => {
    expect(searchItemId(serverToolUseId("ws_abc-1_call-x-0"))).toBe("ws_abc-1_call-x-0");
    expect(searchItemId("srvtoolu_01Qxbje4duKBes3Nj42MkZug")).toBeUndefined();
    expect(decodeResult(encodeResult({ u: "https://a/", o: { i: "tco_1", e: "E" } }))).toEqual({ u: "https://a/", o: { i: "tco_1", e: "E" } });
    expect(decodeResult("EuAdCioICBgCIiRiY2Jj")).toBeUndefined();
    expect(decodeResult("grok2api.ws1.!!!")).toBeUndefined();
    expect(decodeCitation(encodeCitation({ m: "msg_1", s: "[[1]](u)", n: "1", u: "u" }))).toEqual({ m: "msg_1", s: "[[1]](u)", n: "1", u: "u" });
    expect(decodeCitation("Eo8BCioICBgC")).toBeUndefined();
  });
});

describe("the recorded grok-4.3 web search as Anthropic blocks", () => {
  test("JSON: thinking, two searches with their results, cited text; no raw links; usage counts the searches", () => {
    const m = json();
    expect(m.content.map((b) => b.type)).toEqual([
      "thinking",
      "server_tool_use",
      "web_search_tool_result",
      "server_tool_use",
      "web_search_tool_result",
      "thinking",
      "text",
      "text",
      "text",
      "text",
      "text",
      "text",
    ]);
    const use = m.content[1] as any;
    expect(use).toEqual({ type: "server_tool_use", id: expect.stringMatching(/^srvtoolu_ws_fe1da043/), name: "web_search", input: { query: "latest stable Ruby version" } });
    const result = m.content[2] as any;
    expect(result.tool_use_id).toBe(use.id);
    expect(result.content).toHaveLength(9);
    expect(result.content[0]).toMatchObject({ type: "web_search_result", url: "https://www.ruby-lang.org/en/downloads/", title: "www.ruby-lang.org", page_age: null });
    // The first result carries the search's encrypted tool output (tco_), the rest only their URL.
    expect(decodeResult(result.content[0].encrypted_content)!.o!.i).toStartWith("tco_fe1da043");
    expect(decodeResult(result.content[1].encrypted_content)).toEqual({ u: result.content[1].url });
    const texts = m.content.filter((b) => b.type === "text") as any[];
    for (const t of texts) expect(t.text).not.toMatch(/\[\[\d+\]\]\(/);
    const cited = texts.filter((t) => t.citations);
    expect(cited.map((t) => t.citations.map((c: any) => c.url))).toEqual([
      ["https://www.ruby-lang.org/en/downloads/"],
      ["https://www.ruby-lang.org/en/downloads/"],
      ["https://github.com/ruby/ruby/releases"],
    ]);
    expect(cited[2].citations[0]).toMatchObject({
      type: "web_search_result_location",
      title: "github.com",
      cited_text: "GitHub's ruby/ruby releases page also lists 4.0.6 as the latest release.",
    });
    expect(m.usage.server_tool_use).toEqual({ web_search_requests: 2, web_fetch_requests: 0 });
    expect(m.stop_reason).toBe("end_turn");
  });

  test("the stream gives the same message as the JSON, whatever the delta size", () => {
    const expected = json();
    for (const piece of [1, 3, 7, 50, 10_000]) {
      const { message } = streamed(undefined, piece);
      expect(message.content).toEqual(expected.content);
      expect(message.usage.server_tool_use).toEqual({ web_search_requests: 2, web_fetch_requests: 0 });
    }
  });

  test("the next turn gives xAI the recorded turn back exactly (JSON and stream answers alike)", () => {
    const recorded = fixtureJson("rubyllm-grok-4.3-web-search.2.request.json");
    for (const m of [json(), streamed(undefined, 5).message]) {
      const { body, replayedReasoning } = toResponsesRequest(replayRequest(m), { model: "grok-4.3", caps, stream: false });
      expect(JSON.stringify(body.input)).toBe(JSON.stringify(recorded.input));
      expect(body.tools).toEqual(recorded.tools);
      expect(replayedReasoning).toBe(4); // two reasoning items, two encrypted search outputs
    }
  });

  test("retried without encrypted content (xAI could not decrypt): searches and text still go back, no tco_ outputs, summary kept", () => {
    const { body, replayedReasoning } = toResponsesRequest(replayRequest(json()), { model: "grok-4.3", caps, stream: false, withoutEncryptedReasoning: true });
    const sent = JSON.stringify(body.input);
    expect(sent).not.toContain("encrypted_content");
    expect(sent).not.toContain("tco_");
    expect(body.input.filter((i: any) => i.type === "web_search_call")).toHaveLength(2);
    expect(body.input.filter((i: any) => i.type === "message")).toHaveLength(1);
    expect(body.input.find((i: any) => i.type === "reasoning")).toEqual({
      type: "reasoning",
      summary: [{ type: "summary_text", text: expect.stringContaining("Search the web") }],
    });
    expect(replayedReasoning).toBe(0);
  });

  test("a stop sequence inside a cited answer ends it there, links never leaked, stream and stop reason right", () => {
    const t = new ResponsesStreamTranslator({ messageId: "m", model: "x", inputTokensEstimate: 1, stopSequences: ["GitHub"], search });
    const events = [...t.start()];
    for (const e of streamEventsFor(fixtureJson(TURN1), 4)) {
      if (t.stopped) break;
      events.push(...t.push(e as never));
    }
    events.push(...t.finish());
    const m = assemble(events);
    expect(m.stop_reason).toBe("stop_sequence");
    const text = m.content.filter((b) => b.type === "text").map((b: any) => b.text).join("");
    expect(text).toEndWith("(a maintenance branch).\n\n");
    expect(text).not.toContain("[[");
    expect(m.content.filter((b: any) => b.citations).length).toBe(2);
  });

  test("without a web search tool on the request, an answer's text is left as it is", () => {
    const m = fromResponsesJson(fixtureJson(TURN1), { id: "m", model: "x", inputTokensEstimate: 1 }).message;
    expect((m.content.at(-1) as any).text).toContain("[[2]](https://github.com/ruby/ruby/releases)");
  });
});

describe("max_uses", () => {
  test("past max_uses: the search is answered max_uses_exceeded and the answer pauses (JSON and stream)", () => {
    for (const m of [json(undefined, { maxUses: 1 }), streamed(undefined, 7, { maxUses: 1 }).message]) {
      expect(m.content.map((b) => b.type)).toEqual(["thinking", "server_tool_use", "web_search_tool_result", "server_tool_use", "web_search_tool_result"]);
      expect((m.content[4] as any).content).toEqual({ type: "web_search_tool_result_error", error_code: "max_uses_exceeded" });
      expect((m.content[3] as any).input).toEqual({ query: "Ruby latest stable release" });
      expect(m.stop_reason).toBe("pause_turn");
    }
    expect(streamed(undefined, 7, { maxUses: 1 }).stopped).toBe(true);
    expect(json(undefined, { maxUses: 2 }).stop_reason).toBe("end_turn");
  });
});

describe("what never reaches the client", () => {
  test("x_search sub-calls (custom_tool_call) are never tool_use; its searches show as web searches without listed results", () => {
    const response = fixtureJson(TURN1);
    response.output.splice(
      1,
      0,
      { call_id: "xs_call_1", input: '{"query":"from:xai","limit":20}', name: "x_keyword_search", type: "custom_tool_call", id: "ctc_r_xs_call_1", status: "completed" },
      { call_id: "xs_call_2", input: '{"video_url":"https://x.com/v"}', name: "view_x_video", type: "custom_tool_call", id: "ctc_r_xs_call_2", status: "completed" },
    );
    for (const m of [json(response), streamed(response).message]) {
      expect(m.content.some((b) => b.type === "tool_use")).toBe(false);
      expect(m.content[1]).toMatchObject({ type: "server_tool_use", input: { query: "from:xai" } });
      expect(m.content[2]).toMatchObject({ type: "web_search_tool_result", content: [] });
      expect(m.stop_reason).toBe("end_turn");
    }
  });

  test("a search from real Anthropic comes back as plain text context, its own values never sent", () => {
    const anthropic = fixtureJson("anthropic-target/anthropic-web-search-tool.1.json");
    const req = { ...replayRequest(anthropic), messages: [{ role: "user", content: "news?" }, { role: "assistant", content: anthropic.content }, { role: "user", content: "more" }] };
    const { body } = toResponsesRequest(req as never, { model: "grok-4.3", caps, stream: false });
    const sent = JSON.stringify(body.input);
    expect(sent).not.toContain("encrypted");
    expect(sent).not.toContain("srvtoolu_");
    expect(sent).not.toContain("web_search_call");
    const assistant = body.input.filter((i: any) => i.role === "assistant") as any[];
    expect(assistant).toHaveLength(1);
    expect(assistant[0].content[0].text).toContain("[Web search: tech news today September 26 2024]");
    expect(assistant[0].content[0].text).toContain("https://developer.apple.com/news/");
    expect(assistant[0].content[0].text).toContain("Caroline Ellison");
    // Anthropic's cited answer is one text cut into blocks: the pieces join as they were.
    expect(assistant[0].content[0].text).toContain("\n[Web search: tech news today September 26 2024]\n- Latest News - Apple Developer: https://developer.apple.com/news/\n");
    expect(assistant[0].content[0].text).toContain("2024:\n\n#");
  });
});

describe("the request's tools", () => {
  const req = (tool: Record<string, unknown>) => ({ model: "m", max_tokens: 9, messages: [{ role: "user", content: "q" }], tools: [tool] }) as never;
  const send = (tool: Record<string, unknown>, xSearch = false) => toResponsesRequest(req(tool), { model: "grok-4.3", caps, stream: true, xSearch });

  test("web_search_* → xAI web_search; domains in filters (blocked → excluded); x_search when configured; user_location noted", () => {
    expect(send({ type: "web_search_20250305", name: "web_search", max_uses: 8 }).body.tools).toEqual([{ type: "web_search" }]);
    expect(send({ type: "web_search_20260209", name: "web_search", allowed_domains: ["ruby-lang.org"] }).body.tools).toEqual([
      { type: "web_search", filters: { allowed_domains: ["ruby-lang.org"] } },
    ]);
    const blocked = send({ type: "web_search_20250305", name: "web_search", blocked_domains: ["a.com", "b.com"], user_location: { type: "approximate", city: "Paris" } }, true);
    expect(blocked.body.tools).toEqual([{ type: "web_search", filters: { excluded_domains: ["a.com", "b.com"] } }, { type: "x_search" }]);
    expect(blocked.warnings.join()).toContain("user_location");
  });

  test("clear 400s: both domain lists, too many domains, a bad max_uses, an unknown code execution version, web search on a chat upstream", () => {
    const status = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof ApiError ? `${e.status} ${e.message}` : String(e);
      }
      return "ok";
    };
    expect(status(() => send({ type: "web_search_20250305", name: "web_search", allowed_domains: ["a"], blocked_domains: ["b"] }))).toContain("400 tools[0]: allowed_domains and blocked_domains");
    expect(status(() => webSearchSpec([{ type: "web_search_20250305", name: "w", allowed_domains: ["1", "2", "3", "4", "5", "6"] } as never]))).toContain("at most 5");
    expect(status(() => webSearchSpec([{ type: "web_search_20250305", name: "w", max_uses: 0 } as never]))).toContain("max_uses");
    expect(status(() => send({ type: "code_execution_20990101", name: "code_execution" }))).toMatch(/^400 tools\[0\]\.type: unknown code execution version "code_execution_20990101"; supported: code_execution_20250522, /);
    expect(status(() => refuseServerTools([{ type: "web_search_20250305", name: "web_search" }], "chat"))).toMatch(/^400 .*Responses API/);
    expect(status(() => refuseServerTools([{ type: "web_search_20250305", name: "web_search" }], "responses"))).toBe("ok");
  });
});

describe("hostile search items and blocks", () => {
  const values = [null, 0, "x", "", [], {}, true, [null], [{ url: 5 }], { query: 7, sources: "x" }, "tco_x", "ws_x"];
  const allowed = (err: unknown) => err instanceof Error && ["MalformedUpstream", "ToolArgumentsError", "ResponsesStreamFailed"].includes(err.constructor.name);

  test("the recorded search with random fields broken: both translators answer or say the upstream is at fault, never crash", () => {
    const r = rng(4242);
    const pick = <T,>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
    let answered = 0;
    for (let run = 0; run < 300; run++) {
      const response = fixtureJson(TURN1);
      const output = response.output as Array<Record<string, unknown>>;
      for (let k = 0; k < 3; k++) {
        const item = pick(output);
        const key = pick(["id", "type", "action", "summary", "encrypted_content", "content", "status", "name", "input"]);
        item[key] = pick(values);
      }
      if (r() < 0.3) output.reverse();
      for (const piece of [3, 40]) {
        try {
          json(response, { maxUses: r() < 0.3 ? 1 : undefined });
          const { message } = streamed(response, piece);
          expect(message.content.some((b) => b.type === "tool_use")).toBe(false);
          answered++;
        } catch (err) {
          if (!allowed(err)) throw err;
        }
      }
    }
    expect(answered).toBeGreaterThan(100);
  });

  test("random search blocks sent back never crash the request translation, and never put a null in a replayed item", () => {
    const r = rng(99);
    const pick = <T,>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
    const good = json().content;
    let checked = 0;
    for (let run = 0; run < 300; run++) {
      const content = JSON.parse(JSON.stringify(good)) as Array<Record<string, unknown>>;
      for (let k = 0; k < 3; k++) {
        const b = pick(content);
        b[pick(["id", "tool_use_id", "input", "content", "citations", "signature", "text"])] = pick([...values, "srvtoolu_ws_1", "grok2api.ws1.e30", "grok2api.ci1.e30"]);
      }
      const req = replayRequest({ ...json(), content } as AnthropicMessage);
      // What the server would refuse with a 400 never reaches the translation.
      if (!validateMessagesRequest(req).ok) continue;
      checked++;
      try {
        const { body } = toResponsesRequest(req, { model: "grok-4.3", caps, stream: true });
        expect(JSON.stringify(body.input)).not.toContain("null");
      } catch (err) {
        // the validator would have refused a block of the wrong shape; the translation must not crash on it either
        if (!(err instanceof TypeError)) throw err;
        throw new Error(`crashed on ${JSON.stringify(content).slice(0, 300)}: ${err}`);
      }
    }
    expect(checked).toBeGreaterThan(50);
  });
});
