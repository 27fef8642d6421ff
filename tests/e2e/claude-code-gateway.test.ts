/**
 * What Claude Code needs from the gateway for a whole session, through the real
 * server: its model names resolve by role, every turn carries the same
 * x-grok-conv-id, the translated prefix stays byte-stable between turns, and
 * cached tokens come back as cache_read_input_tokens.
 */
import Anthropic from "@anthropic-ai/sdk";
import { beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { DEFAULT_ROUTING } from "../../src/models/routing";
import { completion, streamOf, textChunks, usage } from "../helpers/fake-upstream";
import { startGateway } from "../helpers/gateway";
import { clientFor, useFakeUpstream, useGateway } from "../helpers/setup";

const fake = useFakeUpstream();
const rig = useGateway({}, fake);
let client: Anthropic;
beforeAll(() => {
  client = clientFor(rig.gw, "k");
});
beforeEach(() => {
  fake.reset().on(() => Response.json(completion({ content: "ok" })));
});

const hi = [{ role: "user" as const, content: "hi" }];
const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

describe("Claude Code's model names resolve by role", () => {
  test.each([
    ["claude-sonnet-4-6", DEFAULT_ROUTING.default],
    ["claude-opus-4-8", DEFAULT_ROUTING.default],
    ["claude-opus-4-8[1m]", DEFAULT_ROUTING.default],
    ["claude-haiku-4-5", DEFAULT_ROUTING.fast],
    ["claude-haiku-4-5-20251001", DEFAULT_ROUTING.fast],
    ["claude-some-future-model", DEFAULT_ROUTING.default],
  ])("%s → %s, and the answer names what the client asked for", async (asked, upstream) => {
    const msg = await client.messages.create({ model: asked, max_tokens: 10, messages: hi });
    expect(fake.last.body.model).toBe(upstream);
    expect(msg.model).toBe(asked);
  });

  test("thinking → the reasoning model; long context → the long-context model; the log names the rule", async () => {
    const routed = startGateway(fake.baseUrl, {
      routing: { ...DEFAULT_ROUTING, default: "grok-plain", reasoning: "grok-thinker", long_context: "grok-long", long_context_threshold: 1000 },
      modelMap: { "claude-3-opus-latest": "grok-pinned" },
    });
    try {
      const c = new Anthropic({ baseURL: routed.url, apiKey: "k", maxRetries: 0 });
      await c.messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, messages: hi });
      expect(fake.last.body.model).toBe("grok-plain");
      await c.messages.create({ model: "claude-sonnet-4-6", max_tokens: 2000, thinking: { type: "enabled", budget_tokens: 1024 }, messages: hi });
      expect(fake.last.body.model).toBe("grok-thinker");
      await c.messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, thinking: { type: "adaptive" } as never, messages: hi });
      expect(fake.last.body.model).toBe("grok-thinker");
      await c.messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: "word ".repeat(2000) }] });
      expect(fake.last.body.model).toBe("grok-long");
      // an explicit mapping and a non-Claude name are never routed
      await c.messages.create({ model: "claude-3-opus-latest", max_tokens: 10, thinking: { type: "enabled", budget_tokens: 1024 }, messages: hi });
      expect(fake.last.body.model).toBe("grok-pinned");
      await c.messages.create({ model: "grok-4.20-0309-reasoning", max_tokens: 10, messages: hi });
      expect(fake.last.body.model).toBe("grok-4.20-0309-reasoning");
    } finally {
      await routed.stop();
    }
    const routes = (await Bun.file(routed.logFile).text())
      .split("\n")
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => JSON.parse(l).route);
    expect(routes).toEqual(["default", "reasoning", "reasoning", "long_context", "model_map", "passthrough"]);
  });

  test("images go to a vision model when the routed one cannot see", async () => {
    const routed = startGateway(fake.baseUrl, {
      routing: { ...DEFAULT_ROUTING, default: "grok-2-1212", vision: "grok-2-vision-1212" },
    });
    try {
      const c = new Anthropic({ baseURL: routed.url, apiKey: "k", maxRetries: 0 });
      await c.messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 10,
        messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: png } }, { type: "text", text: "what is it?" }] }],
      });
      expect(fake.last.body.model).toBe("grok-2-vision-1212");
      expect(fake.last.body.messages[0].content[0].type).toBe("image_url");
    } finally {
      await routed.stop();
    }
  });

  test("model discovery: GET /v1/models lists the routed Claude names first", async () => {
    const res = await fetch(`${rig.gw.url}/v1/models?limit=1000`, { headers: { "x-api-key": "k", "anthropic-version": "2023-06-01" } });
    const ids = ((await res.json()) as { data: Array<{ id: string; display_name: string }> }).data;
    expect(ids.slice(0, 3).map((m) => m.id)).toEqual(DEFAULT_ROUTING.advertise);
    expect(ids[0]!.display_name).toContain(DEFAULT_ROUTING.default);
    expect(ids.find((m) => m.id === "claude-haiku-4-5")!.display_name).toContain(DEFAULT_ROUTING.fast);
  });
});

