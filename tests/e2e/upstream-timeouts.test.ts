/**
 * Timeouts: connect, first byte, idle between chunks, total. Before the 200 they
 * are a 504 timeout_error; after it, `event: error` — and the upstream request is
 * closed either way (asserted on the fake's side).
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openBlackhole, type Blackhole } from "../helpers/blackhole";
import {
  chunk,
  completion,
  controlledStream,
  hang,
  sequence,
  sseResponse,
  sseText,
  textChunks,
  within,
} from "../helpers/fake-upstream";
import { parseSSE, resilience, startGateway, type Gateway } from "../helpers/gateway";
import { clientFor, useFakeUpstream, useGateway } from "../helpers/setup";

const request = { model: "grok-4", max_tokens: 10, messages: [{ role: "user" as const, content: "hi" }] };
const post = (gw: Gateway, body: unknown = request) =>
  fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("first byte, idle and total timeouts", () => {
  const fake = useFakeUpstream();
  const rig = useGateway({
    upstream: { baseUrl: fake.baseUrl, keys: ["xai-timeout-key-000"] },
    // Generous first-byte timeout: the tests below are about what happens after the headers.
    resilience: resilience({ maxRetries: 0, firstByteTimeoutMs: 10_000, idleTimeoutMs: 150, totalTimeoutMs: 10_000 }),
  }, fake);
  let client: Anthropic;
  beforeAll(() => {
    client = clientFor(rig.gw, "local");
  });

  test("no response headers in time: 504 timeout_error, and the upstream request is closed", async () => {
    const gw2 = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: ["xai-timeout-key-333"] },
      resilience: resilience({ maxRetries: 0, firstByteTimeoutMs: 150 }),
    });
    try {
      fake.on(hang);
      const res = await post(gw2);
      expect(res.status).toBe(504);
      const body = (await res.json()) as any;
      expect(body.error.type).toBe("timeout_error");
      expect(body.error.message).toContain("no response within");
      expect(await within(fake.last.closed, 1000)).toBe(true);
    } finally {
      await gw2.stop();
    }
  });

  test("a first-byte timeout is retried when retries are allowed", async () => {
    const gw2 = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: ["xai-timeout-key-111"] },
      resilience: resilience({ maxRetries: 1, firstByteTimeoutMs: 300 }),
    });
    try {
      fake.on(sequence(hang, () => Response.json(completion({ content: "second try" }))));
      const c = new Anthropic({ baseURL: gw2.url, apiKey: "local", maxRetries: 0 });
      const msg = await c.messages.create(request);
      expect(msg.content).toEqual([{ type: "text", text: "second try" }] as never);
      expect(fake.requests).toHaveLength(2);
      expect(fake.requests[0]!.aborted()).toBe(true);
    } finally {
      await gw2.stop();
    }
  });

  test("a stream that goes silent mid-way ends with event: error timeout_error, never message_stop", async () => {
    const s = controlledStream();
    fake.on(() => {
      s.push(chunk({ content: "Hello", role: "assistant" })); // then silence
      return s.response;
    });
    const res = await post(rig.gw, { ...request, stream: true });
    expect(res.status).toBe(200);
    const events = parseSSE(await res.text()); // ends when the gateway gives up on the silence
    const types = events.map((e) => e.event);
    expect(types).toContain("content_block_delta");
    expect(types).not.toContain("message_stop");
    expect(events.at(-1)).toMatchObject({ event: "error", data: { type: "error", error: { type: "timeout_error" } } });
    expect(await within(fake.last.closed, 1000)).toBe(true);
  });

  test("a stream that keeps talking outlives the idle timeout several times over", async () => {
    // 80 words, one every 5 ms: about 0.5 s in all (or more on a busy machine) against a 150 ms idle timeout.
    const words = Array.from({ length: 80 }, (_, i) => `w${i} `).join("");
    const pieces = sseText(textChunks(words)).split("\n\n").filter(Boolean).map((f) => new TextEncoder().encode(f + "\n\n"));
    fake.on(() => sseResponse(pieces, { delayMs: 5 }));
    const final = await client.messages.stream(request).finalMessage();
    expect(final.stop_reason).toBe("end_turn");
    expect(final.content).toEqual([{ type: "text", text: words }] as never);
  });

  test("the SDK surfaces a mid-stream timeout as an error, not a short message", async () => {
    const s = controlledStream();
    fake.on(() => {
      s.push(chunk({ content: "partial", role: "assistant" }));
      return s.response;
    });
    const stream = client.messages.stream({ ...request });
    const texts: string[] = [];
    stream.on("text", (t) => texts.push(t));
    const err = await stream.finalMessage().catch((e) => e);
    expect(texts).toEqual(["partial"]); // the 200 and the first words did arrive
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBeUndefined(); // an error event in the stream, not an HTTP status
    expect(String(err.message)).toContain("timeout_error");
  });

  test("a non-streaming body that stalls after the headers: 504 timeout_error", async () => {
    fake.on(() => {
      const text = JSON.stringify(completion({ content: "never finished" }));
      return sseResponse([new TextEncoder().encode(text.slice(0, 40))], { hang: true, status: 200 });
    });
    const res = await post(rig.gw);
    expect(res.status).toBe(504);
    expect(((await res.json()) as any).error.type).toBe("timeout_error");
    expect(await within(fake.last.closed, 1000)).toBe(true);
  });

  test("the total timeout ends a stream that keeps trickling", async () => {
    const gw2 = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: ["xai-timeout-key-222"] },
      resilience: resilience({ maxRetries: 0, idleTimeoutMs: 1000, totalTimeoutMs: 300 }),
    });
    try {
      // 200 words, one every 20 ms: never idle, but 4 s in all (the test stops long before).
      const words = Array.from({ length: 200 }, (_, i) => `w${i} `).join("");
      const pieces = sseText(textChunks(words)).split("\n\n").filter(Boolean).map((f) => new TextEncoder().encode(f + "\n\n"));
      fake.on(() => sseResponse(pieces, { delayMs: 20 }));
      const res = await post(gw2, { ...request, stream: true });
      const events = parseSSE(await res.text());
      expect(events.map((e) => e.event)).not.toContain("message_stop");
      expect(events.at(-1)).toMatchObject({ event: "error", data: { error: { type: "timeout_error" } } });
      expect(String(events.at(-1)!.data.error.message)).toContain("total timeout");
      expect(await within(fake.last.closed, 1000)).toBe(true);
    } finally {
      await gw2.stop();
    }
  });
});

describe("connect timeout", () => {
  let hole: Blackhole | null;
  const backup = useFakeUpstream();
  beforeAll(async () => {
    hole = await openBlackhole();
  });
  afterAll(() => hole?.close());

  test("a host that never completes the TCP handshake: 504 long before the first-byte timeout", async () => {
    if (!hole) return console.warn("skipped: no black-hole port on this platform");
    const base = `http://127.0.0.1:${hole.port}/v1`;
    const gw = startGateway(base, {
      upstream: { baseUrl: base, keys: ["xai-connect-key-000"] },
      // The first-byte timeout is far beyond the test's own time limit: only the connect timeout can answer.
      resilience: resilience({ maxRetries: 0, connectTimeoutMs: 150, firstByteTimeoutMs: 600_000 }),
    });
    try {
      const res = await post(gw);
      expect(res.status).toBe(504);
      const body = (await res.json()) as any;
      expect(body.error.type).toBe("timeout_error");
      expect(body.error.message).toContain("could not connect");
    } finally {
      await gw.stop();
    }
  });

  test("an unreachable primary fails over to the fallback", async () => {
    if (!hole) return console.warn("skipped: no black-hole port on this platform");
    const base = `http://127.0.0.1:${hole.port}/v1`;
    backup.reset().on(() => Response.json(completion({ content: "from the fallback" })));
    const gw = startGateway(base, {
      upstream: { baseUrl: base, keys: ["xai-connect-key-111"] },
      resilience: resilience({
        maxRetries: 1,
        connectTimeoutMs: 100,
        firstByteTimeoutMs: 600_000,
        fallbacks: [{ baseUrl: backup.baseUrl }],
      }),
    });
    try {
      const c = new Anthropic({ baseURL: gw.url, apiKey: "local", maxRetries: 0 });
      const msg = await c.messages.create(request);
      expect(msg.content).toEqual([{ type: "text", text: "from the fallback" }] as never);
      // The fallback without keys of its own uses the primary's keys.
      expect(backup.last.headers.get("authorization")).toBe("Bearer xai-connect-key-111");
    } finally {
      await gw.stop();
    }
  });
});
