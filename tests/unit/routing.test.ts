/** Routing by role, and the conversation id used for xAI's prompt cache. */
import { describe, expect, test } from "bun:test";
import { createCapabilityTable } from "../../src/models/capabilities";
import { createModelMap } from "../../src/models/map";
import { DEFAULT_ROUTING, baseModelName, createRouter, isClaudeStyle } from "../../src/models/routing";
import { conversationId, sessionFromUserId } from "../../src/dialects/conversation";

const facts = (model: string, more: Partial<{ inputTokens: number; thinking: boolean; images: boolean }> = {}) => ({
  model,
  inputTokens: 1000,
  thinking: false,
  images: false,
  ...more,
});

describe("router", () => {
  const route = createRouter(createModelMap({ "claude-special": "grok-special" }), createCapabilityTable());

  test("an explicit mapping wins over every other rule", () => {
    expect(route(facts("claude-special", { inputTokens: 10_000_000, thinking: true }))).toEqual({ model: "grok-special", rule: "model_map" });
    // the seed's table is no longer built in: its names are routed by role
    expect(route(facts("claude-3-haiku-20240307"))).toEqual({ model: DEFAULT_ROUTING.fast, rule: "fast" });
  });

  test("non-Claude names go upstream unchanged", () => {
    expect(route(facts("grok-4", { inputTokens: 10_000_000, thinking: true, images: true }))).toEqual({ model: "grok-4", rule: "passthrough" });
    expect(route(facts("grok-4.20-0309-reasoning"))).toEqual({ model: "grok-4.20-0309-reasoning", rule: "passthrough" });
  });

  test("Claude Code's names all resolve, never unchanged", () => {
    for (const name of ["claude-sonnet-4-6", "claude-opus-4-8", "claude-opus-4-8[1m]", "claude-sonnet-4-6[1m]", "claude-fancy-9", "anthropic.claude-v9", "sonnet", "opus"]) {
      const r = route(facts(name));
      expect(r.rule).toBe("default");
      expect(r.model).toBe(DEFAULT_ROUTING.default);
    }
  });

  test("long context beats haiku-class and thinking", () => {
    expect(route(facts("claude-haiku-4-5", { inputTokens: 900_000, thinking: true }))).toEqual({ model: DEFAULT_ROUTING.long_context, rule: "long_context" });
    expect(route(facts("claude-opus-4-8", { inputTokens: 800_000 })).rule).toBe("default");
    expect(route(facts("claude-opus-4-8", { inputTokens: 800_001 })).rule).toBe("long_context");
  });

  test("haiku-class → fast model, even with thinking", () => {
    expect(route(facts("claude-haiku-4-5"))).toEqual({ model: DEFAULT_ROUTING.fast, rule: "fast" });
    expect(route(facts("claude-3-5-haiku-20241022", { thinking: true })).rule).toBe("fast");
  });

  test("thinking → reasoning model", () => {
    const r = createRouter(createModelMap(), createCapabilityTable(), { ...DEFAULT_ROUTING, reasoning: "grok-think", default: "grok-plain" });
    expect(r(facts("claude-sonnet-4-6", { thinking: true }))).toEqual({ model: "grok-think", rule: "reasoning" });
    expect(r(facts("claude-sonnet-4-6"))).toEqual({ model: "grok-plain", rule: "default" });
  });

  test("images → a vision-capable model when the chosen one cannot see", () => {
    const caps = createCapabilityTable([["grok-blind*", { vision: false }]]);
    const r = createRouter(createModelMap(), caps, { ...DEFAULT_ROUTING, default: "grok-blind-1", vision: "grok-eyes" });
    expect(r(facts("claude-sonnet-4-6", { images: true }))).toEqual({ model: "grok-eyes", rule: "vision" });
    expect(r(facts("claude-sonnet-4-6"))).toEqual({ model: "grok-blind-1", rule: "default" });
    // the default lineup sees already
    expect(route(facts("claude-sonnet-4-6", { images: true }))).toEqual({ model: DEFAULT_ROUTING.default, rule: "default" });
  });

  test("name helpers", () => {
    expect(baseModelName("claude-opus-4-8[1m]")).toBe("claude-opus-4-8");
    expect(isClaudeStyle("Claude-Sonnet")).toBe(true);
    expect(isClaudeStyle("grok-4")).toBe(false);
  });
});

describe("conversation id", () => {
  test("the Claude Code session header wins", () => {
    expect(conversationId("744f801c-3383-4754-8be9-3b034c05f4d1", "user_x_account__session_other-id-123")).toBe("744f801c-3383-4754-8be9-3b034c05f4d1");
  });

  test("else the session in metadata.user_id (JSON or legacy form)", () => {
    expect(sessionFromUserId('{"device_id":"4ba6","account_uuid":"","session_id":"db7419b0-3250-4d24-b5b5-ded717d5a383"}')).toBe("db7419b0-3250-4d24-b5b5-ded717d5a383");
    expect(sessionFromUserId("user_8d0f3_account__session_0f1e2d3c-aaaa-bbbb-cccc-1234567890ab")).toBe("0f1e2d3c-aaaa-bbbb-cccc-1234567890ab");
    expect(conversationId(null, "user_8d0f3_account__session_0f1e2d3c-aaaa")).toBe("0f1e2d3c-aaaa");
  });

  test("nothing usable → no id (never a made-up one, never an unsafe header value)", () => {
    expect(conversationId(null, undefined)).toBeUndefined();
    expect(conversationId("", "plain-user")).toBeUndefined();
    expect(conversationId("bad\r\nheader", null)).toBeUndefined();
    expect(sessionFromUserId('{"session_id":"has spaces"}')).toBeUndefined();
  });
});
