/** promptParts: what of a Messages request is counted. */
import { describe, expect, test } from "bun:test";
import type { MessagesRequest } from "../../src/anthropic/schema";
import { OVERHEAD, promptParts } from "../../src/tokens/prompt-parts";

type Req = Pick<MessagesRequest, "system" | "messages" | "tools">;

describe("promptParts", () => {
  test("system as a string or as blocks, messages as strings or blocks", () => {
    const a = promptParts({ system: "S", messages: [{ role: "user", content: "U" }] });
    expect(a).toEqual({ texts: ["S", "U"], images: 0, fixedTokens: OVERHEAD.request + 2 * OVERHEAD.message });
    const b = promptParts({
      system: [{ type: "text", text: "S1" }, { type: "text", text: "S2" }],
      messages: [{ role: "user", content: [{ type: "text", text: "U" }] }],
    });
    expect(b.texts).toEqual(["S1", "S2", "U"]);
    expect(promptParts({ system: "", messages: [{ role: "user", content: "U" }] }).fixedTokens).toBe(OVERHEAD.request + OVERHEAD.message);
  });

  test("tool calls, results, documents, images and replayed web searches; not thinking, not server tool definitions", () => {
    const req: Req = {
      tools: [
        { name: "t", description: "does t", input_schema: { type: "object" } },
        { name: "web_search", type: "web_search_20250305" },
        { name: "bare" },
      ],
      messages: [
        { role: "user", content: "go" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "s" },
            { type: "redacted_thinking", data: "xx" },
            { type: "tool_use", id: "1", name: "t", input: { a: 1 } },
            { type: "server_tool_use", id: "2", name: "web_search", input: { query: "q" } } as { type: string },
            { type: "web_search_tool_result", tool_use_id: "2", content: [{ type: "web_search_result", url: "https://r.example/", title: "R", encrypted_content: "x", page_age: null }] } as { type: string },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "1", content: "out" },
            { type: "tool_result", tool_use_id: "1", content: [{ type: "text", text: "more" }, { type: "image", source: { type: "url", url: "http://x/y.png" } }] },
            { type: "document", source: { type: "content", content: [{ type: "text", text: "inner" }] }, title: "T", context: "C" },
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: "A".repeat(64_000) } },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
          ],
        },
      ],
    };
    const p = promptParts(req);
    expect(p.texts).toEqual(["go", "t", '{"a":1}', "web_search", '{"query":"q"}', "https://r.example/", "R", "out", "more", "T", "C", "inner", "t", "does t", '{"type":"object"}', "bare", '{"type":"object","properties":{}}']);
    expect(p.images).toBe(2);
    const pdf = Math.ceil((64_000 * 3) / 4 / 16);
    expect(p.fixedTokens).toBe(OVERHEAD.request + 3 * OVERHEAD.message + 2 * OVERHEAD.toolCall + 2 * OVERHEAD.toolResult + 2 * OVERHEAD.tool + pdf);
  });
});
