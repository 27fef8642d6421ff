/**
 * Requests through the real server with the official SDK: what reaches the upstream for
 * tools, tool ids over a round trip, conversation repair, thinking history, the
 * capability table, and documents. Plus the log: it names things, never prompt text or keys.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Server } from "bun";
import { DEFAULT_DOCUMENT_FETCH, loadCommand } from "../../src/config";
import { INTERRUPTED_TOOL_RESULT } from "../../src/dialects/chat/request";
import { chunk, completion, streamOf, usageChunk } from "../helpers/fake-upstream";
import { startGateway } from "../helpers/gateway";
import { makePdf, toBase64 } from "../helpers/pdf";
import { clientFor, useGateway } from "../helpers/setup";
import { tempDir } from "../helpers/temp";

const SECRET_PROMPT = "my-very-private-prompt-text-7f3a";
const h = useGateway({ modelMap: { "claude-sonnet-*": "grok-4.3", "claude-haiku-*": "grok-4.20-0309-non-reasoning" } });

const ok = () => h.fake.on((req) => (req.body.stream ? streamOf([chunk({ content: "ok" }), chunk({}, "stop"), usageChunk()]) : Response.json(completion({ content: "ok" }))));
const weatherTool = {
  name: "weather",
  description: "Weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

describe("tools", () => {
  test("web search on this chat-completions upstream is a clear 400, never a silent drop", async () => {
    ok();
    const err = await h.client.messages
      .create({ model: "grok-4.3", max_tokens: 100, messages: [{ role: "user", content: "news?" }], tools: [{ type: "web_search_20250305", name: "web_search" } as never] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error.error).toMatchObject({ type: "invalid_request_error", message: expect.stringContaining("Responses API") });
    expect(h.fake.requests).toHaveLength(0);
  });

  test("definitions, tool_choice and the parallel flag reach the upstream; Anthropic's bash tool as the function Claude knows; the log names no prompt or key", async () => {
    ok();
    const own = startGateway(h.fake.baseUrl); // its own log file, read once the server has stopped
    const c = clientFor(own);
    await c.messages.create({
      model: "grok-4.3",
      max_tokens: 100,
      messages: [{ role: "user", content: SECRET_PROMPT }],
      tools: [
        weatherTool,
        { name: "lookup", input_schema: { type: "object" }, cache_control: { type: "ephemeral" } } as never,
        { type: "bash_20250124", name: "bash" } as never,
      ],
      tool_choice: { type: "tool", name: "weather", disable_parallel_tool_use: true },
    });
    // Sorted by name: the prompt prefix stays byte-stable for the upstream's cache whatever the client's order.
    const sent = h.fake.last.body.tools;
    expect(sent.map((t: any) => t.function.name)).toEqual(["bash", "lookup", "weather"]);
    expect(sent[0].function.description).toStartWith("Run commands in a bash shell");
    expect(sent.slice(1)).toEqual([
      { type: "function", function: { name: "lookup", parameters: { type: "object" } } },
      { type: "function", function: { name: "weather", description: "Weather for a city", parameters: weatherTool.input_schema } },
    ]);
    expect(h.fake.last.body.tool_choice).toEqual({ type: "function", function: { name: "weather" } });
    expect(h.fake.last.body.parallel_tool_calls).toBe(false);
    await own.stop(); // flushes the log
    const log = readFileSync(own.logFile, "utf8");
    expect(log).not.toContain("server tools dropped");
    expect(log).not.toContain(SECRET_PROMPT);
    expect(log).not.toContain("xai-test-upstream-key");
  });

  test("tool ids round-trip: the id the client sends back reaches the upstream as the upstream first sent it", async () => {
    for (const stream of [false, true]) {
      h.fake.reset();
      h.fake.on((req, n) =>
        n === 1
          ? req.body.stream
            ? streamOf([chunk({ tool_calls: [{ index: 0, id: "call_77", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }] }), chunk({}, "tool_calls")])
            : Response.json(completion({ content: "", tool_calls: [{ id: "call_77", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }] }, "tool_calls"))
          : req.body.stream
            ? streamOf([chunk({ content: "Sunny." }), chunk({}, "stop")])
            : Response.json(completion({ content: "Sunny." })),
      );
      const base = { model: "claude-sonnet-4-5", max_tokens: 200, tools: [weatherTool] };
      const first = [{ role: "user" as const, content: "Weather in Oslo?" }];
      const reply = stream ? await h.client.messages.stream({ ...base, messages: first }).finalMessage() : await h.client.messages.create({ ...base, messages: first });
      const use = reply.content.find((b) => b.type === "tool_use")!;
      expect(use.id).toBe("toolu_call_77");
      await h.client.messages.create({
        ...base,
        messages: [...first, { role: "assistant", content: reply.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny, 18°C" }] }],
      });
      const sent = h.fake.last.body.messages;
      expect(sent[1].tool_calls[0].id).toBe("call_77");
      expect(sent[2]).toEqual({ role: "tool", tool_call_id: "call_77", content: "sunny, 18°C" });
    }
  });

  test("images inside a tool_result reach the upstream as images after the tool messages", async () => {
    ok();
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    await h.client.messages.create({
      model: "grok-4.3",
      max_tokens: 100,
      messages: [
        { role: "user", content: "Take a screenshot." },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_call_s", name: "screenshot", input: {} }] },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_call_s", content: [{ type: "text", text: "Here it is" }, { type: "image", source: { type: "base64", media_type: "image/png", data: png } }] },
          ],
        },
      ],
    });
    expect(h.fake.last.body.messages.slice(2)).toEqual([
      { role: "tool", tool_call_id: "call_s", content: "Here it is" },
      { role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${png}` } }] },
    ]);
  });
});

describe("conversation repair: one bad turn never kills a session", () => {
  test("Esc'd tool call, orphan result, empty blocks, mid-conversation system: accepted and repaired", async () => {
    ok();
    const msg = await h.client.messages.create({
      model: "grok-4.3",
      max_tokens: 100,
      messages: [
        { role: "user", content: [{ type: "text", text: "" }, { type: "text", text: "List files." }] },
        { role: "assistant", content: [{ type: "text", text: "Listing." }, { type: "tool_use", id: "toolu_call_ls", name: "ls", input: {} }] },
        { role: "user", content: [{ type: "text", text: "Stop, do something else." }] },
        { role: "system" as never, content: "Be brief." },
        { role: "assistant", content: [] as never },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_gone", content: "stale" }, { type: "text", text: "What now?" }] },
      ],
    });
    expect(msg.content as unknown).toEqual([{ type: "text", text: "ok" }]);
    expect(h.fake.last.body.messages).toEqual([
      { role: "user", content: "List files." },
      { role: "assistant", content: "Listing.", tool_calls: [{ id: "call_ls", type: "function", function: { name: "ls", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "call_ls", content: INTERRUPTED_TOOL_RESULT },
      { role: "user", content: "Stop, do something else." },
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "[Result of tool call toolu_gone]\nstale" },
          { type: "text", text: "What now?" },
        ],
      },
    ]);
  });

  test("bad input is a clear 400 in the Anthropic envelope, not a crash", async () => {
    const bad = async (body: unknown) => {
      const res = await fetch(`${h.gw.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "test" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const r1 = await bad({ model: "grok-4.3", max_tokens: 10, messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "tool_use" }] }] }] });
    expect(r1.status).toBe(400);
    expect(r1.body).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(r1.body.error.message).toContain("messages[0].content[0].content[0].type");
    // A file source names an uploaded file (/v1/files): one the caller does not have is a 404 naming the field.
    const r2 = await bad({ model: "grok-4.3", max_tokens: 10, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: "f" } }] }] });
    expect(r2.status).toBe(404);
    expect(r2.body).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    expect(r2.body.error.message).toContain("messages[0].content[0].source.file_id");
    expect(h.fake.requests.length).toBe(0);
  });
});

describe("thinking in the history", () => {
  test("never reaches the upstream, whoever signed it; the answer's own thinking can be sent back as is", async () => {
    h.fake.on((req) =>
      req.body.stream
        ? streamOf([chunk({ reasoning_content: "PRIVATE-REASONING-1" }), chunk({ content: "First answer." }), chunk({}, "stop")])
        : Response.json(completion({ content: "Second answer." })),
    );
    const first = [{ role: "user" as const, content: "Q1" }];
    const reply = await h.client.messages.stream({ model: "grok-4.3", max_tokens: 100, messages: first, thinking: { type: "enabled", budget_tokens: 2048 } }).finalMessage();
    expect(reply.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    await h.client.messages.create({
      model: "grok-4.3",
      max_tokens: 100,
      messages: [
        ...first,
        { role: "assistant", content: reply.content },
        { role: "user", content: "Q2" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "ANTHROPIC-REASONING", signature: "EqQBCkYIBxgCKkB" },
            { type: "redacted_thinking", data: "REDACTED-DATA" },
            { type: "text", text: "Earlier answer." },
          ],
        },
        { role: "user", content: "Q3" },
      ],
    });
    const wire = JSON.stringify(h.fake.last.body);
    for (const s of ["PRIVATE-REASONING-1", "ANTHROPIC-REASONING", "REDACTED-DATA", "EqQBCkYIBxgCKkB", "grok2api.v1."]) expect(wire).not.toContain(s);
    expect(h.fake.last.body.messages).toEqual([
      { role: "user", content: "Q1" },
      { role: "assistant", content: "First answer." },
      { role: "user", content: "Q2" },
      { role: "assistant", content: "Earlier answer." },
      { role: "user", content: "Q3" },
    ]);
  });
});

describe("capabilities: a model that rejects a parameter never receives it", () => {
  const thinkingHard = { thinking: { type: "enabled" as const, budget_tokens: 32000 }, output_config: { effort: "high" } };

  test("reasoning_effort only for models that take it, in their own values", async () => {
    ok();
    const sent = async (model: string, extra: Record<string, unknown> = thinkingHard) => {
      await h.client.messages.create({ model, max_tokens: 100, messages: [{ role: "user", content: "hi" }], ...extra } as never);
      return h.fake.last.body;
    };
    expect((await sent("claude-sonnet-4-5")).reasoning_effort).toBe("high"); // mapped to grok-4.3
    expect((await sent("grok-4.3", { thinking: { type: "disabled" } })).reasoning_effort).toBe("none");
    expect((await sent("grok-3-mini", { output_config: { effort: "medium" } })).reasoning_effort).toBe("high");
    for (const model of ["claude-haiku-4-5", "grok-4.20-0309-reasoning", "grok-build-0.1", "grok-4-0709", "grok-code-fast-1"]) {
      const body = await sent(model);
      expect("reasoning_effort" in body).toBe(false);
    }
    for (const r of h.fake.requests) {
      for (const k of ["stop", "presence_penalty", "frequency_penalty", "logit_bias"]) expect(k in r.body).toBe(false);
    }
  });

  test("max_tokens is clamped to the model's max output", async () => {
    ok();
    const clamp = startGateway(h.fake.baseUrl, { capabilities: [["grok-4.3", { maxOutput: 4096 }]] });
    try {
      const c = clientFor(clamp);
      await c.messages.create({ model: "grok-4.3", max_tokens: 20000, messages: [{ role: "user", content: "hi" }] });
      expect(h.fake.last.body.max_completion_tokens).toBe(4096);
    } finally {
      await clamp.stop();
    }
  });

  test("the config file's [capabilities] override the built-in table", async () => {
    ok();
    const dir = tempDir("grok2api-capcfg-");
    await Bun.write(`${dir}/c.toml`, `[capabilities."grok-4.3*"]\nreasoning_effort = []\n\n[capabilities."acme-*"]\nreasoning_effort = ["low", "high"]\n`);
    const cmd = await loadCommand(["--config", `${dir}/c.toml`], {});
    if (cmd.kind !== "serve") throw new Error("expected serve");
    const custom = startGateway(h.fake.baseUrl, { capabilities: cmd.config.capabilities });
    try {
      const c = clientFor(custom);
      await c.messages.create({ model: "grok-4.3", max_tokens: 10, messages: [{ role: "user", content: "hi" }], ...thinkingHard } as never);
      expect("reasoning_effort" in h.fake.last.body).toBe(false);
      await c.messages.create({ model: "acme-large", max_tokens: 10, messages: [{ role: "user", content: "hi" }], thinking: { type: "enabled", budget_tokens: 1024 } });
      expect(h.fake.last.body.reasoning_effort).toBe("low");
    } finally {
      await custom.stop();
    }
  });
});

describe("documents", () => {
  const pdf = makePdf(["Invoice 1042", "Total due: 99 EUR"]);

  test("a base64 PDF reaches the upstream as its text, with the title", async () => {
    ok();
    await h.client.messages.create({
      model: "grok-4.3",
      max_tokens: 100,
      messages: [
        {
          role: "user",
          content: [
            { type: "document", title: "invoice.pdf", source: { type: "base64", media_type: "application/pdf", data: toBase64(pdf) } },
            { type: "text", text: "What is the total?" },
          ],
        },
      ],
    });
    const parts = h.fake.last.body.messages[0].content;
    expect(parts[0].type).toBe("text");
    expect(parts[0].text).toStartWith("<document>\nDocument: invoice.pdf\n\n");
    expect(parts[0].text).toContain("Invoice 1042");
    expect(parts[0].text).toContain("Total due: 99 EUR");
    expect(parts[1]).toEqual({ type: "text", text: "What is the total?" });
  });

  test("an unreadable PDF is a 400 that says so; the upstream is never called", async () => {
    ok();
    const err = await h.client.messages
      .create({
        model: "grok-4.3",
        max_tokens: 100,
        messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: toBase64(new TextEncoder().encode("%PDF-1.4 broken")) } }] }],
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(err.message).toContain("messages[0].content[0]: the document could not be read");
    expect(h.fake.requests.length).toBe(0);
  });

  describe("by URL", () => {
    let files: Server<undefined>;
    beforeAll(() => {
      files = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(pdf, { headers: { "content-type": "application/pdf" } }) });
    });
    afterAll(() => files.stop(true));

    test("fetched when private URLs are allowed; refused by default", async () => {
      ok();
      const url = `http://127.0.0.1:${files.port}/invoice.pdf`;
      const body = { model: "grok-4.3", max_tokens: 100, messages: [{ role: "user" as const, content: [{ type: "document" as const, source: { type: "url" as const, url } }] }] };
      const refused = await h.client.messages.create(body).catch((e) => e);
      expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
      expect(refused.message).toContain("allow_private_urls");

      const open = startGateway(h.fake.baseUrl, {
        documents: { ...DEFAULT_DOCUMENT_FETCH, allowPrivateUrls: true },
      });
      try {
        const c = clientFor(open);
        await c.messages.create(body);
        expect(h.fake.last.body.messages[0].content).toContain("Total due: 99 EUR");
      } finally {
        await open.stop();
      }
    });
  });
});
