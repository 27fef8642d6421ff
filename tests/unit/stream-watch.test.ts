/**
 * Relayed streams watched frame by frame (src/exchange/sse-frames.ts and each dialect's
 * stream-watch.ts): whole frames whatever the reads, the end of a stream, the usage it is
 * charged — read however long the final event — and the usage chunk kept from a client that
 * did not ask for it; the OpenAI faces' error events.
 */
import { describe, expect, test } from "bun:test";
import { FrameSplitter, watchFrame, type Frames, type StreamWatch } from "../../src/exchange/sse-frames";
import { openaiStreamError, responsesStreamError } from "../../src/faces/openai/errors";
import { chatStreamWatch } from "../../src/dialects/chat/stream-watch";
import { responsesStreamWatch } from "../../src/dialects/responses/stream-watch";
import { sseText, textChunks, usage } from "../helpers/fake-upstream";
import { fixture, STREAM_TEXT } from "../helpers/fake-responses-replay";
import { responsesSse, scriptEvents } from "../helpers/fake-responses";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The whole frames of one read, in order: the one it ended, then those it holds whole. */
function wholeFrames({ head, body, ends }: Frames): Uint8Array[] {
  const out = head ? [head] : [];
  let start = 0;
  for (const end of ends) {
    out.push(body.subarray(start, end));
    start = end;
  }
  return out;
}

/**
 * The text in reads of `size` bytes through a splitter and a watch, as the relay does it (the
 * frame a read ends on its own, the read's other frames together): what the client gets, and the watch.
 */
function relay(text: string, size: number, watch: StreamWatch): { out: string; watch: StreamWatch } {
  const bytes = enc.encode(text);
  const frames = new FrameSplitter();
  let out = "";
  for (let i = 0; i < bytes.length; i += size) {
    const read = frames.push(bytes.subarray(i, i + size));
    if (read.head) {
      const kept = watchFrame(watch, read.head);
      if (kept) out += dec.decode(kept);
    }
    const changed = read.ends.length ? watch.frames(read.body, read.ends) : null;
    wholeFrames({ head: null, body: read.body, ends: read.ends }).forEach((frame, k) => {
      const kept = changed?.has(k) ? changed.get(k) : frame;
      if (kept) out += dec.decode(kept);
    });
  }
  out += dec.decode(frames.end());
  return { out, watch };
}

describe("frames", () => {
  test("any split gives the same whole frames, in order, and holds a frame that never ended", () => {
    const text = "data: a\n\ndata: b\r\n\r\nevent: x\ndata: c\n\ndata: cut";
    for (const size of [1, 2, 3, 5, 8, 100]) {
      const frames = new FrameSplitter();
      const got: string[] = [];
      const bytes = enc.encode(text);
      for (let i = 0; i < bytes.length; i += size) {
        for (const frame of wholeFrames(frames.push(bytes.subarray(i, i + size)))) got.push(dec.decode(frame));
      }
      expect(got).toEqual(["data: a\n\n", "data: b\r\n\r\n", "event: x\ndata: c\n\n"]);
      expect(dec.decode(frames.end())).toBe("data: cut");
    }
  });
});

describe("Responses streams", () => {
  const recorded = fixture(STREAM_TEXT);
  const cut = recorded.slice(0, recorded.indexOf("event: response.completed"));

  test("a recorded stream is complete and its usage read, whatever the reads; cut before its last event it is not", () => {
    for (const size of [1, 2, 7, 25, 64, 1000, recorded.length]) {
      const { out, watch } = relay(recorded, size, responsesStreamWatch());
      expect(out).toBe(recorded); // passed through as it came
      expect(watch.complete).toBe(true);
      expect(watch.usage).toMatchObject({ outputTokens: expect.any(Number) });
      expect(relay(cut, size, responsesStreamWatch()).watch.complete).toBe(false);
    }
  });

  test("response.incomplete, response.failed and error end a stream too; the words inside text do not", () => {
    for (const name of ["response.incomplete", "response.failed", "error"]) {
      expect(relay(`${cut}event: ${name}\ndata: {}\n\n`, 3, responsesStreamWatch()).watch.complete).toBe(true);
    }
    const quoted = `${cut}event: response.output_text.delta\ndata: {"delta":"\\nevent: response.completed\\n"}\n\n`;
    expect(relay(quoted, 5, responsesStreamWatch()).watch.complete).toBe(false);
    expect(relay(`${cut}event: response.completed_not\n\n`, 5, responsesStreamWatch()).watch.complete).toBe(false);
    expect(relay(`${cut}event: response.completed\r\ndata: {}\r\n\r\n`, 4, responsesStreamWatch()).watch.complete).toBe(true);
  });

  test("a final event of megabytes (the whole answer in it) still gives its usage, exactly", () => {
    const long = "x".repeat(3_000_000) + ' "usage":{"fake":1} { [';
    const text = responsesSse(scriptEvents({ text: [long], usage: { input: 1234, cached: 34, output: 5678 } }));
    const { watch } = relay(text, 65536, responsesStreamWatch());
    expect(watch.usage).toEqual({ inputTokens: 1200, outputTokens: 5678, cachedTokens: 34, costTicks: 3515000 });
    expect(watch.outputEstimate).toBe(1); // one delta
  });
});

