/** Messages clients read say what happened in our words, never the runtime's hints ("pass `verbose: true`…"). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chunk, closedPort, controlledStream } from "../helpers/fake-upstream";
import { resilience, startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream } from "../helpers/setup";
import { networkErrorText, publicMessage } from "../../src/http/errors";

const RUNTIME = /verbose|second argument to fetch|Is the computer able/;

const fake = useFakeUpstream();
let gw: Gateway;
beforeAll(() => {
  gw = startGateway(fake.baseUrl, { resilience: resilience({ maxRetries: 0 }) });
});
afterAll(() => gw.stop());

async function post(path: string, body: unknown, g: Gateway = gw) {
  const res = await fetch(g.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}
const chat = { model: "grok-4", messages: [{ role: "user", content: "hi" }] };
const messages = { model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] };

/** The upstream sends a little, then drops the connection. */
const cutAfter = (first: string) => () => {
  const s = controlledStream();
  s.push(first);
  setTimeout(() => s.cut(), 20);
  return s.response;
};

describe("a connection dropped by the upstream", () => {
  test("chat face, non-stream: 502 with a plain reason", async () => {
    fake.on(cutAfter('{"id":"x","choices":['));
    const { status, text } = await post("/v1/chat/completions", chat);
    expect(status).toBe(502);
    expect(text).not.toMatch(RUNTIME);
    expect(JSON.parse(text).error.message).toBe("the upstream connection failed: the connection was closed unexpectedly");
  });

  test("chat face, stream: the error event has a plain reason", async () => {
    fake.on(cutAfter(`data: ${JSON.stringify(chunk({ content: "Hel", role: "assistant" }))}\n\n`));
    const { text } = await post("/v1/chat/completions", { ...chat, stream: true });
    expect(text).toContain("the upstream connection failed: the connection was closed unexpectedly"); // as without a stream
    expect(text).not.toMatch(RUNTIME);
  });

  test("/v1/messages, stream: the error event has a plain reason", async () => {
    fake.on(cutAfter(`data: ${JSON.stringify(chunk({ content: "Hel", role: "assistant" }))}\n\n`));
    const { text } = await post("/v1/messages", { ...messages, stream: true });
    expect(text).toContain("event: error");
    expect(text).not.toMatch(RUNTIME);
  });
});

test("no upstream listening: the reason in our words", async () => {
  const port = await closedPort();
  const down = startGateway(`http://127.0.0.1:${port}/v1`, { resilience: resilience({ maxRetries: 0 }) });
  try {
    const { status, text } = await post("/v1/messages", messages, down);
    expect(status).toBe(502);
    expect(JSON.parse(text).error.message).toBe("could not reach the upstream: the connection was refused");
  } finally {
    await down.stop();
  }
});

test("networkErrorText and publicMessage", () => {
  const reset = Object.assign(new TypeError("ECONNRESET: The socket connection was closed unexpectedly. For more information, pass `verbose: true` in the second argument to fetch()"), { code: "ECONNRESET" });
  expect(networkErrorText(reset)).toBe("the connection was closed unexpectedly");
  expect(networkErrorText(Object.assign(new Error("weird: thing"), { code: "EWHATEVER" }))).toBe("weird: thing");
  expect(publicMessage("X failed. For more information, pass `verbose: true` in the second argument to fetch()")).toBe("X failed.");
});
