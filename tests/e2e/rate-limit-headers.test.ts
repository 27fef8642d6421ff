/**
 * Rate-limit headers on every answer of the model routes: a virtual key's own rpm / tpm as they
 * stand (Anthropic's `anthropic-ratelimit-*` on /v1/messages and count_tokens, OpenAI's `x-ratelimit-*` on the
 * OpenAI faces), JSON, streams and errors alike; a 429 with retry-after (and retry-after-ms);
 * and where no limit of the key applies, xAI's own figures passed on.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterEach, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config";
import { completion, streamOf, textChunks, tokenizeAnswer, usage, type Recorded } from "../helpers/fake-upstream";
import { fixtureJson, GENERATE_TEXT, replay, STREAM_TEXT } from "../helpers/fake-responses-replay";
import type { Gateway } from "../helpers/gateway";
import { useFakeUpstream } from "../helpers/setup";
import { createKey, teamsGateway, tempDir, UPSTREAM_KEY } from "../helpers/teams";

const STATIC_KEY = "static-client-key-0123456789abcdef";
const fake = useFakeUpstream();
const gateways: Gateway[] = [];
const dirs: Array<() => void> = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.stop();
  for (const c of dirs.splice(0)) c();
});

/** xAI's own figures, as it sends them (no reset). */
const XAI_LIMITS = {
  "x-ratelimit-limit-requests": "800",
  "x-ratelimit-remaining-requests": "799",
  "x-ratelimit-limit-tokens": "4000000",
  "x-ratelimit-remaining-tokens": "3999000",
};
function withXaiLimits(res: Response): Response {
  for (const [k, v] of Object.entries(XAI_LIMITS)) res.headers.set(k, v);
  return res;
}
const chatAnswer = (req: Recorded) =>
  withXaiLimits(
    req.body?.stream
      ? streamOf(textChunks("Hello", { usage: usage(20, 7) }))
      : req.body?.messages?.[0]?.content === "fail"
        ? Response.json({ code: "bad", error: "the upstream refuses" }, { status: 400 })
        : Response.json(completion({ content: "Hello" }, "stop", usage(20, 7))),
  );

async function gateway(overrides: Partial<Config> = {}): Promise<Gateway> {
  const t = tempDir();
  dirs.push(t.cleanup);
  const g = await teamsGateway(fake.baseUrl, `sqlite://${t.dir}/ledger.db`, { clientKeys: [STATIC_KEY], ...overrides });
  gateways.push(g);
  return g;
}

const msg = (g: Gateway, key: string, body: Record<string, unknown> = {}) =>
  fetch(`${g.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": key, "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "grok-3-mini", max_tokens: 16, messages: [{ role: "user", content: "Hi" }], ...body }),
  });
const chat = (g: Gateway, key: string, body: Record<string, unknown> = {}) =>
  fetch(`${g.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }], ...body }),
  });

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
/** The Anthropic headers of a response, read whole (a stream's body too, so the request ends). */
async function anthropicHeaders(res: Response) {
  await res.text();
  const h = (n: string) => res.headers.get(`anthropic-ratelimit-${n}`);
  return {
    status: res.status,
    requests: [h("requests-limit"), h("requests-remaining")],
    tokens: [h("tokens-limit"), h("tokens-remaining")],
    resets: [h("requests-reset"), h("tokens-reset")],
  };
}
async function openaiHeaders(res: Response) {
  await res.text();
  const h = (n: string) => res.headers.get(`x-ratelimit-${n}`);
  return {
    status: res.status,
    requests: [h("limit-requests"), h("remaining-requests")],
    tokens: [h("limit-tokens"), h("remaining-tokens")],
    resets: [h("reset-requests"), h("reset-tokens")],
  };
}
const within = (iso: string | null) => {
  const ms = Date.parse(iso ?? "") - Date.now();
  return ms > -1000 && ms <= 61_000;
};

