/** Completion of a Responses stream, seen in its bytes however they are split; the error event. */
import { describe, expect, test } from "bun:test";
import { responsesCompletion, responsesErrorEvent } from "../../src/openai/responses-stream";
import { fixture, STREAM_TEXT } from "../helpers/fake-responses-replay";

const enc = new TextEncoder();

function feed(text: string, size: number): boolean {
  const bytes = enc.encode(text);
  const check = responsesCompletion();
  for (let i = 0; i < bytes.length; i += size) check.see(bytes.subarray(i, i + size));
  return check.complete;
}

describe("responsesCompletion", () => {
  const recorded = fixture(STREAM_TEXT);
  const cut = recorded.slice(0, recorded.indexOf("event: response.completed"));

  test("a recorded stream is complete, split into chunks of any size; cut before its last event it is not", () => {
    for (const size of [1, 2, 7, 25, 64, 1000, recorded.length]) {
      expect(feed(recorded, size)).toBe(true);
      expect(feed(cut, size)).toBe(false);
    }
  });

  test("response.incomplete, response.failed and error end a stream too; the words inside text do not", () => {
    for (const name of ["response.incomplete", "response.failed", "error"]) {
      expect(feed(`${cut}event: ${name}\ndata: {}\n\n`, 3)).toBe(true);
    }
    const quoted = `${cut}event: response.output_text.delta\ndata: {"delta":"\\nevent: response.completed\\n"}\n\n`;
    expect(feed(quoted, 5)).toBe(false);
    expect(feed(`${cut}event: response.completed_not\n\n`, 5)).toBe(false);
    expect(feed(`${cut}event: response.completed\r\ndata: {}\r\n\r\n`, 4)).toBe(true);
  });
});

describe("responsesErrorEvent", () => {
  test("an `error` event with OpenAI's error object, after blank lines that end a half-sent event", () => {
    const text = new TextDecoder().decode(responsesErrorEvent("the upstream closed the stream"));
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
});
