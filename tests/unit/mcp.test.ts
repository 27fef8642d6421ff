/**
 * The MCP connector on Grok, the pure pieces: `mcp_servers` + `mcp_toolset` (and the older
 * `tool_configuration` form) checked and planned as xAI's remote MCP tools; xAI's `mcp_call`
 * items as `mcp_tool_use` + `mcp_tool_result` (JSON and stream alike); the blocks sent back
 * given to xAI as its items again, in place; real Anthropic's MCP blocks as text context; the
 * token masked in what the gateway logs. The `mcp_call` items are synthesized from xAI's spec
 * (tests/helpers/fake-responses.ts `mcpCall`): no recording of one exists.
 */
import { describe, expect, test } from "bun:test";
import { mcpPlan, mcpProblem, mcpUrlProblem } from "../../src/anthropic/mcp";
import type { AnthropicMessage, MessagesRequest } from "../../src/anthropic/schema";
import { validateMessagesRequest } from "../../src/anthropic/validate";
import { redactSecrets } from "../../src/redact";
import { toChatRequest } from "../../src/dialects/chat/request";
import { toResponsesRequest } from "../../src/dialects/responses/request";
import { fromResponsesJson } from "../../src/dialects/responses/response";
import { ResponsesStreamTranslator } from "../../src/dialects/responses/stream";
import { turnDigest } from "../../src/dialects/turn-digest";
import { fixtureJson, mcpCall, responseObject, scriptEvents, scriptOutput, type Script } from "../helpers/fake-responses";
import { assemble } from "../helpers/sse-grammar";

const caps = { vision: true, maxOutput: 128000, stop: false, reasoningEffort: ["low", "medium", "high"] } as never;
const TOKEN = "mcp-secret-token-7f3a9c";
const SERVER = { type: "url" as const, url: "https://mcp.example.com/sse", name: "echo", authorization_token: TOKEN };
const TOOLSET = { type: "mcp_toolset", mcp_server_name: "echo" };

const request = (extra: Record<string, unknown>): MessagesRequest =>
  ({ model: "grok-4.3", max_tokens: 1024, messages: [{ role: "user", content: "Echo hello world." }], ...extra }) as never;

/** The 400 a request gets from validation, or "ok". */
function problem(extra: Record<string, unknown>): string {
  const v = validateMessagesRequest(request(extra));
  return v.ok ? "ok" : v.message;
}