describe("prompt-cache stickiness", () => {
  const session = "744f801c-3383-4754-8be9-3b034c05f4d1";

  test("x-claude-code-session-id becomes x-grok-conv-id upstream", async () => {
    await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, messages: hi }, { headers: { "x-claude-code-session-id": session } });
    expect(fake.last.headers.get("x-grok-conv-id")).toBe(session);
  });

  test("else the session part of metadata.user_id (both of Claude Code's forms)", async () => {
    await client.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 10,
      messages: hi,
      metadata: { user_id: JSON.stringify({ device_id: "4ba63df8", account_uuid: "", session_id: "db7419b0-3250-4d24-b5b5-ded717d5a383" }) },
    });
    expect(fake.last.headers.get("x-grok-conv-id")).toBe("db7419b0-3250-4d24-b5b5-ded717d5a383");
    await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, messages: hi, metadata: { user_id: "user_abc_account__session_0f1e2d3c-aaaa-bbbb" } });
    expect(fake.last.headers.get("x-grok-conv-id")).toBe("0f1e2d3c-aaaa-bbbb");
  });

  test("no session, no header", async () => {
    await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, messages: hi });
    expect(fake.last.headers.get("x-grok-conv-id")).toBeNull();
  });

  test("the translated prefix is byte-stable from one turn to the next, and cached tokens are reported", async () => {
    const tools = [
      { name: "Read", description: "Read a file", input_schema: { type: "object" as const, properties: { path: { type: "string" } } } },
      { name: "Bash", description: "Run a command", input_schema: { type: "object" as const, properties: { command: { type: "string" } } } },
    ];
    const system = [
      { type: "text" as const, text: "x-anthropic-billing-header: cc_version=2.1.197.1c0; cc_entrypoint=sdk-cli;" },
      { type: "text" as const, text: "You are Claude Code.", cache_control: { type: "ephemeral" as const } },
    ];
    const turn1: Anthropic.MessageParam[] = [{ role: "user", content: "list files" }];
    fake.on(() => streamOf(textChunks("Here they are.", { usage: usage(1200, 5) })));
    await client.messages.stream({ model: "claude-sonnet-4-6", max_tokens: 100, system, tools, messages: turn1 }, { headers: { "x-claude-code-session-id": session } }).finalMessage();
    const first = fake.last.body;

    // Next turn: same conversation, one more exchange; another session's billing suffix;
    // the client lists its tools in another order.
    const turn2: Anthropic.MessageParam[] = [...turn1, { role: "assistant", content: "Here they are." }, { role: "user", content: "thanks" }];
    const system2 = [{ ...system[0]!, text: "x-anthropic-billing-header: cc_version=2.1.197.d74; cc_entrypoint=sdk-cli;" }, system[1]!];
    fake.on(() => streamOf(textChunks("You're welcome.", { usage: usage(1300, 4, { cached: 1200 }) })));
    const final = await client.messages
      .stream({ model: "claude-sonnet-4-6", max_tokens: 100, system: system2, tools: [tools[1]!, tools[0]!], messages: turn2 }, { headers: { "x-claude-code-session-id": session } })
      .finalMessage();
    const second = fake.last.body;

    expect(JSON.stringify(second.tools)).toBe(JSON.stringify(first.tools));
    const prefix = JSON.stringify(first.messages).slice(0, -1); // without the closing bracket
    expect(JSON.stringify(second.messages).startsWith(prefix)).toBe(true);
    expect(first.messages[0]).toEqual({ role: "system", content: "You are Claude Code." });
    expect(fake.last.headers.get("x-grok-conv-id")).toBe(session);
    expect(final.usage.cache_read_input_tokens).toBe(1200);
    expect(final.usage.input_tokens).toBe(100);
  });
});
