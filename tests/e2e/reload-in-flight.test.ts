/**
 * A reload changes the settings of the requests that come after it, never those of a request
 * already in flight: a stream that started before the reload keeps scrubbing the keys it started
 * with, and a body being received keeps the time it was given.
 */
import { describe, expect, test } from "bun:test";
import { chunk, controlledStream } from "../helpers/fake-upstream";
import { resilience, testConfig } from "../helpers/gateway";
import { useFakeUpstream, useGateways } from "../helpers/setup";

const fake = useFakeUpstream();
const start = useGateways(fake);

const OLD_KEY = "xai-old-upstream-key-0123456789";
const NEW_KEY = "xai-new-upstream-key-9876543210";

describe("a reload and the requests in flight", () => {
  test("a stream started before a reload still has the old key scrubbed from what the upstream sends", async () => {
    const gw = start({ upstream: { baseUrl: fake.baseUrl, keys: [OLD_KEY] }, resilience: resilience() });
    const s = controlledStream();
    fake.on(() => {
      s.push(chunk({ content: "first ", role: "assistant" }));
      return s.response;
    });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "grok-4.3", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = dec.decode((await reader.read()).value);
    // The operator rotates the key while the stream is open.
    gw.reload(testConfig(fake.baseUrl, { ...gw.config, upstream: { baseUrl: fake.baseUrl, keys: [NEW_KEY] } }));
    s.push(chunk({ content: `the upstream quotes its credential: ${OLD_KEY}` }));
    s.push(chunk({}, "stop"));
    s.end();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
    expect(text).toContain("the upstream quotes its credential");
    expect(text).not.toContain(OLD_KEY);
    // A request after the reload uses the new key.
    fake.on(() => Response.json({ id: "x", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }] }));
    await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "grok-4.3", messages: [{ role: "user", content: "hi" }] }) });
    expect(fake.last.headers.get("authorization")).toBe(`Bearer ${NEW_KEY}`);
  });

  test("a body being received when a reload shortens body_timeout keeps the time it was given", async () => {
    const gw = start({ bodyTimeoutMs: 3000, resilience: resilience() });
    fake.on(() => Response.json({ id: "x", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }] }));
    const body = JSON.stringify({ model: "grok-4.3", messages: [{ role: "user", content: "hi" }] });
    let send!: (c: ReadableStreamDefaultController<Uint8Array>) => void;
    const slow = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(body.slice(0, 10)));
        send = (ctl) => {
          ctl.enqueue(new TextEncoder().encode(body.slice(10)));
          ctl.close();
        };
        setTimeout(() => send(c), 600);
      },
    });
    const pending = fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: slow, duplex: "half" } as RequestInit);
    await Bun.sleep(100);
    gw.reload(testConfig(fake.baseUrl, { ...gw.config, bodyTimeoutMs: 200 }));
    const res = await pending;
    expect(res.status).toBe(200);
  });
});
