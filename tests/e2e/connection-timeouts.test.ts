/**
 * Connections: an idle keep-alive connection is closed after the keep-alive time, while a
 * long wait for the upstream and a long stream — both longer than it — are never cut.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { completion, streamOf, textChunks } from "../helpers/fake-upstream";
import { startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream } from "../helpers/setup";

const fake = useFakeUpstream();
let gw: Gateway;
beforeAll(() => {
  gw = startGateway(fake.baseUrl, { keepAliveSeconds: 1 });
});
afterAll(() => gw.stop());

/** Sends `request` on a raw connection; resolves with what came back and whether the server closed it within `maxMs`. */
function exchange(request: string, maxMs: number, until?: (text: string) => boolean): Promise<{ text: string; closedByServer: boolean }> {
  const { port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    let text = "";
    let done = false;
    Bun.connect({
      hostname: "127.0.0.1",
      port: Number(port),
      socket: {
        data: (s, d) => {
          text += d.toString();
          if (until?.(text) && !done) {
            done = true;
            s.end();
            resolve({ text, closedByServer: false });
          }
        },
        close: () => {
          if (!done) (done = true), resolve({ text, closedByServer: true });
        },
        error: (_s, e) => reject(e),
        open(s) {
          s.write(request);
          setTimeout(() => {
            if (done) return;
            done = true;
            s.end();
            resolve({ text, closedByServer: false });
          }, maxMs);
        },
      },
    }).catch(reject);
  });
}

test("an idle keep-alive connection is closed by the server", async () => {
  const { text, closedByServer } = await exchange("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 8000);
  expect(text).toStartWith("HTTP/1.1 200");
  expect(closedByServer).toBe(true);
}, 15_000);

const ask = (stream: boolean) => {
  const body = JSON.stringify({ model: "grok-4", max_tokens: 5, stream, messages: [{ role: "user", content: "hi" }] });
  return `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
};

test("a non-stream answer that takes longer than the keep-alive time is delivered", async () => {
  fake.on(async () => {
    await Bun.sleep(3000); // three times the keep-alive time
    return Response.json(completion({ content: "late but here" }));
  });
  const { text } = await exchange(ask(false), 8000, (t) => t.includes("late but here"));
  expect(text).toStartWith("HTTP/1.1 200");
  expect(text).toContain("late but here");
}, 15_000);

test("a stream longer than the keep-alive time is not cut", async () => {
  fake.on(() => streamOf(textChunks("one two three four five six"), { delayMs: 700 }));
  const { text } = await exchange(ask(true), 10_000, (t) => t.includes("event: message_stop") || t.includes("event: error"));
  expect(text).toContain("event: message_stop");
  expect(text).not.toContain("event: error");
}, 15_000);

test("after a stream has ended, the idle connection is closed like any other", async () => {
  fake.on(() => streamOf(textChunks("short and done")));
  const { text, closedByServer } = await exchange(ask(true), 8000);
  expect(text).toContain("event: message_stop");
  expect(closedByServer).toBe(true);
}, 15_000);
