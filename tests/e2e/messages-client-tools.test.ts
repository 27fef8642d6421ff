/**
 * Anthropic-defined client tools (bash, text editor, memory, computer) and search results
 * through the real server with the official SDK, on both upstream dialects: what the upstream
 * receives, what the client gets back (JSON and stream), a tool loop, computer use routed to a
 * model that sees, and the 400s for what cannot be served (the upstream never called).
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_ROUTING } from "../../src/models/routing";
import { chunk, completion, streamOf, usageChunk, type Handler } from "../helpers/fake-upstream";
import { answer } from "../helpers/fake-responses";
import { startGateway } from "../helpers/gateway";
import { clientFor, useGateway, useResponsesGateway, type Harness } from "../helpers/setup";

const REF = JSON.parse(readFileSync(join(import.meta.dir, "..", "fixtures", "anthropic-defined-tools", "reference.json"), "utf8"));
const OPENING = "You have access to a set of functions you can use to answer the user's question. This includes access to a sandboxed computing environment.";

interface Call {
  name: string;
  args: string;
}

/** What differs between the dialects, for the same tests. */
interface Dialect {
  name: "chat" | "responses";
  h: Harness;
  /** The model calls these tools (JSON or stream, as asked). */
  calls(calls: Call[]): Handler;
  text(text: string): Handler;
  /** The function tools the upstream received, as {name, description, parameters}. */
  tools(body: any): Array<{ name: string; description?: string; parameters: unknown }>;
  system(body: any): string | undefined;
  /** Every text the upstream received in the conversation (user parts and tool outputs), in order. */
  texts(body: any): string[];
  /** The forced tool, if any. */
  forced(body: any): string | undefined;
}

const chatDialect = (h: Harness): Dialect => ({
  name: "chat",
  h,
  calls: (calls) => (req) => {
    const tool_calls = calls.map((c, i) => ({ id: `call_${i}`, type: "function", function: { name: c.name, arguments: c.args } }));
    return req.body.stream
      ? streamOf([chunk({ tool_calls: tool_calls.map((c, index) => ({ index, ...c })) }), chunk({}, "tool_calls"), usageChunk()])
      : Response.json(completion({ content: "", tool_calls }, "tool_calls"));
  },
  text: (text) => (req) => (req.body.stream ? streamOf([chunk({ content: text }), chunk({}, "stop"), usageChunk()]) : Response.json(completion({ content: text }))),
  tools: (body) => (body.tools ?? []).map((t: any) => t.function),
  system: (body) => (body.messages[0]?.role === "system" ? body.messages[0].content : undefined),
  texts: (body) =>
    body.messages.flatMap((m: any) =>
      m.role === "system" ? [] : typeof m.content === "string" ? [m.content] : Array.isArray(m.content) ? m.content.filter((p: any) => p.type === "text").map((p: any) => p.text) : [],
    ),
  forced: (body) => body.tool_choice?.function?.name,
});

const responsesDialect = (h: Harness): Dialect => ({
  name: "responses",
  h,
  calls: (calls) => answer({ calls: calls.map((c) => ({ name: c.name, args: [c.args.slice(0, 5), c.args.slice(5)] })) }),
  text: (text) => answer({ text: [text] }),
  tools: (body) => (body.tools ?? []).filter((t: any) => t.type === "function").map(({ type: _, ...fn }: any) => fn),
  system: (body) => body.instructions,
  texts: (body) =>
    body.input.flatMap((item: any) =>
      item.type === "function_call_output"
        ? [item.output]
        : item.role === "user"
          ? typeof item.content === "string"
            ? [item.content]
            : item.content.filter((p: any) => p.type === "input_text").map((p: any) => p.text)
          : [],
    ),
  forced: (body) => body.tool_choice?.name,
});

const dialects = [chatDialect(useGateway()), responsesDialect(useResponsesGateway())];

const BASH = { type: "bash_20250124", name: "bash" } as Anthropic.ToolBash20250124;
const EDITOR = { type: "text_editor_20250728", name: "str_replace_based_edit_tool", max_characters: 10000, cache_control: { type: "ephemeral" } } as Anthropic.ToolTextEditor20250728;
const MEMORY = { type: "memory_20250818", name: "memory" } as Anthropic.MemoryTool20250818;
const COMPUTER = { type: "computer_20250124", name: "computer", display_width_px: 1280, display_height_px: 800, display_number: 1 } as never;
const WEATHER = { name: "weather", description: "Weather for a city", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };
const ask = { model: "grok-4.3", max_tokens: 300, messages: [{ role: "user" as const, content: "Fix the file." }] };