describe("a virtual key's own limits", () => {
  test("/v1/messages, JSON and stream: anthropic-ratelimit-requests-* and -tokens-*, the reset in RFC 3339", async () => {
    fake.on(chatAnswer);
    const g = await gateway();
    const k = await createKey(g.url, { name: "metered", rpm: 10, tpm: 100_000 });
    const first = await anthropicHeaders(await msg(g, k.key));
    expect(first.status).toBe(200);
    expect(first.requests).toEqual(["10", "9"]);
    // Before it, nothing used; its input estimate is held while it runs, then its 27 real tokens count.
    expect(first.tokens[0]).toBe("100000");
    expect(Number(first.tokens[1])).toBeLessThan(100_000);
    for (const r of first.resets) {
      expect(r).toMatch(RFC3339);
      expect(within(r)).toBe(true);
    }
    const streamed = await anthropicHeaders(await msg(g, k.key, { stream: true }));
    expect(streamed.status).toBe(200);
    expect(streamed.requests).toEqual(["10", "8"]);
    expect(Number(streamed.tokens[1])).toBeLessThanOrEqual(100_000 - 27);
    expect(streamed.resets[0]).toMatch(RFC3339);
    // The key's figures, not xAI's.
    expect(streamed.tokens[0]).toBe("100000");
  });

  test("count_tokens shows the key's limits as they stand, and counts against none", async () => {
    fake.on((req) => (req.path.endsWith("/tokenize-text") ? Response.json(tokenizeAnswer(9)) : chatAnswer(req)));
    const g = await gateway();
    const k = await createKey(g.url, { name: "counter", rpm: 10, tpm: 100_000 });
    const count = () =>
      fetch(`${g.url}/v1/messages/count_tokens`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": k.key, "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }] }),
      });
    const before = await anthropicHeaders(await count());
    expect(before.status).toBe(200);
    expect(before.requests).toEqual(["10", "10"]);
    expect(before.tokens).toEqual(["100000", "100000"]);
    expect(before.resets[0]).toMatch(RFC3339);
    await anthropicHeaders(await msg(g, k.key));
    const after = await anthropicHeaders(await count());
    expect(after.requests).toEqual(["10", "9"]);
    expect(after.tokens).toEqual(["100000", String(100_000 - 27)]);
  });

  test("the OpenAI faces: x-ratelimit-*-requests and -tokens, the reset as a duration", async () => {
    fake.on(chatAnswer);
    const g = await gateway();
    const k = await createKey(g.url, { name: "metered", rpm: 10, tpm: 100_000 });
    const json = await openaiHeaders(await chat(g, k.key));
    expect(json.status).toBe(200);
    expect(json.requests).toEqual(["10", "9"]);
    expect(json.tokens[0]).toBe("100000");
    for (const r of json.resets) expect(r).toMatch(/^(\d|[1-5]\d|60)s$|^1m0s$/);
    const streamed = await openaiHeaders(await chat(g, k.key, { stream: true, stream_options: { include_usage: true } }));
    expect(streamed.requests).toEqual(["10", "8"]);
    expect(streamed.tokens[0]).toBe("100000");
    // The SDK sees them too.
    const { response } = await new OpenAI({ baseURL: `${g.url}/v1`, apiKey: k.key, maxRetries: 0 }).chat.completions
      .create({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("7");
  });

  test("/v1/responses, JSON and stream", async () => {
    fake.on((req) => withXaiLimits(req.body?.stream ? replay(STREAM_TEXT) : Response.json(fixtureJson(GENERATE_TEXT))));
    const g = await gateway({ upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY], api: "responses" } });
    const k = await createKey(g.url, { name: "metered", rpm: 10, tpm: 100_000 });
    const post = (stream: boolean) =>
      fetch(`${g.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${k.key}` },
        body: JSON.stringify({ model: "grok-4.3", input: "Hi", stream }),
      });
    expect((await openaiHeaders(await post(false))).requests).toEqual(["10", "9"]);
    const streamed = await openaiHeaders(await post(true));
    expect(streamed.status).toBe(200);
    expect(streamed.requests).toEqual(["10", "8"]);
    expect(streamed.tokens[0]).toBe("100000");
  });

  test("over the limit: 429 with retry-after and retry-after-ms, nothing remaining; errors after admission carry them too", async () => {
    fake.on(chatAnswer);
    const g = await gateway();
    const k = await createKey(g.url, { name: "scarce", rpm: 2 });
    const failed = await msg(g, k.key, { messages: [{ role: "user", content: "fail" }] });
    expect(failed.status).toBe(400);
    expect((await anthropicHeaders(failed)).requests).toEqual(["2", "1"]);
    expect((await anthropicHeaders(await msg(g, k.key))).requests).toEqual(["2", "0"]);
    const limited = await msg(g, k.key);
    expect(limited.status).toBe(429);
    const after = Number(limited.headers.get("retry-after"));
    expect(after).toBeGreaterThanOrEqual(1);
    expect(after).toBeLessThanOrEqual(60);
    const afterMs = Number(limited.headers.get("retry-after-ms"));
    expect(afterMs).toBeGreaterThan((after - 1) * 1000);
    expect(afterMs).toBeLessThanOrEqual(after * 1000);
    const h = await anthropicHeaders(limited);
    expect(h.requests).toEqual(["2", "0"]);
    expect(h.resets[0]).toMatch(RFC3339);
    // No tpm on this key, and the 429 never reached xAI: no tokens figures.
    expect(h.tokens).toEqual([null, null]);
    const oe = await chat(g, k.key);
    expect(oe.status).toBe(429);
    expect(oe.headers.get("retry-after")).toBeTruthy();
    expect((await openaiHeaders(oe)).requests).toEqual(["2", "0"]);
    // The SDK's error has them.
    const e = await new Anthropic({ baseURL: g.url, apiKey: k.key, maxRetries: 0 }).messages
      .create({ model: "grok-3-mini", max_tokens: 16, messages: [{ role: "user", content: "Hi" }] })
      .then(
        () => undefined,
        (err) => err,
      );
    expect(e).toBeInstanceOf(Anthropic.RateLimitError);
    expect(e.headers.get("anthropic-ratelimit-requests-remaining")).toBe("0");
  });
});

