import { describe, expect, test } from "bun:test";
import { estimateInputTokens, toAnthropicUsage } from "../../src/dialects/usage";

const est = { input: 99, output: 7 };

describe("toAnthropicUsage", () => {
  test("xAI convention: reasoning outside completion_tokens (total = prompt + completion + reasoning)", () => {
    // Numbers from the recorded xai-text stream.
    const u = toAnthropicUsage(
      {
        prompt_tokens: 12,
        completion_tokens: 2,
        total_tokens: 354,
        prompt_tokens_details: { cached_tokens: 11 },
        completion_tokens_details: { reasoning_tokens: 340 },
      },
      est,
    );
    expect(u).toEqual({ input_tokens: 1, output_tokens: 342, cache_creation_input_tokens: 0, cache_read_input_tokens: 11 });
  });

  test("OpenAI convention: reasoning inside completion_tokens (total = prompt + completion)", () => {
    const u = toAnthropicUsage(
      {
        prompt_tokens: 100,
        completion_tokens: 50,
        total_tokens: 150,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 30 },
      },
      est,
    );
    expect(u).toEqual({ input_tokens: 100, output_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  test("without total_tokens the reasoning is taken as included", () => {
    const u = toAnthropicUsage({ prompt_tokens: 10, completion_tokens: 5, completion_tokens_details: { reasoning_tokens: 3 } }, est);
    expect(u.output_tokens).toBe(5);
  });

  test("cached tokens move from input to cache_read; never a negative input", () => {
    expect(toAnthropicUsage({ prompt_tokens: 307, completion_tokens: 26, prompt_tokens_details: { cached_tokens: 306 } }, est)).toMatchObject({
      input_tokens: 1,
      cache_read_input_tokens: 306,
    });
    expect(toAnthropicUsage({ prompt_tokens: 5, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 9 } }, est).input_tokens).toBe(0);
  });

  test("no upstream usage: the local estimate, with zero cache counts", () => {
    expect(toAnthropicUsage(null, est)).toEqual({ input_tokens: 99, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    expect(toAnthropicUsage(undefined, est).input_tokens).toBe(99);
  });
});

describe("estimateInputTokens", () => {
  test("never 0, and grows with the prompt, images and tools", () => {
    const small = estimateInputTokens({ messages: [{ role: "user", content: "" }] });
    expect(small).toBeGreaterThan(0);
    const text = estimateInputTokens({ messages: [{ role: "user", content: "x".repeat(4000) }] });
    expect(text).toBeGreaterThan(900);
    const withImage = estimateInputTokens({
      messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "http://127.0.0.1/x.png" } }] }],
    });
    expect(withImage).toBeGreaterThan(1000);
    const withTools = estimateInputTokens({
      messages: [{ role: "user", content: "hi" }],
      tools: [{ name: "t", description: "d".repeat(400), input_schema: { type: "object" } }],
    });
    expect(withTools).toBeGreaterThan(small + 90);
  });

  test("a web search in the history counts: its query and the sources it found", () => {
    const plain = estimateInputTokens({ messages: [{ role: "assistant", content: [{ type: "text", text: "ok" }] }] });
    const results = Array.from({ length: 10 }, (_, i) => ({
      type: "web_search_result",
      url: `https://example.com/a-rather-long-path/${i}/${"p".repeat(60)}`,
      title: `Result number ${i} with a title`,
      encrypted_content: "opaque",
      page_age: null,
    }));
    const searched = estimateInputTokens({
      messages: [
        {
          role: "assistant",
          content: [
            { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "latest stable Ruby version" } },
            { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: results },
            { type: "text", text: "ok" },
          ],
        },
      ],
    });
    expect(searched).toBeGreaterThan(plain + 250);
  });
});
