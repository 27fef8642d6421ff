/**
 * POST /v1/messages/count_tokens with @anthropic-ai/sdk against the real gateway:
 * exact counts from the upstream's tokenizer, a local estimate when it fails, and
 * the estimate learning from the prompt_tokens real requests report.
 */
import Anthropic from "@anthropic-ai/sdk";
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { countTokens as o200kCount } from "gpt-tokenizer/encoding/o200k_base";
import { OVERHEAD } from "../../src/tokens/prompt-parts";
import { IMAGE_TOKENS } from "../../src/dialects/usage";
import { completion, streamOf, textChunks, tokenizeAnswer, usage, xaiError, type Recorded } from "../helpers/fake-upstream";
import { parseSSE, type Gateway } from "../helpers/gateway";
import { clientFor, useFakeUpstream, useGateways } from "../helpers/setup";

const fake = useFakeUpstream();
const startGateway = useGateways(fake);

/** The fake tokenizer counts words, so expected counts are easy to state. */
const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
let tokenize: (req: Recorded) => Response;
let chat: (req: Recorded) => Response;

fake.on((req) => (req.path === "/v1/tokenize-text" ? tokenize(req) : chat(req)));
beforeEach(() => {
  tokenize = (req) => Response.json(tokenizeAnswer(words(req.body.text)));
  chat = () => Response.json(completion({ content: "ok" }));
});

function gateway(overrides: Parameters<typeof startGateway>[0] = {}): { gw: Gateway; client: Anthropic } {
  const gw = startGateway(overrides);
  return { gw, client: clientFor(gw, "sk-ant-client") };
}

const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

describe("exact counts from the upstream's tokenizer", () => {
  let client: Anthropic;
  let gw: Gateway;
  beforeAll(() => ({ gw, client } = gateway({ modelMap: { "claude-sonnet-4-5": "grok-4.3" } })));

  test("system and messages: the upstream's count plus the template's structure", async () => {
    const system = "You are a terse assistant.";
    const user = "How many tokens is this sentence?";
    const res = await client.messages.countTokens({ model: "claude-sonnet-4-5", system, messages: [{ role: "user", content: user }] });
    expect(res).toEqual({ input_tokens: words(system) + words(user) + OVERHEAD.request + 2 * OVERHEAD.message });
    expect(fake.last.path).toBe("/v1/tokenize-text");
    expect(fake.last.body.model).toBe("grok-4.3");
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-test-upstream-key");
    expect(fake.last.body.text).toContain(system);
    expect(fake.last.body.text).toContain(user);
  });

  test("tool definitions, tool calls, tool results and images all count; thinking does not", async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: "get_weather",
        description: "Weather for a city",
        input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
      { name: "web_search", type: "web_search_20250305" } as unknown as Anthropic.Tool, // a server tool: never sent upstream
    ];
    const messages: Anthropic.MessageParam[] = [
      { role: "user", content: "Weather in Paris?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "SECRET-THOUGHT the user wants weather", signature: "sig" },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
        ],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "toolu_1",
            content: [
              { type: "text", text: "Sunny, 21 degrees" },
              { type: "image", source: { type: "base64", media_type: "image/png", data: png } },
            ],
          },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "Forecast file body" }, title: "forecast.txt" },
        ],
      },
    ];
    const res = await client.messages.countTokens({ model: "grok-4.3", tools, messages });
    const sent: string = fake.last.body.text;
    for (const part of ["get_weather", "Weather for a city", '"city"', '{"city":"Paris"}', "Sunny, 21 degrees", "Forecast file body", "forecast.txt"]) {
      expect(sent).toContain(part);
    }
    expect(sent).not.toContain("SECRET-THOUGHT");
    expect(sent).not.toContain("web_search");
    const fixed = OVERHEAD.request + 3 * OVERHEAD.message + OVERHEAD.tool + OVERHEAD.toolCall + OVERHEAD.toolResult;
    expect(res.input_tokens).toBe(words(sent) + fixed + IMAGE_TOKENS);
  });

  test("Anthropic's client tools count as the functions they become, with what Anthropic adds to the system; search results as their text", async () => {
    const res = await client.messages.countTokens({
      model: "grok-4.3",
      system: "Be brief.",
      tools: [{ type: "bash_20250124", name: "bash" }, { type: "memory_20250818", name: "memory" }],
      messages: [
        {
          role: "user",
          content: [
            { type: "search_result", source: "https://docs.example.com/a", title: "Doc A", content: [{ type: "text", text: "alpha beta gamma" }] },
            { type: "text", text: "Summarise." },
          ],
        },
      ],
    });
    const sent: string = fake.last.body.text;
    for (const part of ["Run commands in a bash shell", '"restart"', "MEMORY PROTOCOL", '"insert_text"', "sandboxed computing environment", "alpha beta gamma", "Doc A", "https://docs.example.com/a"]) {
      expect(sent).toContain(part);
    }
    const fixed = OVERHEAD.request + 2 * OVERHEAD.message + 2 * OVERHEAD.tool + OVERHEAD.searchResult;
    expect(res.input_tokens).toBe(words(sent) + fixed);
  });

  test("the beta form, /v1/v1 and max_tokens are all accepted", async () => {
    const body = { model: "grok-4.3", messages: [{ role: "user" as const, content: "one two three" }] };
    const beta = await client.beta.messages.countTokens(body);
    expect(beta.input_tokens).toBe(3 + OVERHEAD.request + OVERHEAD.message);
    const seedStyle = new Anthropic({ baseURL: `${gw.url}/v1`, apiKey: "sk-ant-client", maxRetries: 0 });
    expect((await seedStyle.messages.countTokens(body)).input_tokens).toBe(beta.input_tokens);
    const raw = await fetch(`${gw.url}/v1/messages/count_tokens?beta=true`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ ...body, max_tokens: 1024 }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get("grok2api-token-count")).toBe("upstream");
    expect(await raw.json()).toEqual({ input_tokens: beta.input_tokens });
  });

  test("a bad body is a 400 in the Anthropic envelope", async () => {
    const err = await client.messages.countTokens({ model: "grok-4.3" } as any).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: "messages: Field required" } });
    const bad = await client.messages
      .countTokens({ model: "grok-4.3", messages: [{ role: "user", content: [{ type: "text" }] }] } as any)
      .catch((e) => e);
    expect(bad.status).toBe(400);
    expect(bad.message).toContain("messages[0].content[0].text");
    expect(fake.requests.length).toBe(0);
  });
});