const searchResult = (title: string, texts: string[]) => ({
  type: "search_result" as const,
  source: `https://docs.example.com/${title}`,
  title,
  content: texts.map((text) => ({ type: "text" as const, text })),
  citations: { enabled: true },
});

async function rawPost(gwUrl: string, body: unknown) {
  const res = await fetch(`${gwUrl}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "test", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

for (const d of dialects) {
  describe(`${d.name} upstream`, () => {
    const fake = () => d.h.fake;
    const client = () => d.h.client;

    test("each tool goes upstream as a function with Claude's schema and description, under its Anthropic name; Anthropic's prompt additions first", async () => {
      fake().on(d.text("ok"));
      await client().messages.create({ ...ask, system: "Be brief.", tools: [WEATHER, EDITOR, MEMORY, BASH], tool_choice: { type: "tool", name: "bash" } });
      const body = fake().last.body;
      const sent = d.tools(body);
      expect(sent.map((t) => t.name)).toEqual(["bash", "memory", "str_replace_based_edit_tool", "weather"]);
      // Exactly the schema (same keys, same order), byte for byte.
      expect(JSON.stringify(sent[0]!.parameters)).toBe(JSON.stringify(REF.schemas.bash));
      expect(sent[0]!.description).toBe(REF.descriptions.bash);
      expect(JSON.stringify(sent[1]!.parameters)).toBe(JSON.stringify(REF.schemas.memory));
      expect(JSON.stringify(sent[2]!.parameters)).toBe(JSON.stringify(REF.schemas.text_editor_b));
      expect(sent[2]!.description).toStartWith("Custom editing tool for viewing, creating and editing files");
      expect(sent[2]!.description).not.toContain("undo_edit");
      expect(sent[3]).toEqual({ name: "weather", description: "Weather for a city", parameters: WEATHER.input_schema });
      expect(JSON.stringify(body.tools)).not.toContain("max_characters");
      expect(JSON.stringify(body.tools)).not.toContain("cache_control");
      expect(d.forced(body)).toBe("bash");
      const system = d.system(body)!;
      expect(system).toStartWith(OPENING);
      expect(system).toEndWith(`${REF.memory_instruction}\n\nBe brief.`);
    });

    test("the model's calls come back as tool_use of the client's tool, input normalised (insert_text for this editor): JSON and stream", async () => {
      const calls = [
        { name: "bash", args: '{"command":"cat /a.py"}' },
        { name: "str_replace_based_edit_tool", args: '{"command":"insert","path":"/a.py","insert_line":2,"new_str":"x = 1\\n"}' },
      ];
      const expected = [
        { type: "tool_use", name: "bash", input: { command: "cat /a.py" } },
        { type: "tool_use", name: "str_replace_based_edit_tool", input: { command: "insert", path: "/a.py", insert_line: 2, insert_text: "x = 1\n" } },
      ];
      fake().on(d.calls(calls));
      const json = await client().messages.create({ ...ask, tools: [BASH, EDITOR] });
      expect(json.stop_reason).toBe("tool_use");
      expect(json.content).toMatchObject(expected);
      fake().on(d.calls(calls));
      const streamed = await client().messages.stream({ ...ask, tools: [BASH, EDITOR] }).finalMessage();
      expect(streamed.content).toMatchObject(expected);
      expect(streamed.content.map((b) => (b as Anthropic.ToolUseBlock).input)).toEqual(json.content.map((b) => (b as Anthropic.ToolUseBlock).input));
    });

    test("schema A's editor gets new_str back for insert; a custom tool's input is never touched", async () => {
      const calls = [
        { name: "str_replace_editor", args: '{"command":"insert","path":"/b","insert_line":0,"insert_text":"top"}' },
        { name: "weather", args: '{"city":"Oslo","new_str":"x","command":"insert"}' },
      ];
      fake().on(d.calls(calls));
      const msg = await client().messages.stream({ ...ask, tools: [{ type: "text_editor_20250124", name: "str_replace_editor" } as never, WEATHER] }).finalMessage();
      expect(msg.content.map((b) => (b as Anthropic.ToolUseBlock).input)).toEqual([
        { command: "insert", path: "/b", insert_line: 0, new_str: "top" },
        { city: "Oslo", new_str: "x", command: "insert" },
      ]);
    });

    test("a tool loop: the call and its result go back upstream under the same name and id; the answer follows", async () => {
      fake().on((req, n) => (n === 1 ? d.calls([{ name: "bash", args: '{"command":"ls"}' }])(req, n) : d.text("Two files.")(req, n)));
      const tools = [BASH];
      const first = await client().messages.create({ ...ask, tools });
      const use = first.content.find((b) => b.type === "tool_use") as Anthropic.ToolUseBlock;
      expect(use).toMatchObject({ name: "bash", input: { command: "ls" } });
      const second = await client().messages.create({
        ...ask,
        tools,
        messages: [...ask.messages, { role: "assistant", content: first.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "a.py\nb.py" }] }],
      });
      expect(second.content).toMatchObject([{ type: "text", text: "Two files." }]);
      const body = fake().last.body;
      expect(d.tools(body).map((t) => t.name)).toEqual(["bash"]);
      if (d.name === "chat") {
        const call = body.messages.find((m: any) => m.tool_calls)!.tool_calls[0];
        expect(call.function).toEqual({ name: "bash", arguments: '{"command":"ls"}' });
        expect(body.messages.at(-1)).toEqual({ role: "tool", tool_call_id: call.id, content: "a.py\nb.py" });
      } else {
        const call = body.input.find((i: any) => i.type === "function_call");
        expect(call).toMatchObject({ name: "bash", arguments: '{"command":"ls"}' });
        expect(body.input.at(-1)).toEqual({ type: "function_call_output", call_id: call.call_id, output: "a.py\nb.py" });
      }
    });

    test("search results reach the upstream as text, in place: top level and inside a tool result, numbered across the request", async () => {
      fake().on(d.text("ok"));
      await client().messages.create({
        ...ask,
        tools: [WEATHER],
        messages: [
          { role: "user", content: [searchResult("guide", ["Auth needs a key.", "1000 requests per hour."]), { type: "text", text: "Limits?" }] },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_s1", name: "weather", input: { city: "Oslo" } }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_s1", content: [{ type: "text", text: "Found:" }, searchResult("oslo", ["Sunny."])] }] },
        ],
      });
      const texts = d.texts(fake().last.body);
      expect(texts).toEqual([
        '<search_result index="0" source="https://docs.example.com/guide" title="guide">\n[0.0] Auth needs a key.\n[0.1] 1000 requests per hour.\n</search_result>',
        "Limits?",
        'Found:\n\n<search_result index="1" source="https://docs.example.com/oslo" title="oslo">\n[1.0] Sunny.\n</search_result>',
      ]);
    });

    test("what cannot be served is a 400 naming the type and where it is; the upstream is never called", async () => {
      const cases: Array<[Record<string, unknown>, string[]]> = [
        [{ tools: [WEATHER, { type: "web_fetch_20250910", name: "web_fetch" }] }, ["tools[1]", '"web_fetch_20250910"', "bash_20250124"]],
        [{ tools: [{ type: "tool_search_tool_regex_20251119", name: "tool_search_tool_regex" }] }, ["tools[0]", '"tool_search_tool_regex_20251119"']],
        [{ tools: [{ type: "mcp_toolset", mcp_server_name: "x" }] }, ["tools[0].mcp_server_name", '"x"', "mcp_servers"]],
        [{ tools: [{ type: "teleport_20990101", name: "t" }] }, ["tools[0]", '"teleport_20990101"', "supported"]],
        [{ tools: [WEATHER, { type: "bash_20250124", name: "shell" }] }, ["tools[1].name", "bash_20250124", '"bash"', '"shell"']],
        [{ tools: [{ type: "bash_20270101", name: "bash" }] }, ["tools[0].type", "bash_20270101", "bash_20241022, bash_20250124"]],
        [
          {
            messages: [
              { role: "user", content: "hi" },
              { role: "assistant", content: "hello" },
              { role: "user", content: [{ type: "mcp_tool_use", id: "m", name: "n", server_name: "s", input: {} }] },
            ],
          },
          ["messages[2].content[0]", '"mcp_tool_use"', "belongs in an assistant turn"],
        ],
        [{ messages: [{ role: "user", content: [{ type: "text", text: "a" }, { type: "container_upload", file_id: "f" }] }] }, ["messages[0].content[1]", '"container_upload"']],
      ];
      for (const [extra, parts] of cases) {
        const r = await rawPost(d.h.gw.url, { ...ask, ...extra });
        expect(r.status, JSON.stringify(extra)).toBe(400);
        expect(r.json.error.type).toBe("invalid_request_error");
        for (const p of parts) expect(r.json.error.message).toContain(p);
      }
      // The SDK sees the same.
      const err = await client().messages.create({ ...ask, tools: [{ type: "advisor_20260301", name: "advisor" } as never] }).catch((e) => e);
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect(err.error.error.message).toContain('tools[0]: tool type "advisor_20260301" is not supported');
      expect(fake().requests).toHaveLength(0);
    });
  });
}

/** A gateway of its own on the dialect's fake, routing by `vision`, stopped when `run` is done. */
async function withVisionRouting(d: Dialect, vision: string, run: (c: Anthropic) => Promise<void>) {
  const upstream = d.name === "responses" ? { upstream: { baseUrl: d.h.fake.baseUrl, keys: ["xai-test-upstream-key"], api: "responses" as const } } : {};
  const gw = startGateway(d.h.fake.baseUrl, { ...upstream, routing: { ...DEFAULT_ROUTING, default: "grok-2-1212", vision } });
  try {
    await run(clientFor(gw));
  } finally {
    await gw.stop();
  }
}

describe("computer use needs a model that sees", () => {
  const ask2 = { model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user" as const, content: "Open the browser." }] };
  for (const d of dialects) {
    test(`${d.name}: routed to [routing] vision when the routed model has no image input; coordinates come back as integers`, () =>
      withVisionRouting(d, "grok-2-vision-1212", async (c) => {
        d.h.fake.on(d.calls([{ name: "computer", args: '{"action":"left_click","coordinate":"[640, 400]"}' }]));
        const json = await c.messages.create({ ...ask2, tools: [COMPUTER] });
        expect(d.h.fake.last.body.model).toBe("grok-2-vision-1212");
        expect(json.content).toMatchObject([{ type: "tool_use", name: "computer", input: { action: "left_click", coordinate: [640, 400] } }]);
        const fn = d.tools(d.h.fake.last.body)[0]!;
        expect(JSON.stringify(fn.parameters)).toBe(JSON.stringify(REF.schemas.computer_20250124));
        expect(fn.description).toContain("The screen's resolution is 1280x800.");
        expect(fn.description).toContain("The display number is 1");
        expect(d.system(d.h.fake.last.body)).toStartWith(OPENING);
        d.h.fake.on(d.calls([{ name: "computer", args: '{"action":"left_click_drag","start_coordinate":[1.4, 2],"coordinate":"[3, 4]"}' }]));
        const streamed = await c.messages.stream({ ...ask2, tools: [COMPUTER] }).finalMessage();
        expect(streamed.content).toMatchObject([{ type: "tool_use", name: "computer", input: { action: "left_click_drag", start_coordinate: [1, 2], coordinate: [3, 4] } }]);
        // Without the computer tool the same request stays on the default model.
        d.h.fake.on(d.text("ok"));
        await c.messages.create({ ...ask2, tools: [BASH] });
        expect(d.h.fake.last.body.model).toBe("grok-2-1212");
      }));

    test(`${d.name}: no model that sees: a 400 naming the computer tool and the setting; nothing sent`, () =>
      withVisionRouting(d, "", async (c) => {
        d.h.fake.on(d.text("ok"));
        const err = await c.messages.create({ ...ask2, tools: [COMPUTER] }).catch((e) => e);
        expect(err).toBeInstanceOf(Anthropic.BadRequestError);
        expect(err.error.error.message).toContain("computer-use tool");
        expect(err.error.error.message).toContain("[routing] vision");
        expect(d.h.fake.requests).toHaveLength(0);
      }));
  }
});
