/**
 * Search results through the real server with the official SDK, on both upstream dialects:
 * what the upstream receives, and the 400s for block types that cannot be served (the upstream
 * never called).
 */
import { describe, expect, test } from "bun:test";
import { chunk, completion, streamOf, usageChunk, type Handler } from "../helpers/fake-upstream";
import { answer } from "../helpers/fake-responses";
import { useGateway, useResponsesGateway, type Harness } from "../helpers/setup";


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

    test("a block type the gateway does not translate is a 400 naming it and where it is; the upstream is never called", async () => {
      const cases: Array<[Record<string, unknown>, string[]]> = [
        [
          {
            messages: [
              { role: "user", content: "hi" },
              { role: "assistant", content: "hello" },
              { role: "user", content: [{ type: "mcp_tool_use", id: "m", name: "n", server_name: "s", input: {} }] },
            ],
          },
          ["messages[2].content[0]", '"mcp_tool_use"', "search_result"],
        ],
        [{ messages: [{ role: "user", content: [{ type: "text", text: "a" }, { type: "container_upload", file_id: "f" }] }] }, ["messages[0].content[1]", '"container_upload"']],
      ];
      for (const [extra, parts] of cases) {
        const r = await rawPost(d.h.gw.url, { ...ask, ...extra });
        expect(r.status, JSON.stringify(extra)).toBe(400);
        expect(r.json.error.type).toBe("invalid_request_error");
        for (const p of parts) expect(r.json.error.message).toContain(p);
      }
      expect(fake().requests).toHaveLength(0);
    });
  });
}