describe("the request: mcp_servers and mcp_toolset → xAI's remote MCP tools", () => {
  test("one server, its toolset with every tool: {type:mcp, server_url, server_label, authorization}, no allowlist", () => {
    const { body, warnings } = toResponsesRequest(request({ mcp_servers: [SERVER], tools: [TOOLSET] }), { model: "grok-4.3", caps, stream: false });
    expect(body.tools).toEqual([{ type: "mcp", server_url: "https://mcp.example.com/sse", server_label: "echo", authorization: TOKEN }]);
    expect(body.tool_choice).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test("an allowlist (default off, some on) → allowed_tools; a server with nothing enabled is left out, with a warning", () => {
    const plan = mcpPlan(
      request({
        mcp_servers: [SERVER, { type: "url", url: "https://other.example.com/mcp", name: "other" }],
        tools: [
          { ...TOOLSET, default_config: { enabled: false }, configs: { echo: { enabled: true }, shout: { enabled: false }, ping: { enabled: true } } },
          { type: "mcp_toolset", mcp_server_name: "other", default_config: { enabled: false } },
        ],
      }),
    );
    expect(plan.servers).toEqual([{ label: "echo", url: SERVER.url, authorization: TOKEN, allowedTools: ["echo", "ping"] }]);
    expect(plan.warnings).toEqual(['MCP server "other" left out: none of its tools is enabled']);
  });

  test("a denylist: computed from the pinned tool listing; without the listing a 400 that says how to write it", () => {
    const listing = [
      { name: "echo", input_schema: { type: "object" } },
      { name: "shout", input_schema: { type: "object" } },
      { name: "ping", input_schema: { type: "object" } },
    ];
    const pinned = mcpPlan(request({ mcp_servers: [SERVER], tools: [{ ...TOOLSET, configs: { shout: { enabled: false } }, tools: listing }] }));
    expect(pinned.servers[0]!.allowedTools).toEqual(["echo", "ping"]);
    const denied = problem({ mcp_servers: [SERVER], tools: [{ ...TOOLSET, configs: { shout: { enabled: false } } }] });
    expect(denied).toMatch(/^tools\[0\]\.configs: a denylist \("shout" disabled, the rest enabled\) needs the server's tool list/);
    expect(denied).toContain("default_config.enabled to false");
    expect(denied).toContain("tools[0].tools");
  });

  test("defer_loading has no per-tool counterpart: ignored with a warning; cache_control means nothing upstream", () => {
    const { body, warnings } = toResponsesRequest(
      request({ mcp_servers: [SERVER], tools: [{ ...TOOLSET, default_config: { defer_loading: true }, cache_control: { type: "ephemeral" } }] }),
      { model: "grok-4.3", caps, stream: false },
    );
    expect(body.tools).toHaveLength(1);
    expect(warnings).toEqual(['mcp_toolset for "echo": defer_loading ignored (xAI\'s remote MCP tool has no per-tool deferral)']);
  });

  test("the older beta (mcp-client-2025-04-04): tool_configuration.allowed_tools → allowed_tools; enabled:false leaves the server out", () => {
    const plan = mcpPlan(
      request({
        mcp_servers: [
          { ...SERVER, tool_configuration: { allowed_tools: ["echo"] } },
          { type: "url", url: "https://b.example.com/mcp", name: "b", tool_configuration: { enabled: false } },
          { type: "url", url: "https://c.example.com/mcp", name: "c", tool_configuration: null },
        ],
      }),
    );
    expect(plan.servers).toEqual([
      { label: "echo", url: SERVER.url, authorization: TOKEN, allowedTools: ["echo"] },
      { label: "c", url: "https://c.example.com/mcp" },
    ]);
  });

  test("the URL's shape is checked, never resolved; no message quotes the URL or the token", () => {
    expect(mcpUrlProblem("https://mcp.example.com/sse")).toBeUndefined();
    expect(mcpUrlProblem("https://no-such-host.invalid:8443/mcp?x=1")).toBeUndefined(); // shape only: never looked up
    expect(mcpUrlProblem("http://mcp.example.com/sse")).toContain("https://");
    expect(mcpUrlProblem("not a url")).toBe("is not a valid URL");
    expect(mcpUrlProblem("https://user:pa55word@mcp.example.com/")).toContain("must not carry credentials");
    expect(mcpUrlProblem("https://token@mcp.example.com/")).toContain("must not carry credentials");
    expect(mcpUrlProblem("https://mcp.example.com/sse#frag")).toContain("fragment");
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ mcp_servers: [{ ...SERVER, url: "http://mcp.example.com/sse" }] }, "mcp_servers[0].url: the MCP server URL must start with https://"],
      [{ mcp_servers: [{ ...SERVER, url: "https://me:pa55word@mcp.example.com/sse" }] }, "mcp_servers[0].url: the MCP server URL must not carry credentials"],
      [{ mcp_servers: [SERVER, { ...SERVER, url: "https://b.example.com/" }] }, 'mcp_servers[1].name: "echo" is already the name of mcp_servers[0]'],
      [{ mcp_servers: [{ ...SERVER, url: "" }] }, "mcp_servers[0].url: must not be empty"],
      [{ mcp_servers: [{ ...SERVER, type: "stdio" }] }, "mcp_servers[0].type"],
    ];
    for (const [extra, message] of cases) {
      const p = problem(extra);
      expect(p).toStartWith(message);
      expect(p).not.toContain("pa55word");
      expect(p).not.toContain(TOKEN);
    }
  });

  test("toolsets and servers: each toolset names a known server, each server has exactly one toolset when toolsets are used", () => {
    expect(problem({ mcp_servers: [SERVER], tools: [{ type: "mcp_toolset", mcp_server_name: "nope" }] })).toBe(
      'tools[0].mcp_server_name: no MCP server named "nope"; mcp_servers names "echo"',
    );
    expect(problem({ tools: [TOOLSET] })).toBe('tools[0].mcp_server_name: no MCP server named "echo"; the request has no mcp_servers');
    expect(problem({ mcp_servers: [SERVER], tools: [TOOLSET, TOOLSET] })).toBe(
      'tools[1].mcp_server_name: server "echo" already has a toolset (tools[0]); each server takes exactly one',
    );
    expect(problem({ mcp_servers: [SERVER, { ...SERVER, name: "two" }], tools: [TOOLSET] })).toStartWith('mcp_servers[1]: server "two" has no mcp_toolset in tools');
    expect(problem({ mcp_servers: [{ ...SERVER, tool_configuration: { enabled: true } }], tools: [TOOLSET] })).toStartWith(
      "mcp_servers[0].tool_configuration: belongs to the older beta",
    );
    expect(problem({ mcp_servers: [SERVER], tools: [{ type: "mcp_toolset" }] })).toBe("tools[0].mcp_server_name: Field required");
    expect(problem({ mcp_servers: [SERVER], tools: [{ ...TOOLSET, configs: { echo: { enabled: "yes" } } }] })).toBe("tools[0].configs.echo.enabled: expected a boolean");
    expect(problem({ mcp_servers: [SERVER], tools: [TOOLSET] })).toBe("ok");
    expect(mcpProblem(request({}))).toBeUndefined();
    // Any other tool still needs its name.
    expect(problem({ tools: [{ input_schema: { type: "object" } }] })).toBe("tools[0].name: Field required");
  });

  test("on the chat-completions dialect: a 400 that says the MCP connector needs the Responses API, never a silent drop", () => {
    const chat = (extra: Record<string, unknown>) => () => toChatRequest(request(extra), { model: "grok-4.3", caps, stream: false });
    expect(chat({ mcp_servers: [SERVER] })).toThrow(/^mcp_servers: the MCP connector \(xAI's remote MCP tools\) needs the upstream's Responses API/);
    expect(chat({ mcp_servers: [SERVER], tools: [TOOLSET] })).toThrow(/^tools\[0\]: "mcp_toolset" \(the MCP connector: xAI's remote MCP tools\) needs the upstream's Responses API/);
  });

  test("the debug log's copy of the upstream body masks the token (redactSecrets: `authorization` is a secret's name)", () => {
    const { body } = toResponsesRequest(request({ mcp_servers: [SERVER], tools: [TOOLSET] }), { model: "grok-4.3", caps, stream: false });
    const logged = JSON.stringify(redactSecrets(body));
    expect(logged).not.toContain(TOKEN);
    expect(logged).toContain("https://mcp.example.com/sse");
    expect(JSON.stringify(redactSecrets(request({ mcp_servers: [SERVER] })))).not.toContain(TOKEN); // the client's own field too
  });
});

const ECHO = mcpCall({ label: "echo", name: "echo", args: { message: "hello world" }, text: "Tool echo: hello world" });
const SCRIPT: Script = {
  reasoning: { pieces: ["The user wants ", "an echo."], encrypted: "ENC-mcp-1" },
  serverItems: [ECHO],
  text: ["The echo tool ", "said: hello world"],
};

function json(response: unknown, thinking = true): { message: AnthropicMessage; digest?: string } {
  const r = fromResponsesJson(response, { id: "msg_t", model: "claude-x", inputTokensEstimate: 10, thinking });
  return { message: r.message, digest: r.reasoning?.digest };
}

function streamed(events: Array<Record<string, unknown>>, thinking = true): { message: AnthropicMessage; digest?: string } {
  const t = new ResponsesStreamTranslator({ messageId: "msg_t", model: "claude-x", inputTokensEstimate: 10, thinking });
  const out = [...t.start()];
  for (const e of events) out.push(...t.push(e as never));
  out.push(...t.finish());
  return { message: assemble(out), digest: t.reasoning?.digest };
}

const jsonOf = (s: Script) => responseObject(scriptOutput(s), s, "completed");

describe("the answer: mcp_call → mcp_tool_use + mcp_tool_result", () => {
  test("in place, as Anthropic's recorded MCP answer shapes them; usage has no server tool count; end_turn", () => {
    const { message } = json(jsonOf(SCRIPT));
    expect(message.content.map((b) => b.type)).toEqual(["thinking", "mcp_tool_use", "mcp_tool_result", "text"]);
    const id = `mcptoolu_xai_${ECHO.id}`;
    expect(message.content[1]).toEqual({ type: "mcp_tool_use", id, name: "echo", server_name: "echo", input: { message: "hello world" } });
    expect(message.content[2]).toEqual({ type: "mcp_tool_result", tool_use_id: id, is_error: false, content: [{ type: "text", text: "Tool echo: hello world" }] });
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.server_tool_use).toBeUndefined();
    // The same keys as real Anthropic's blocks.
    const anthropic = fixtureJson("anthropic-target/anthropic-mcp.1.json").content;
    expect(Object.keys(message.content[1]!).sort()).toEqual(Object.keys(anthropic[0]).sort());
    expect(Object.keys(message.content[2]!).sort()).toEqual(Object.keys(anthropic[1]).sort());
  });

  test("the stream gives the same message, the call as start + one input_json_delta, the result whole", () => {
    const { message } = streamed(scriptEvents(SCRIPT));
    expect(message.content).toEqual(json(jsonOf(SCRIPT)).message.content);
  });

  test("Grok's `<label>___<tool>` name loses its prefix; a failed call is an error result with xAI's message; other content is named, not dropped", () => {
    const failed = mcpCall({ n: 1, label: "db", name: "run_query", args: { sql: "x" }, error: "syntax error", prefixed: true });
    const image = {
      ...mcpCall({ n: 2, label: "db", name: "chart", args: {} }),
      output: JSON.stringify({ content: [{ type: "text", text: "a chart:" }, { type: "image", data: "AAAA", mimeType: "image/png" }], isError: false }),
    };
    const raw = { ...mcpCall({ n: 3, label: "db", name: "raw", args: {} }), output: "plain words" };
    const s: Script = { serverItems: [failed, image, raw], text: ["done"] };
    for (const { message } of [json(jsonOf(s)), streamed(scriptEvents(s))]) {
      const [use1, res1, , res2, , res3] = message.content as any[];
      expect(use1).toMatchObject({ type: "mcp_tool_use", name: "run_query", server_name: "db", input: { sql: "x" } });
      expect(res1).toMatchObject({ is_error: true, content: [{ type: "text", text: "[run_query] syntax error" }] });
      expect(res2.content).toEqual([
        { type: "text", text: "a chart:" },
        { type: "text", text: "[image (image/png): not shown, an MCP result here carries text only]" },
      ]);
      expect(res3.content).toEqual([{ type: "text", text: "plain words" }]);
    }
  });

  test("the turn's digest counts the MCP blocks: another call gives another digest (the reasoning store restores nothing for an edited turn)", () => {
    const { message, digest } = json(jsonOf(SCRIPT), false);
    expect(digest).toBe(turnDigest(message.content));
    expect(streamed(scriptEvents(SCRIPT), false).digest).toBe(digest!);
    const edited = message.content.map((b) => (b.type === "mcp_tool_use" ? { ...b, id: "mcptoolu_xai_other" } : b));
    expect(turnDigest(edited)).not.toBe(digest!);
  });
});

describe("the next turn: our MCP blocks → xAI's mcp_call again, in place; anyone else's → text context", () => {
  const next = (assistant: unknown[], extra: Record<string, unknown> = {}) =>
    toResponsesRequest(
      request({
        mcp_servers: [SERVER],
        tools: [TOOLSET],
        messages: [
          { role: "user", content: "Echo hello world." },
          { role: "assistant", content: JSON.parse(JSON.stringify(assistant)) },
          { role: "user", content: "Again?" },
        ],
        ...extra,
      }),
      { model: "grok-4.3", caps, stream: false },
    ).body.input;

  test("xAI gets its output back item for item: reasoning (with its id), the mcp_call as it sent it, the message text", () => {
    const output = scriptOutput(SCRIPT);
    for (const { message } of [json(jsonOf(SCRIPT)), streamed(scriptEvents(SCRIPT))]) {
      const input = next(message.content);
      expect(input).toHaveLength(5);
      expect(input[1]).toEqual({ id: output[0]!.id, summary: [{ text: "The user wants an echo.", type: "summary_text" }], type: "reasoning", status: "completed", encrypted_content: "ENC-mcp-1" });
      expect(JSON.stringify(input[2])).toBe(JSON.stringify(ECHO)); // exactly, keys in order
      expect(input[3]).toEqual({ role: "assistant", content: [{ type: "output_text", text: "The echo tool said: hello world" }] });
    }
  });

  test("a failed call goes back with its message in `error`", () => {
    const failed = mcpCall({ label: "echo", name: "echo", args: { message: "x" }, error: "boom" });
    const { message } = json(jsonOf({ serverItems: [failed], text: ["sorry"] }));
    const item = next(message.content)[1] as Record<string, unknown>;
    expect(item).toEqual({ type: "mcp_call", id: failed.id, name: "echo", server_label: "echo", arguments: '{"message":"x"}', output: "", status: "completed", error: "[echo] boom" });
  });

  test("real Anthropic's MCP turn (recorded) is plain text context: its ids never sent as xAI items", () => {
    const anthropic = fixtureJson("anthropic-target/anthropic-mcp.1.json");
    const input = next(anthropic.content);
    expect(input[1]).toEqual({
      role: "assistant",
      content: [
        {
          type: "output_text",
          text:
            '[MCP tool call: echo echo {"message":"hello world"}]\n\n[MCP tool result]\nTool echo: hello world\n\n' +
            'The echo tool responded back with: **"hello world"**\n\nAs expected, it simply echoes back the exact message that was sent to it!',
        },
      ],
    });
    expect(JSON.stringify(input)).not.toContain("mcptoolu_");
  });

  test("on chat completions (a later turn without MCP) the blocks are text context too", () => {
    const { message } = json(jsonOf(SCRIPT));
    const body = toChatRequest(
      request({ messages: [{ role: "user", content: "Echo." }, { role: "assistant", content: message.content }, { role: "user", content: "Again?" }] }),
      { model: "grok-4.3", caps, stream: false },
    ).body;
    expect(body.messages[1]).toEqual({
      role: "assistant",
      content: '[MCP tool call: echo echo {"message":"hello world"}]\n\n[MCP tool result]\nTool echo: hello world\n\nThe echo tool said: hello world',
    });
  });

  test("MCP blocks belong in an assistant turn: elsewhere a 400 naming the place", () => {
    const p = problem({ messages: [{ role: "user", content: [{ type: "mcp_tool_use", id: "m", name: "n", server_name: "s", input: {} }] }] });
    expect(p).toBe('messages[0].content[0]: block type "mcp_tool_use" belongs in an assistant turn (it is part of an answer), not a user turn');
  });
});
