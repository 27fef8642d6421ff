/**
 * Receiving request bodies: a client that sends its body too slowly gets a 408 in the
 * Anthropic envelope and its connection back; a body over the limit is read and thrown
 * away up to a bound, so that clients still sending (Node's fetch, the SDK) can read
 * the 413 envelope instead of seeing a broken pipe; far past it, the 413 envelope goes
 * out at once (never Bun's bare 413).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { completion, streamOf, textChunks, within } from "../helpers/fake-upstream";
import { startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream } from "../helpers/setup";

const LIMIT = 256 * 1024;
const fake = useFakeUpstream();
let gw: Gateway;
beforeAll(() => {
  gw = startGateway(fake.baseUrl, { maxBodyBytes: LIMIT, bodyTimeoutMs: 400 });
});
afterAll(() => gw.stop());

/** A raw HTTP/1.1 exchange: the head at once, then the body in `pieces` every `everyMs`; resolves with all the server sent. */
function rawExchange(head: string, pieces: string[], everyMs: number): Promise<string> {
  const { port } = new URL(gw.url);
  return new Promise((resolve, reject) => {
    let got = "";
    let closed = false;
    Bun.connect({
      hostname: "127.0.0.1",
      port: Number(port),
      socket: {
        data: (_s, d) => void (got += d.toString()),
        close: () => ((closed = true), resolve(got)),
        error: (_s, e) => reject(e),
        async open(s) {
          s.write(head);
          for (const p of pieces) {
            if (closed) return;
            await Bun.sleep(everyMs);
            s.write(p);
          }
          await Bun.sleep(200);
          s.end();
        },
      },
    }).catch(reject);
  });
}

describe("slow bodies", () => {
  test("a body trickling in is answered 408 in the Anthropic envelope, and the gateway stays responsive", async () => {
    const body = JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    const head = `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    // 2 bytes every 100 ms: would take seconds; the gateway gives it 400 ms.
    const pieces = body.match(/.{1,2}/g)!;
    const slow = rawExchange(head, pieces, 100);
    expect((await fetch(gw.url + "/health")).status).toBe(200);
    const answer = await slow;
    expect(answer).toStartWith("HTTP/1.1 408");
    const json = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(json).toMatchObject({ type: "error", error: { type: "timeout_error" } });
    expect(json.error.message).toContain("not received within 0.4 s");
    expect(fake.requests).toHaveLength(0);
  });

  test("many slow uploads at once (scaled down from 1100): all answered 408, /health answers meanwhile", async () => {
    const body = JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "x".repeat(200) }] });
    const head = `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const pieces = body.match(/.{1,2}/g)!.slice(0, 30); // never the whole body
    const slow = Array.from({ length: 40 }, () => rawExchange(head, pieces, 100));
    expect((await fetch(gw.url + "/health")).status).toBe(200);
    const answers = await Promise.all(slow);
    expect(answers.filter((a) => a.startsWith("HTTP/1.1 408")).length).toBe(40);
    expect((await fetch(gw.url + "/health")).status).toBe(200);
  });

  test("a chunked body that stalls is answered 408 too", async () => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const answer = await rawExchange(head, ["1\r\n{\r\n", "1\r\n \r\n", "1\r\n \r\n", "1\r\n \r\n", "1\r\n \r\n", "1\r\n \r\n", "1\r\n \r\n"], 150);
    expect(answer).toStartWith("HTTP/1.1 408");
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).error.message).toContain("not received within");
  });

  test("the bound is on receiving the body only: a long wait for the upstream and a long stream are not cut", async () => {
    fake.on(async (r) => {
      await Bun.sleep(700); // longer than the 400 ms body timeout
      return r.body?.stream ? streamOf(textChunks("slow but complete answer here"), { delayMs: 150 }) : Response.json(completion({ content: "late" }));
    });
    try {
      const ask = { model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] };
      const res = await fetch(gw.url + "/v1/messages", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).content[0].text).toBe("late");
      const stream = await fetch(gw.url + "/v1/messages", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...ask, stream: true }),
      });
      const text = await stream.text();
      expect(text).toContain("event: message_stop");
      expect(text).not.toContain("event: error");
    } finally {
      fake.reset().on((r) => (r.body?.stream ? streamOf(textChunks("Hello from fake Grok!")) : Response.json(completion({ content: "Hello from fake Grok!" }))));
    }
  });

  test("a body that arrives in time is served", async () => {
    const body = JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    const head = `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const answer = await rawExchange(head, [body.slice(0, 10), body.slice(10)], 5);
    expect(answer).toStartWith("HTTP/1.1 200");
  });
});

describe("bodies over the limit", () => {
  test("Node's fetch reads the 413 envelope of a body somewhat over the limit (no EPIPE, no retry)", async () => {
    // Larger than what the loopback socket buffers take in: the client is still sending when the 413 is ready.
    const big = startGateway(fake.baseUrl, { maxBodyBytes: 8 * 1024 * 1024 });
    const script = `
      const body = JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "x".repeat(${14 * 1024 * 1024}) }] });
      fetch(process.argv[1] + "/v1/messages", { method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" }, body })
        .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.json() })))
        .catch((e) => console.log(JSON.stringify({ error: String(e.cause?.code ?? e) })));`;
    const proc = Bun.spawn(["node", "-e", script, big.url], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(proc.stdout).text();
    await proc.exited;
    await big.stop();
    const result = JSON.parse(out.trim());
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(413);
    expect(result.body).toMatchObject({ type: "error", error: { type: "request_too_large" } });
  });

  test("far past the limit, the 413 envelope goes out at once (not Bun's bare 413)", async () => {
    const head = `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${64 * LIMIT}\r\n\r\n`;
    const answer = await rawExchange(head, ["{"], 10);
    expect(answer).toStartWith("HTTP/1.1 413");
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).error.type).toBe("request_too_large");
    expect(await within(fetch(gw.url + "/health"), 2000)).toBe(true);
  });
});
