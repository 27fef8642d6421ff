/** Every error status in the Anthropic envelope, with request ids, and lenient acceptance of what clients send. */
import Anthropic from "@anthropic-ai/sdk";
import { beforeEach, describe, expect, test } from "bun:test";
import { completion, xaiError } from "../helpers/fake-upstream";
import { startGateway } from "../helpers/gateway";
import { useFakeUpstream, useGateway } from "../helpers/setup";

const fake = useFakeUpstream();
const rig = useGateway({ maxBodyBytes: 64 * 1024 }, fake);
beforeEach(() => {
  fake.reset().on(() => Response.json(completion({ content: "ok" })));
});

const valid = { model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] };
async function send(body: any, path = "/v1/messages", init: RequestInit = {}) {
  const res = await fetch(rig.gw.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" || body instanceof Uint8Array || body instanceof ReadableStream ? body : JSON.stringify(body),
    ...init,
  });
  const text = await res.text();
  return { res, status: res.status, json: text ? JSON.parse(text) : null };
}

function expectEnvelope(json: any, type: string) {
  expect(json.type).toBe("error");
  expect(json.error.type).toBe(type);
  expect(typeof json.error.message).toBe("string");
  expect(json.error.message.length).toBeGreaterThan(0);
  expect(json.request_id).toMatch(/^req_/);
}

describe("400 invalid_request_error names the field in plain words", () => {
  test.each([
    ["not JSON", "{nope", /not valid JSON/],
    ["empty body", "", /empty/],
    ["a JSON array", "[1,2]", /must be a JSON object/],
    ["a JSON string", '"hello"', /must be a JSON object/],
    ["missing max_tokens", { model: "grok-4", messages: [{ role: "user", content: "hi" }] }, /^max_tokens: Field required$/],
    ["missing model", { max_tokens: 5, messages: [{ role: "user", content: "hi" }] }, /^model: Field required$/],
    ["missing messages", { model: "grok-4", max_tokens: 5 }, /^messages: Field required$/],
    ["empty messages", { ...valid, messages: [] }, /^messages: must contain at least 1 item$/],
    ["max_tokens as a string", { ...valid, max_tokens: "5" }, /^max_tokens: expected an integer$/],
    ["negative max_tokens", { ...valid, max_tokens: -3 }, /^max_tokens: must be at least 1 \(got -3\)$/],
    ["unknown role", { ...valid, messages: [{ role: "robot", content: "hi" }] }, /^messages\[0\]\.role: expected one of "user", "assistant", "system"$/],
    ["text not a string", { ...valid, messages: [{ role: "user", content: [{ type: "text", text: 5 }] }] }, /^messages\[0\]\.content\[0\]\.text: expected a string$/],
    [
      "image without data",
      { ...valid, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png" } }] }] },
      /^messages\[0\]\.content\[0\]\.source/,
    ],
    ["temperature too high", { ...valid, temperature: 7 }, /^temperature: must be at most 2/],
    ["stream not boolean", { ...valid, stream: "yes" }, /^stream: expected true or false$/],
  ])("%s", async (_label, body, re) => {
    const { status, json, res } = await send(body as object);
    expect(status).toBe(400);
    expectEnvelope(json, "invalid_request_error");
    expect(json.error.message).toMatch(re);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(fake.requests).toHaveLength(0);
  });

  test("invalid UTF-8 is rejected", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"model":"grok-4","max_tokens":5,"messages":[{"role":"user","content":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}]}')]);
    const { status, json } = await send(bytes);
    expect(status).toBe(400);
    expect(json.error.message).toMatch(/UTF-8/);
  });
});