describe("a local estimate when the upstream cannot count", () => {
  let client: Anthropic;
  let gw: Gateway;
  beforeAll(() => ({ gw, client } = gateway()));

  const prompt = (text: string) => ({ model: "grok-3", messages: [{ role: "user" as const, content: text }] });
  const count = async (text: string) => (await client.messages.countTokens(prompt(text))).input_tokens;

  test("a failing tokenize endpoint falls back to the local tokenizer", async () => {
    tokenize = () => xaiError(404, "no such endpoint");
    const text = "Tokenizers split text into pieces; <|endoftext|> is just text here. Ünïcödé too: 東京 🚀";
    const res = await fetch(`${gw.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
      body: JSON.stringify(prompt(text)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("grok2api-token-count")).toBe("estimate");
    const expected = o200kCount(text, { disallowedSpecial: new Set() }) + OVERHEAD.request + OVERHEAD.message;
    expect(await res.json()).toEqual({ input_tokens: expected });
    expect(fake.requests.map((r) => r.path)).toEqual(["/v1/tokenize-text"]);
  });

  test("after a failure the endpoint is left alone for a while", async () => {
    tokenize = () => {
      throw new Error("must not be asked again so soon");
    };
    expect(await count("hello there")).toBeGreaterThan(0);
    expect(fake.requests.length).toBe(0);
  });

  test("an answer without token_ids is a failure too", async () => {
    tokenize = () => Response.json({ tokens: 5 });
    const other = { model: "grok-3-mini", messages: [{ role: "user" as const, content: "short words only" }] };
    const res = await client.messages.countTokens(other);
    expect(res.input_tokens).toBe(o200kCount("short words only") + OVERHEAD.request + OVERHEAD.message);
    expect(fake.last.path).toBe("/v1/tokenize-text");
  });

  test("the estimate grows linearly with the prompt", async () => {
    const unit = "The quick brown fox jumps over the lazy dog while the compiler checks types. ";
    const c1 = await count(unit.repeat(10));
    const c2 = await count(unit.repeat(20));
    const c4 = await count(unit.repeat(40));
    const c8 = await count(unit.repeat(80));
    const perTen = c2 - c1;
    expect(perTen).toBeGreaterThan(100);
    expect(Math.abs((c4 - c2) / 2 - perTen)).toBeLessThanOrEqual(1);
    expect(Math.abs((c8 - c4) / 4 - perTen)).toBeLessThanOrEqual(1);
  });

  test("images and tools add to the estimate", async () => {
    const plain = await count("Describe this.");
    const withImage = (
      await client.messages.countTokens({
        model: "grok-3",
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/png", data: png } },
              { type: "text", text: "Describe this." },
            ],
          },
        ],
      })
    ).input_tokens;
    expect(withImage - plain).toBe(IMAGE_TOKENS);
    const withTool = (
      await client.messages.countTokens({
        ...prompt("Describe this."),
        tools: [{ name: "describe", description: "Describes an image in detail", input_schema: { type: "object" } }],
      })
    ).input_tokens;
    expect(withTool).toBeGreaterThan(plain + OVERHEAD.tool);
  });
});

describe("the estimate learns from the prompt_tokens the upstream reports", () => {
  let client: Anthropic;
  let gw: Gateway;
  beforeAll(() => {
    ({ gw, client } = gateway());
    tokenize = () => xaiError(500, "tokenizer down");
  });
  beforeEach(() => {
    tokenize = () => xaiError(500, "tokenizer down");
  });

  const long = "Grok reads this prompt and reports how many tokens it really was. ".repeat(150);

  test("non-streaming requests move the estimate toward the reported count", async () => {
    const req = { model: "grok-4.20-0309-reasoning", system: "Count carefully.", messages: [{ role: "user" as const, content: long }] };
    const before = (await client.messages.countTokens(req)).input_tokens;
    const reported = before * 2;
    chat = () => Response.json(completion({ content: "ok" }, "stop", usage(reported, 3)));
    await client.messages.create({ ...req, max_tokens: 16 });
    const after = (await client.messages.countTokens(req)).input_tokens;
    expect(after).toBeGreaterThan(before);
    expect(Math.abs(after - reported)).toBeLessThan(Math.abs(before - reported));
    // With more evidence it settles close to what the upstream says.
    for (let i = 0; i < 12; i++) await client.messages.create({ ...req, max_tokens: 16 });
    const settled = (await client.messages.countTokens(req)).input_tokens;
    expect(Math.abs(settled - reported) / reported).toBeLessThan(0.1);
  });

  test("streamed requests teach it too, and message_start's estimate follows", async () => {
    const req = { model: "grok-4.3", max_tokens: 16, messages: [{ role: "user" as const, content: long }] };
    const startEstimate = async () => {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ ...req, stream: true }),
      });
      const start = parseSSE(await res.text()).find((e) => e.event === "message_start");
      return start!.data.message.usage.input_tokens as number;
    };
    const counted = (await client.messages.countTokens(req)).input_tokens;
    const reported = Math.round(counted / 2);
    chat = () => streamOf(textChunks("fine", { usage: usage(reported, 1) }));
    const firstStart = await startEstimate();
    const afterOne = (await client.messages.countTokens(req)).input_tokens;
    expect(afterOne).toBeLessThan(counted);
    expect(Math.abs(afterOne - reported)).toBeLessThan(Math.abs(counted - reported));
    // message_start's quick estimate learns from the same reports.
    const secondStart = await startEstimate();
    expect(Math.abs(secondStart - reported)).toBeLessThan(Math.abs(firstStart - reported));
  });

  test("a request without usage teaches nothing", async () => {
    const req = { model: "grok-3-mini", max_tokens: 16, messages: [{ role: "user" as const, content: long }] };
    const before = (await client.messages.countTokens(req)).input_tokens;
    chat = () => streamOf(textChunks("fine", { usage: null }));
    await client.messages.create({ ...req, stream: true }).then(async (s) => {
      for await (const _ of s);
    });
    expect((await client.messages.countTokens(req)).input_tokens).toBe(before);
  });
});

test("client authentication applies", async () => {
  const { client } = gateway({ clientKeys: ["gw-key"] });
  const err = await client.messages.countTokens({ model: "grok-3", messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
  expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
  expect(err.error).toMatchObject({ type: "error", error: { type: "authentication_error" } });
  expect(fake.requests.length).toBe(0);
});