describe("where no limit of the key applies: xAI's own figures", () => {
  test("a static key: xAI's x-ratelimit-* under Anthropic's names on /v1/messages, as they came on the OpenAI face", async () => {
    fake.on(chatAnswer);
    const g = await gateway();
    const m = await anthropicHeaders(await msg(g, STATIC_KEY));
    expect(m.requests).toEqual(["800", "799"]);
    expect(m.tokens).toEqual(["4000000", "3999000"]);
    expect(m.resets).toEqual([null, null]); // xAI sends none
    const s = await anthropicHeaders(await msg(g, STATIC_KEY, { stream: true }));
    expect(s.requests).toEqual(["800", "799"]);
    const c = await openaiHeaders(await chat(g, STATIC_KEY));
    expect(c.requests).toEqual(["800", "799"]);
    expect(c.tokens).toEqual(["4000000", "3999000"]);
    const cs = await openaiHeaders(await chat(g, STATIC_KEY, { stream: true }));
    expect(cs.tokens).toEqual(["4000000", "3999000"]);
  });

  test("a virtual key with rpm only: its requests figures, xAI's tokens figures", async () => {
    fake.on(chatAnswer);
    const g = await gateway();
    const k = await createKey(g.url, { name: "half", rpm: 50 });
    const h = await anthropicHeaders(await msg(g, k.key));
    expect(h.requests).toEqual(["50", "49"]);
    expect(h.tokens).toEqual(["4000000", "3999000"]);
    expect(h.resets[0]).toMatch(RFC3339);
    expect(h.resets[1]).toBeNull();
    // Nothing from the upstream, no limit on the key: no headers.
    fake.on(() => Response.json(completion({ content: "Hello" }, "stop", usage(20, 7))));
    const plain = await createKey(g.url, { name: "plain" });
    expect(await anthropicHeaders(await msg(g, plain.key))).toMatchObject({ status: 200, requests: [null, null], tokens: [null, null] });
  });
});
