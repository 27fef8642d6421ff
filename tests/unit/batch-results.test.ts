/**
 * xAI's batch results in every shape the sources show (reference §1.2 "BatchResult": the
 * xai-ts string error, the gRPC `{code, message}` error, a success beside `{code: 0}`, a
 * response keyed by another endpoint's name) → Anthropic's result lines.
 */
import { describe, expect, test } from "bun:test";
import type { MessagesRequest } from "../../src/anthropic/schema";
import { outcomeOf } from "../../src/batches/results";
import { parseResult } from "../../src/batches/xai";
import { completion, usage } from "../helpers/fake-upstream";

const req = { model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] } as MessagesRequest;
const done = completion({ content: "Paris." }, "stop", { ...usage(11, 3), cost_in_usd_ticks: 123 });

describe("parseResult", () => {
  test("a success, with gRPC's OK beside it", () => {
    const r = parseResult({ batch_request_id: "france", batch_result: { response: { chat_get_completion: done }, error: { code: 0, message: "" } } });
    expect(r).toEqual({ batch_request_id: "france", completion: done, error: undefined });
  });
  test("a response under another endpoint's name", () => {
    expect(parseResult({ batch_request_id: "x", batch_result: { response: { responses: done } } })?.completion).toEqual(done);
  });
  test("an error as a string (xai-ts), as {code, message} (vercel, LiteLLM), or as a top-level error_message", () => {
    expect(parseResult({ batch_request_id: "a", batch_result: { error: "Model is not supported for batch processing" } })?.error).toEqual({
      code: undefined,
      message: "Model is not supported for batch processing",
    });
    expect(parseResult({ batch_request_id: "b", batch_result: { error: { code: 3, message: "boom" } } })?.error).toEqual({ code: 3, message: "boom" });
    expect(parseResult({ batch_request_id: "c", error_message: "gone" })?.error?.message).toBe("gone");
  });
  test("neither: an error that says so; no request id: skipped", () => {
    expect(parseResult({ batch_request_id: "d", batch_result: {} })?.error?.message).toContain("neither a response nor an error");
    expect(parseResult({ batch_result: {} })).toBeUndefined();
  });
});

describe("outcomeOf", () => {
  test("a chat completion becomes a Message named as the client asked, usage marked batch, the cost for the ledger", () => {
    const o = outcomeOf({ batch_request_id: "f", completion: done, error: undefined }, req);
    expect(o.status).toBe("succeeded");
    expect(o.result).toMatchObject({
      type: "succeeded",
      message: { type: "message", role: "assistant", model: "claude-sonnet-4-5", content: [{ type: "text", text: "Paris." }], stop_reason: "end_turn", usage: { input_tokens: 11, output_tokens: 3, service_tier: "batch" } },
    });
    expect(o.usage).toEqual({ input_tokens: 11, output_tokens: 3, cached_tokens: 0, cost_ticks: 123 });
  });
  test("stop sequences are applied to the text, as /v1/messages does", () => {
    const o = outcomeOf({ batch_request_id: "s", completion: completion({ content: "one, two, STOP three" }), error: undefined }, { ...req, stop_sequences: ["STOP"] });
    expect(o.result).toMatchObject({ message: { content: [{ type: "text", text: "one, two, " }], stop_reason: "stop_sequence", stop_sequence: "STOP" } });
  });
  test("gRPC CANCELLED → canceled; other codes → their Anthropic error type; a string error by its words", () => {
    expect(outcomeOf({ batch_request_id: "c", completion: undefined, error: { code: 1, message: "cancelled" } }, req)).toEqual({ status: "canceled", result: { type: "canceled" } });
    const typeOf = (error: { code: number | undefined; message: string }) =>
      ((outcomeOf({ batch_request_id: "e", completion: undefined, error }, req).result as any).error.error.type as string);
    expect(typeOf({ code: 3, message: "bad" })).toBe("invalid_request_error");
    expect(typeOf({ code: 8, message: "quota" })).toBe("rate_limit_error");
    expect(typeOf({ code: 13, message: "internal" })).toBe("api_error");
    expect(typeOf({ code: undefined, message: "Model grok-4.6 is not supported for batch processing." })).toBe("invalid_request_error");
    expect(typeOf({ code: undefined, message: "something broke" })).toBe("api_error");
  });
  test("a completion that cannot be read is an errored api_error, never a crash", () => {
    const o = outcomeOf({ batch_request_id: "m", completion: { choices: "nope" }, error: undefined }, req);
    expect(o.status).toBe("errored");
    expect(o.result).toMatchObject({ type: "errored", error: { type: "error", error: { type: "api_error" } } });
  });
});
