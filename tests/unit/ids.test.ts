import { describe, expect, test } from "bun:test";
import { newMessageId, newRequestId, toolUseId, upstreamToolCallId } from "../../src/dialects/ids";

describe("tool ids", () => {
  test("an upstream id survives the round trip through the client", () => {
    for (const upstream of ["call_79382389", "call_46427107", "abc-DEF_123", "toolu_01AbC"]) {
      const id = toolUseId(upstream);
      expect(id).toMatch(/^toolu_[A-Za-z0-9_-]+$/);
      expect(upstreamToolCallId(id)).toBe(upstream);
    }
  });

  test("characters Anthropic ids cannot hold become _ (consistently)", () => {
    const id = toolUseId("call:1/2 3");
    expect(id).toBe("toolu_call_1_2_3");
    expect(toolUseId("call:1/2 3")).toBe(id);
  });

  test("no upstream id: a fresh random toolu_ id", () => {
    const a = toolUseId(undefined);
    const b = toolUseId("");
    expect(a).toMatch(/^toolu_[A-Za-z0-9]{24}$/);
    expect(b).toMatch(/^toolu_[A-Za-z0-9]{24}$/);
    expect(a).not.toBe(b);
  });

  test("ids the client minted map the same way each time; never to an empty id", () => {
    expect(upstreamToolCallId("my-own-id")).toBe("my-own-id");
    expect(upstreamToolCallId("toolu_")).toBe("toolu_");
    expect(upstreamToolCallId("toolu_01XYZ")).toBe(upstreamToolCallId("toolu_01XYZ"));
  });

  test("message and request ids", () => {
    expect(newMessageId()).toMatch(/^msg_[A-Za-z0-9]{24}$/);
    expect(newRequestId()).toMatch(/^req_[A-Za-z0-9]{24}$/);
    expect(newMessageId()).not.toBe(newMessageId());
  });
});
