/**
 * The MCP connector on Grok, through the real server with the official SDK's beta surface
 * (`client.beta.messages.create/stream` with `mcp_servers`, `mcp_toolset` and the mcp-client
 * betas), against the fake xAI Responses upstream answering with `mcp_call` items (synthesized from
 * xAI's spec: tests/helpers/fake-responses.ts `mcpCall`; no recording of one exists).
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { sequence } from "../helpers/fake-upstream";
import { answer, mcpCall, scriptOutput, type Script } from "../helpers/fake-responses";
import { logText, parseSSE } from "../helpers/gateway";
import { useGateway, useResponsesGateway } from "../helpers/setup";
import { readmeExample, runTs } from "../helpers/readme-example";
import { checkFrames } from "../helpers/sse-grammar";

const h = useResponsesGateway({ logLevel: "debug" });
const chat = useGateway(); // a chat-completions upstream (the fake's loopback URL: `auto` picks chat)

const TOKEN = "mcp-bearer-0b7c41d2e9f84a";
const SERVER = { type: "url" as const, url: "https://mcp.example.com/sse", name: "echo", authorization_token: TOKEN };
const ask = {
  model: "grok-4.3",
  max_tokens: 1024,
  thinking: { type: "adaptive" as const },
  messages: [{ role: "user" as const, content: "Use the echo tool to echo 'hello world'." }],
  mcp_servers: [SERVER],
  tools: [{ type: "mcp_toolset" as const, mcp_server_name: "echo" }],
  betas: ["mcp-client-2025-11-20" as const],
};

const ECHO = mcpCall({ label: "echo", name: "echo", args: { message: "hello world" }, text: "Tool echo: hello world", prefixed: true });
const SCRIPT: Script = {
  reasoning: { pieces: ["The user wants ", "an echo."], encrypted: "ENC-mcp-e2e" },
  serverItems: [ECHO],
  text: ["The echo tool responded: ", "hello world"],
};

async function raw(url: string, body: Record<string, unknown>) {
  const res = await fetch(`${url}/v1/messages?beta=true`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "test", "anthropic-version": "2023-06-01", "anthropic-beta": "mcp-client-2025-11-20" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const { betas: _betas, ...askBody } = ask;

describe("an MCP tool call, as Anthropic's MCP connector shapes it", () => {
  test("non-streaming: mcp_tool_use + mcp_tool_result in place; xAI gets its remote MCP tool; usage counts no server tool", async () => {
    h.fake.on(answer(SCRIPT));
    const msg = await h.client.beta.messages.create(ask);
    expect(h.fake.last.body.tools).toEqual([{ type: "mcp", server_url: "https://mcp.example.com/sse", server_label: "echo", authorization: TOKEN }]);
    expect(msg.content.map((b) => b.type)).toEqual(["thinking", "mcp_tool_use", "mcp_tool_result", "text"]);
    const use = msg.content[1] as Anthropic.Beta.BetaMCPToolUseBlock;
    expect(use).toEqual({ type: "mcp_tool_use", id: `mcptoolu_xai_${ECHO.id}`, name: "echo", server_name: "echo", input: { message: "hello world" } });
    expect(msg.content[2]).toEqual({ type: "mcp_tool_result", tool_use_id: use.id, is_error: false, content: [{ type: "text", text: "Tool echo: hello world" }] } as never);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage.server_tool_use).toBeUndefined();
  });

  test("streaming: the SDK's finalMessage() is the same message; raw frames follow the grammar (the call's input as a delta, the result whole)", async () => {
    h.fake.on(answer(SCRIPT));
    const json = await h.client.beta.messages.create(ask);
    h.fake.on(answer(SCRIPT));
    const final = await h.client.beta.messages.stream(ask).finalMessage();
    expect(final.content).toEqual(json.content as never);
    expect(h.fake.last.body.stream).toBe(true);

    h.fake.on(answer(SCRIPT));
    const r = await raw(h.gw.url, { ...askBody, stream: true });
    expect(r.status).toBe(200);
    const frames = parseSSE(r.text);
    checkFrames(frames);
    const data = frames.map((f) => f.data);
    const at = data.findIndex((d) => d.type === "content_block_start" && d.content_block.type === "mcp_tool_use");
    expect(data[at].content_block).toEqual({ type: "mcp_tool_use", id: `mcptoolu_xai_${ECHO.id}`, name: "echo", server_name: "echo", input: {} });
    expect(data[at + 1].delta).toEqual({ type: "input_json_delta", partial_json: '{"message":"hello world"}' });
    expect(data[at + 2].type).toBe("content_block_stop");
    expect(data[at + 3].content_block).toEqual({ type: "mcp_tool_result", tool_use_id: data[at].content_block.id, is_error: false, content: [{ type: "text", text: "Tool echo: hello world" }] });
    expect(data[at + 4].type).toBe("content_block_stop");
  });

  test("two turns: the client sends the answer back; xAI gets its reasoning, its mcp_call and the text back in place", async () => {
    const output = scriptOutput(SCRIPT);
    for (const stream of [true, false]) {
      h.fake.reset();
      h.fake.on(sequence(answer(SCRIPT), answer({ text: ["Done."] })));
      const first = stream ? await h.client.beta.messages.stream(ask).finalMessage() : await h.client.beta.messages.create(ask);
      const second = await h.client.beta.messages.create({
        ...ask,
        messages: [ask.messages[0]!, { role: "assistant", content: first.content }, { role: "user", content: "Thanks. Say done." }],
      });
      expect((second.content[0] as Anthropic.Beta.BetaTextBlock).text).toBe("Done.");
      const input = h.fake.requests[1]!.body.input;
      expect(input[1]).toEqual({ id: output[0]!.id, summary: [{ text: "The user wants an echo.", type: "summary_text" }], type: "reasoning", status: "completed", encrypted_content: "ENC-mcp-e2e" });
      // xAI's item as it sent it, but for the name: the client has it without Grok's "echo___" prefix.
      expect(input[2]).toEqual({ ...ECHO, name: "echo" });
      expect(input[3]).toEqual({ role: "assistant", content: [{ type: "output_text", text: "The echo tool responded: hello world" }] });
      expect(h.fake.requests[1]!.body.tools).toEqual(h.fake.requests[0]!.body.tools);
    }
  });

  test("README's example runs as written and prints the call, its result and the answer", async () => {
    h.fake.on(answer(SCRIPT));
    const out = await runTs(readmeExample("### MCP connector on Grok", h.gw.url), { MCP_TOKEN: TOKEN });
    expect(out).toBe('called echo/echo with {"message":"hello world"}\ngot a result\nThe echo tool responded: hello world\n');
    expect(h.fake.last.body.tools).toEqual([{ type: "mcp", server_url: SERVER.url, server_label: "echo", authorization: TOKEN }]);
  });

  test("the older beta (mcp-client-2025-04-04): tool_configuration.allowed_tools becomes xAI's allowed_tools", async () => {
    h.fake.on(answer({ text: ["ok"] }));
    await h.client.beta.messages.create({
      model: "grok-4.3",
      max_tokens: 256,
      messages: ask.messages,
      mcp_servers: [{ ...SERVER, tool_configuration: { allowed_tools: ["echo"] } }],
      betas: ["mcp-client-2025-04-04"],
    });
    expect(h.fake.last.body.tools).toEqual([{ type: "mcp", server_url: SERVER.url, server_label: "echo", allowed_tools: ["echo"], authorization: TOKEN }]);
  });
});

describe("bad input and what cannot be served: Anthropic's error envelope naming the field; nothing reaches xAI", () => {
  test("bad URL, credentials in the URL, an unknown toolset server, duplicate names, a denylist without the tool list", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ mcp_servers: [{ ...SERVER, url: "http://mcp.example.com/sse" }] }, "mcp_servers[0].url: the MCP server URL must start with https://"],
      [{ mcp_servers: [{ ...SERVER, url: "https://alice:hunter2-secret@mcp.example.com/sse" }] }, "mcp_servers[0].url: the MCP server URL must not carry credentials"],
      [{ tools: [{ type: "mcp_toolset", mcp_server_name: "ehco" }] }, 'tools[0].mcp_server_name: no MCP server named "ehco"'],
      [{ mcp_servers: [SERVER, { ...SERVER, url: "https://two.example.com/" }], tools: [] }, 'mcp_servers[1].name: "echo" is already the name of mcp_servers[0]'],
      [{ tools: [{ type: "mcp_toolset", mcp_server_name: "echo", configs: { echo: { enabled: false } } }] }, "tools[0].configs: a denylist"],
    ];
    for (const [extra, message] of cases) {
      const err = await h.client.beta.messages.create({ ...ask, ...extra } as never).catch((e) => e);
      expect(err, message).toBeInstanceOf(Anthropic.BadRequestError);
      expect(err.error.type).toBe("error");
      expect(err.error.error.type).toBe("invalid_request_error");
      expect(err.error.error.message).toStartWith(message);
      expect(err.error.error.message).not.toContain("hunter2");
      expect(err.error.error.message).not.toContain(TOKEN);
    }
    expect(h.fake.requests).toHaveLength(0);
  });

  test("on a chat-completions upstream: a 400 that says the MCP connector needs the Responses API", async () => {
    const client = new Anthropic({ baseURL: chat.gw.url, apiKey: "test", maxRetries: 0 });
    for (const body of [ask, { ...ask, tools: [] }]) {
      const err = await client.beta.messages.create(body).catch((e) => e);
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect(err.error.error.type).toBe("invalid_request_error");
      expect(err.error.error.message).toMatch(/^(tools\[0\]: "mcp_toolset"|mcp_servers:) .*needs the upstream's Responses API/);
    }
    expect(chat.fake.requests).toHaveLength(0);
  });

  test("the authorization token is never in the log, debug level on (the upstream body is logged with it masked)", async () => {
    h.fake.on(answer(SCRIPT));
    await h.client.beta.messages.create(ask);
    await h.client.beta.messages.create({ ...ask, mcp_servers: [{ ...SERVER, url: "https://bob:s3cr3t-pass@mcp.example.com/" }] }).catch(() => undefined);
    const log = await logText(h.gw.logFile, (t) => t.includes('"upstream request"') && t.includes("must not carry credentials"));
    expect(log).toContain('"server_url":"https://mcp.example.com/sse"'); // the debug line with the upstream body is there…
    expect(log).toContain('"authorization":"<');
    expect(log).not.toContain(TOKEN); // …and the token is not
    expect(log).not.toContain("s3cr3t-pass");
  });

  test("an upstream error that quotes the token reaches the client without it, JSON and streamed", async () => {
    const quoting = () => Response.json({ code: "invalid-argument", error: `MCP server rejected authorization ${TOKEN}` }, { status: 400 });
    h.fake.on(quoting);
    const err = await h.client.beta.messages.create(ask).catch((e) => e);
    expect(err.status).toBe(400);
    expect(String(err.message)).toContain("MCP server rejected authorization");
    expect(String(err.message)).not.toContain(TOKEN);
    // Mid-stream: the upstream's failure event quotes it.
    h.fake.on(() => new Response(`event: error\ndata: {"type":"error","message":"bad token ${TOKEN}"}\n\n`, { headers: { "content-type": "text/event-stream" } }));
    const r = await raw(h.gw.url, { ...askBody, stream: true });
    expect(r.text).toContain("event: error");
    expect(r.text).not.toContain(TOKEN);
  });
});