describe("lenient where clients are creative", () => {
  test("unknown fields, top_k, cache_control, anthropic-beta and ?beta=true are accepted", async () => {
    const { status, json } = await send(
      {
        ...valid,
        top_k: 40,
        some_future_field: { a: 1 },
        context_management: { edits: [] },
        system: [{ type: "text", text: "sys", cache_control: { type: "ephemeral" } }],
        messages: [{ role: "user", content: [{ type: "text", text: "hi", cache_control: { type: "ephemeral" }, citations: null }] }],
      },
      "/v1/messages?beta=true",
      { headers: { "content-type": "application/json", "anthropic-version": "2026-10-21", "anthropic-beta": "foo-2025-01-01,bar" } },
    );
    expect(status).toBe(200);
    expect(json.content).toEqual([{ type: "text", text: "ok" }]);
    expect(fake.last.body.top_k).toBeUndefined();
    expect(fake.last.body.some_future_field).toBeUndefined();
    expect(fake.last.body.messages).toEqual([
      { role: "system", content: "sys" },
      { role: "user", content: "hi" },
    ]);
  });

  test("consecutive same-role turns are merged", async () => {
    await send({
      ...valid,
      messages: [
        { role: "user", content: "one" },
        { role: "user", content: [{ type: "text", text: "two" }] },
        { role: "assistant", content: "three" },
        { role: "assistant", content: "four" },
        { role: "user", content: "five" },
      ],
    });
    expect(fake.last.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "one" }, { type: "text", text: "two" }] },
      { role: "assistant", content: "three\n\nfour" },
      { role: "user", content: "five" },
    ]);
  });

  test("metadata.user_id → user, temperature and top_p pass, url images pass", async () => {
    await send({
      ...valid,
      temperature: 0.3,
      top_p: 0.9,
      metadata: { user_id: "user_abc" },
      messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://example.com/cat.png" } }] }],
    });
    expect(fake.last.body).toMatchObject({ temperature: 0.3, top_p: 0.9, user: "user_abc" });
    expect(fake.last.body.messages[0].content).toEqual([{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }]);
  });
});

