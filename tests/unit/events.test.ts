/** SSE frames: the template fast path for deltas writes exactly what JSON.stringify would. */
import { expect, test } from "bun:test";
import { encodeEvent, type BlockDelta, type StreamEvent } from "../../src/anthropic/events";

const generic = (e: StreamEvent) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
const TEXTS = ["", "Hello", 'quote " and \\ backslash', "line\nbreak\ttab\r", "ünïcödé 日本語 🙂", "lone \ud800 surrogate", "\u0000\u001f\u2028\u2029", "</script>"];

test("every delta type, with awkward text, encodes byte for byte as JSON.stringify", () => {
  for (const t of TEXTS) {
    const deltas: BlockDelta[] = [
      { type: "text_delta", text: t },
      { type: "thinking_delta", thinking: t },
      { type: "signature_delta", signature: t },
      { type: "input_json_delta", partial_json: t },
    ];
    for (const delta of deltas) {
      for (const index of [0, 7, 123]) {
        const e: StreamEvent = { type: "content_block_delta", index, delta };
        expect(encodeEvent(e)).toBe(generic(e));
      }
    }
  }
});

test("other events go through JSON.stringify", () => {
  const events: StreamEvent[] = [
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    { type: "content_block_stop", index: 0 },
    { type: "message_stop" },
    { type: "ping" },
    { type: "error", error: { type: "overloaded_error", message: "busy" } },
  ];
  for (const e of events) expect(encodeEvent(e)).toBe(generic(e));
});