describe("chat-completions streams", () => {
  const chunks = textChunks("one two three", { usage: usage(20, 3, { cached: 5, reasoning: 7 }) });
  const wire = sseText(chunks);

  test("the usage chunk is read; the client that asked for it gets the stream as it was", () => {
    for (const size of [1, 9, 64, wire.length]) {
      const { out, watch } = relay(wire, size, chatStreamWatch({ clientAskedUsage: true }));
      expect(out).toBe(wire);
      expect(watch.complete).toBe(true);
      expect(watch.usage).toEqual({ inputTokens: 15, outputTokens: 10, cachedTokens: 5, costTicks: 1000 });
    }
  });

  test("a client that did not ask for usage does not get the usage chunk; the gateway still reads it", () => {
    const { out, watch } = relay(wire, 7, chatStreamWatch({ clientAskedUsage: false }));
    expect(out).not.toContain('"usage"');
    expect(out).toContain("data: [DONE]");
    expect(out).toBe(sseText(textChunks("one two three", { usage: null })));
    expect(watch.usage?.inputTokens).toBe(15);
    // Usage riding in a chunk with choices: the chunk stays, without its usage.
    const riding = sseText([{ ...(chunks[0] as object), usage: usage(1, 1) }]);
    expect(relay(riding, 5, chatStreamWatch({ clientAskedUsage: false })).out).not.toContain('"usage"');
  });

  test("a stream cut before [DONE] is not complete; its output is estimated from the deltas", () => {
    const cutWire = sseText(textChunks("one two three", { usage: null }), { done: false });
    const { watch } = relay(cutWire, 11, chatStreamWatch({ clientAskedUsage: false }));
    expect(watch.complete).toBe(false);
    expect(watch.usage).toBeUndefined();
    expect(watch.outputEstimate).toBeGreaterThan(0);
  });
});

describe("Responses streams: output estimated from the delta events", () => {
  test("a `….delta` event name counts however its line ends; other events and names that only contain it do not", () => {
    const frames = [
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"a"}\n\n',
      'event:response.reasoning_summary_text.delta  \ndata: {"delta":"b"}\n\n',
      'event: response.function_call_arguments.delta\r\ndata: {"delta":"c"}\r\n\r\n',
      'data: {"type":"response.output_text.delta","delta":"d"}\n\n', // no event line: the type it starts with
      'event: response.output_text.done\ndata: {"text":"abcd"}\n\n',
      'event: response.delta.done\ndata: {}\n\n',
      'event: .delt\ndata: {}\n\n',
    ].join("");
    for (const size of [1, 5, 40, frames.length]) expect(relay(frames, size, responsesStreamWatch()).watch.outputEstimate).toBe(4);
  });
});

describe("error events", () => {
  test("Responses: an `error` event with OpenAI's error object, after blank lines that end a half-sent event", () => {
    const text = dec.decode(responsesStreamError("the upstream closed the stream"));
    expect(text.startsWith("\n\nevent: error\ndata: ")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(true);
    const data = JSON.parse(text.trim().split("\n")[1]!.slice(6));
    expect(data).toEqual({
      type: "error",
      code: "upstream_error",
      message: "the upstream closed the stream",
      param: null,
      error: { message: "the upstream closed the stream", type: "server_error", param: null, code: "upstream_error" },
    });
  });

  test("chat completions: a data event with OpenAI's error envelope", () => {
    const text = dec.decode(openaiStreamError("cut"));
    expect(JSON.parse(text.trim().slice(6))).toEqual({ error: { message: "cut", type: "server_error", param: null, code: "upstream_error" } });
  });
});