describe("404, 413 and routes", () => {
  test("unknown route → 404 not_found_error", async () => {
    const res = await fetch(`${rig.gw.url}/v1/nothing-here`);
    expect(res.status).toBe(404);
    expectEnvelope(await res.json(), "not_found_error");
    expect(res.headers.get("request-id")).toMatch(/^req_/);
  });

  test("body over the limit (content-length) → 413 request_too_large", async () => {
    const big = JSON.stringify({ ...valid, messages: [{ role: "user", content: "x".repeat(70 * 1024) }] });
    const { status, json } = await send(big);
    expect(status).toBe(413);
    expectEnvelope(json, "request_too_large");
    expect(fake.requests).toHaveLength(0);
  });

  test("body over the limit (chunked, no content-length) → 413", async () => {
    const piece = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 8) c.enqueue(piece);
        else c.close();
      },
    });
    const { status, json } = await send(body, "/v1/messages", { duplex: "half" } as RequestInit);
    expect(status).toBe(413);
    expectEnvelope(json, "request_too_large");
  });

  test("/v1/v1/messages is the same endpoint", async () => {
    const { status, json } = await send(valid, "/v1/v1/messages");
    expect(status).toBe(200);
    expect(json.type).toBe("message");
  });

  test("GET /health and HEAD /", async () => {
    const h = await fetch(`${rig.gw.url}/health`);
    expect(h.status).toBe(200);
    const body = (await h.json()) as { status: string; version: string; uptime_s: number };
    expect(body.status).toBe("ok");
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof body.uptime_s).toBe("number");
    const head = await fetch(`${rig.gw.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("request-id")).toMatch(/^req_/);
  });
});

describe("upstream errors, mapped by status with the upstream's message kept", () => {
  test.each([
    [xaiError(400, "Invalid request: temperature out of range"), 400, "invalid_request_error", "temperature out of range"],
    // The gateway's own (pooled) key was refused: the operator's problem, not the client's key.
    [xaiError(400, "Incorrect API key provided: xa***. You can obtain an API key from https://console.x.ai."), 502, "api_error", "Incorrect API key"],
    [Response.json({ error: { message: "Bad key", type: "invalid_request_error" } }, { status: 401 }), 502, "api_error", "Bad key"],
    [xaiError(403, "Your team has no credits"), 403, "permission_error", "no credits"],
    [xaiError(422, "Failed to deserialize the JSON body"), 400, "invalid_request_error", "deserialize"],
    [xaiError(500, "Internal server error"), 529, "overloaded_error", "Internal server error"],
    [xaiError(503, "Service temporarily unavailable"), 529, "overloaded_error", "unavailable"],
    [new Response("upstream timed out", { status: 504 }), 504, "timeout_error", "upstream timed out"],
  ])("upstream %#", async (upstream, status, type, text) => {
    fake.on(() => (upstream as any).clone());
    const r = await send(valid);
    expect(r.status).toBe(status);
    expectEnvelope(r.json, type);
    expect(r.json.error.message).toContain(text);
  });

  test("429 keeps retry-after (longer than the gateway may wait itself)", async () => {
    // A gateway of its own: its only key rests for those 70 s afterwards.
    const limited = startGateway(fake.baseUrl);
    try {
      fake.on(() => Response.json({ error: "Rate limit reached" }, { status: 429, headers: { "retry-after": "70" } }));
      const res = await fetch(`${limited.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(valid) });
      expect(res.status).toBe(429);
      const json = (await res.json()) as any;
      expectEnvelope(json, "rate_limit_error");
      expect(json.error.message).toContain("Rate limit reached");
      expect(res.headers.get("retry-after")).toBe("70");
    } finally {
      await limited.stop();
    }
  });

  test("the client's own forwarded key refused upstream → 401 authentication_error", async () => {
    const forwarding = startGateway(fake.baseUrl, { upstream: { baseUrl: fake.baseUrl, keys: [] } });
    try {
      fake.on(() => xaiError(400, "Incorrect API key provided: xa***. You can obtain an API key from https://console.x.ai."));
      const res = await fetch(`${forwarding.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "xai-wrong" },
        body: JSON.stringify(valid),
      });
      expect(res.status).toBe(401);
      const json = (await res.json()) as any;
      expectEnvelope(json, "authentication_error");
      expect(json.error.message).toContain("Incorrect API key");
      expect(res.headers.get("x-should-retry")).toBe("false");
    } finally {
      await forwarding.stop();
    }
  });

  test("404 for a model explains the mapping and points at the model map", async () => {
    fake.on(() => xaiError(404, "The model grok-4.3 does not exist or your team does not have access to it."));
    const r = await send({ ...valid, model: "claude-3-5-sonnet-latest" });
    expect(r.status).toBe(404);
    expectEnvelope(r.json, "not_found_error");
    expect(r.json.error.message).toContain("does not exist");
    expect(r.json.error.message).toContain('"grok-4.3" (mapped from "claude-3-5-sonnet-latest")');
    expect(r.json.error.message).toContain("model_map");
  });

  test("the SDK raises the matching error classes", async () => {
    const client = new Anthropic({ baseURL: rig.gw.url, apiKey: "k", maxRetries: 0 });
    const call = () => client.messages.create(valid as Anthropic.MessageCreateParamsNonStreaming).catch((e) => e);
    fake.on(() => xaiError(429, "slow down"));
    expect(await call()).toBeInstanceOf(Anthropic.RateLimitError);
    fake.on(() => xaiError(400, "bad"));
    expect(await call()).toBeInstanceOf(Anthropic.BadRequestError);
    fake.on(() => xaiError(503, "busy"));
    const overloaded = await call();
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect(overloaded.status).toBe(529);
  });

  test("unreachable upstream → 502 api_error envelope", async () => {
    const dead = startGateway("http://127.0.0.1:1/v1");
    try {
      const res = await fetch(`${dead.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(valid) });
      expect(res.status).toBe(502);
      const json = (await res.json()) as any;
      expectEnvelope(json, "api_error");
      expect(json.error.message).toContain("could not reach the upstream");
    } finally {
      await dead.stop();
    }
  });

  test("an upstream non-stream body that is not JSON → 502", async () => {
    fake.on(() => new Response("<html>oops</html>", { status: 200, headers: { "content-type": "text/html" } }));
    const r = await send(valid);
    expect(r.status).toBe(502);
    expectEnvelope(r.json, "api_error");
  });
});
