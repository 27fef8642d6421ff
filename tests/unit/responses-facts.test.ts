/**
 * What routing learns of a `/v1/responses` request (src/faces/openai-responses/inbound.ts): the
 * text it carries (≈4 characters a token), whether it holds an image, whether reasoning is asked.
 * A large request is walked in slices with the same result.
 */
import { describe, expect, test } from "bun:test";
import { responsesRouteFacts, responsesRouteFactsSliced, type ClientResponsesRequest } from "../../src/faces/openai-responses/inbound";
import { Slicer } from "../../src/http/slicer";
import { loopTurnsDuring } from "../helpers/loop-turns";

describe("responsesRouteFacts", () => {
  test("text fields count, ids and image data do not; an image anywhere is found", () => {
    const req: ClientResponsesRequest = {
      model: "grok-4",
      instructions: "abcd", // 4
      input: [
        { role: "user", content: [{ type: "input_text", text: "12345678" }, { type: "input_image", image_url: "data:image/png;base64,AAAAAAAAAAAAAAAA" }] }, // 8
        { type: "function_call", call_id: "call_0123456789", name: "f", arguments: "{\"a\":1}" }, // 7
        { type: "function_call_output", call_id: "call_0123456789", output: "done" }, // 4
      ],
    };
    expect(responsesRouteFacts(req)).toEqual({ inputTokens: Math.ceil(23 / 4), thinking: false, images: true });
    expect(responsesRouteFacts({ model: "m", input: "hello there", reasoning: { effort: "low" } })).toEqual({ inputTokens: 3, thinking: true, images: false });
    expect(responsesRouteFacts({ model: "m", reasoning: { effort: "none" } })).toEqual({ inputTokens: 1, thinking: false, images: false });
  });

  test("nesting past the bound is not walked, and odd shapes never throw", () => {
    let deep: unknown = { type: "input_image" };
    for (let i = 0; i < 20; i++) deep = [deep];
    expect(responsesRouteFacts({ model: "m", input: [deep, null, 3, "x", { content: null }] as unknown[] }).images).toBe(false);
  });

  test("in slices: the same facts, and the event loop gets turns meanwhile", async () => {
    const input = Array.from({ length: 20_000 }, (_, i) =>
      i === 15_000 ? { role: "user", content: [{ type: "input_image", image_url: "https://x/y.png" }] } : { role: i % 2 ? "assistant" : "user", content: `message ${i}` },
    );
    const req: ClientResponsesRequest = { model: "m", input };
    const { value, turns } = await loopTurnsDuring(() => responsesRouteFactsSliced(req, new Slicer(0)));
    expect(value).toEqual(responsesRouteFacts(req));
    expect(responsesRouteFacts(req).images).toBe(true);
    expect(turns).toBeGreaterThan(0);
  });
});
