/**
 * `search_result` blocks: validated like the other blocks, rendered as text in place (numbered
 * across the request), and any block type the gateway does not translate refused by name.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { MessagesRequest } from "../../src/anthropic/schema";
import { validateMessagesRequest } from "../../src/anthropic/validate";
import { promptTurns } from "../../src/dialects/prompt";
import { searchResultText } from "../../src/dialects/search-results";

const REF = JSON.parse(readFileSync(join(import.meta.dir, "..", "fixtures", "anthropic-defined-tools", "reference.json"), "utf8"));

describe("search results", () => {
  const sr = (title: string, texts: string[], citations?: boolean) => ({
    type: "search_result" as const,
    source: `https://docs.example.com/${title}`,
    title,
    content: texts.map((text) => ({ type: "text" as const, text })),
    ...(citations === undefined ? {} : { citations: { enabled: citations } }),
  });

  test("rendered as the reference shows: tags with index, source and title; block labels when citations are enabled", () => {
    const example = REF.search_result;
    expect(searchResultText(example, 0)).toBe(REF.search_result_text);
    expect(searchResultText({ ...example, citations: { enabled: false } }, 3)).toBe(
      `<search_result index="3" source="${example.source}" title="${example.title}">\n${example.content.map((c: { text: string }) => c.text).join("\n")}\n</search_result>`,
    );
    // Attributes stay on the tag's line and inside their quotes; URLs keep their "&".
    expect(searchResultText({ ...sr('say "hi"\nnow', ["t"]), source: "https://x.test/?a=1&b=2" }, 0)).toBe(
      '<search_result index="0" source="https://x.test/?a=1&b=2" title="say &quot;hi&quot; now">\nt\n</search_result>',
    );
  });

  test("numbered across the whole request in order of appearance, top level and inside tool results", () => {
    const messages = [
      { role: "user" as const, content: [sr("a", ["A"], true), { type: "text" as const, text: "q" }] },
      { role: "assistant" as const, content: [{ type: "tool_use" as const, id: "t1", name: "search", input: {} }] },
      {
        role: "user" as const,
        content: [{ type: "tool_result" as const, tool_use_id: "t1", content: [{ type: "text" as const, text: "found" }, sr("b", ["B0", "B1"], true)] }, sr("c", ["C"], true)],
      },
    ] as MessagesRequest["messages"];
    const turns = promptTurns(messages);
    expect(turns[0]!.blocks[0]).toEqual({ type: "text", text: '<search_result index="0" source="https://docs.example.com/a" title="a">\n[0.0] A\n</search_result>' });
    const result = turns[2]!.blocks[0] as { content: Array<{ type: string; text: string }> };
    expect(result.content).toEqual([
      { type: "text", text: "found" },
      { type: "text", text: '<search_result index="1" source="https://docs.example.com/b" title="b">\n[1.0] B0\n[1.1] B1\n</search_result>' },
    ]);
    expect((turns[2]!.blocks[1] as { text: string }).text).toStartWith('<search_result index="2"');
  });

  test("validated like the other blocks: its shape, inside tool results too; any unknown block type is a 400 naming it and its place", () => {
    const body = (content: unknown[]) => ({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "ok" }, { role: "user", content }] });
    const v = (content: unknown[]) => {
      const r = validateMessagesRequest(body(content));
      return r.ok ? "ok" : r.message;
    };
    expect(v([sr("a", ["x"], true)])).toBe("ok");
    expect(v([{ ...sr("a", ["x"]), cache_control: { type: "ephemeral" } }])).toBe("ok");
    expect(v([{ ...sr("a", []) }])).toBe("messages[2].content[0].content: must contain at least 1 item");
    expect(v([{ ...sr("a", [""]) }])).toBe("messages[2].content[0].content[0].text: must not be empty");
    expect(v([{ type: "search_result", title: "t", content: [{ type: "text", text: "x" }] }])).toBe("messages[2].content[0].source: Field required");
    expect(v([{ ...sr("a", ["x"]), citations: { enabled: "yes" } }])).toContain("messages[2].content[0].citations");
    expect(v([{ type: "tool_result", tool_use_id: "t", content: [sr("a", ["x"])] }])).toBe("ok");
    expect(v([{ type: "tool_result", tool_use_id: "t", content: [{ ...sr("a", ["x"]), title: 5 }] }])).toContain("messages[2].content[0].content[0].title");
    expect(v([{ type: "tool_result", tool_use_id: "t", content: [{ type: "tool_reference", tool_name: "x" }] }])).toContain("expected text, image, document or search_result");
    for (const type of ["tool_search_tool_result", "container_upload", "web_fetch_tool_result", "some_future_block", "__proto__"]) {
      expect(v([{ type: "text", text: "a" }, { type }])).toMatch(new RegExp(`^messages\\[2\\]\\.content\\[1\\]: block type "${type}" is not supported; supported block types: text, image, document, search_result, tool_use`));
    }
  });

  test("the walker never drops a block: one that skipped validation is a 400 naming it", () => {
    expect(() => promptTurns([{ role: "user", content: [{ type: "text", text: "a" }, { type: "container_upload" }] }])).toThrow('messages[0].content[1]: block type "container_upload" is not supported');
  });
});
