/**
 * Retries, status mapping and fallbacks, through the real server with the
 * official SDK (its own retries off, so what we see is the gateway's doing).
 */
import Anthropic from "@anthropic-ai/sdk";
import { beforeAll, describe, expect, test } from "bun:test";
import { backoffMs } from "../../src/upstream/backoff";
import { parseRetryAfter } from "../../src/upstream/errors";
import { closedPort, completion, sequence, streamOf, textChunks, xaiError } from "../helpers/fake-upstream";
import { logText, resilience, startGateway } from "../helpers/gateway";
import { clientFor, useFakeUpstream, useGateway } from "../helpers/setup";

const request = { model: "grok-4", max_tokens: 10, messages: [{ role: "user" as const, content: "hi" }] };
const ok = (text = "served") => Response.json(completion({ content: text }));
const status = (code: number, message = `upstream says ${code}`, headers: Record<string, string> = {}) =>
  Response.json({ code: "x", error: message }, { status: code, headers });

describe("backoff and retry-after", () => {
  test("backoff doubles, stays within [cap/2, cap] and under the maximum", () => {
    expect(backoffMs(0, 100, 1000, () => 0)).toBe(50);
    expect(backoffMs(0, 100, 1000, () => 1)).toBe(100);
    expect(backoffMs(3, 100, 1000, () => 1)).toBe(800);
    expect(backoffMs(4, 100, 1000, () => 1)).toBe(1000);
    expect(backoffMs(50, 100, 1000, () => 0.5)).toBe(750);
  });

  test("retry-after-ms wins over retry-after; seconds and HTTP dates are read", () => {
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "250", "retry-after": "9" }))).toBe(250);
    expect(parseRetryAfter(new Headers({ "retry-after": "2" }))).toBe(2000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }), now)).toBe(5000);
    expect(parseRetryAfter(new Headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(parseRetryAfter(new Headers())).toBeUndefined();
  });
});

describe("retries and status mapping", () => {
  const fake = useFakeUpstream();
  const rig = useGateway({
    upstream: { baseUrl: fake.baseUrl, keys: ["xai-only-key-000000"] },
    resilience: resilience({ maxRetries: 2, retryBudgetMs: 2000 }),
  }, fake);
  let client: Anthropic;
  beforeAll(() => {
    client = clientFor(rig.gw, "local");
  });

  test("a 500 is retried, then served", async () => {
    fake.on(sequence(() => status(500), () => ok("after a 500")));
    const msg = await client.messages.create(request);
    expect(msg.content).toEqual([{ type: "text", text: "after a 500" }] as never);
    expect(fake.requests).toHaveLength(2);
  });

  test("a 429 with retry-after-ms is honoured, then served", async () => {
    fake.on(sequence(() => status(429, "slow down", { "retry-after-ms": "20" }), () => ok("after a 429")));
    const msg = await client.messages.create(request);
    expect(msg.content).toEqual([{ type: "text", text: "after a 429" }] as never);
    expect(fake.requests).toHaveLength(2);
  });

  test("a retry-after beyond the budget is not waited out: the client gets the 429 and the retry-after", async () => {
    // Its own gateway: the key rests for 60 s afterwards.
    const own = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: ["xai-resting-key-0000"] },
      resilience: resilience({ maxRetries: 2, retryBudgetMs: 2000 }),
    });
    try {
      fake.on(() => status(429, "Rate limit exceeded", { "retry-after": "60" }));
      const c = new Anthropic({ baseURL: own.url, apiKey: "local", maxRetries: 0 });
      const err = await c.messages.create(request).catch((e) => e);
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect(err.headers.get("retry-after")).toBe("60");
      expect(err.error.error).toEqual({ type: "rate_limit_error", message: "Rate limit exceeded" });
      expect(fake.requests).toHaveLength(1);
      // The resting key is not tried again until its retry-after is over.
      const again = await c.messages.create(request).catch((e) => e);
      expect(again).toBeInstanceOf(Anthropic.RateLimitError);
      expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(50);
      expect(fake.requests).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });

  test("408 and 409 are retried", async () => {
    fake.on(sequence(() => status(408), () => status(409), () => ok("third time")));
    const msg = await client.messages.create(request);
    expect(msg.content).toEqual([{ type: "text", text: "third time" }] as never);
    expect(fake.requests).toHaveLength(3);
  });

  test("a persistent 503 ends in a 529 overloaded_error envelope after the retries", async () => {
    fake.on(() => status(503, "The service is currently unavailable"));
    const res = await fetch(`${rig.gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
    expect(res.status).toBe(529);
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    const body = (await res.json()) as any;
    expect(body).toEqual({
      type: "error",
      error: { type: "overloaded_error", message: "The service is currently unavailable" },
      request_id: res.headers.get("request-id"),
    });
    expect(fake.requests).toHaveLength(3); // 1 + maxRetries
  });

  test("the SDK sees a 529 as overloaded (and would retry it itself)", async () => {
    fake.on(() => status(502, "Bad gateway upstream"));
    const err = await client.messages.create(request).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(529);
    expect(err.error.error.type).toBe("overloaded_error");
    expect(err.headers.get("x-should-retry")).toBeNull();
  });

  test("an upstream 400 keeps its message, is not retried, and tells clients not to retry", async () => {
    fake.on(() => xaiError(400, "This model's maximum prompt length is 131072 but the request contains 200000 tokens."));
    const err = await client.messages.create(request).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.message).toContain("maximum prompt length is 131072");
    expect(err.headers.get("x-should-retry")).toBe("false");
    expect(fake.requests).toHaveLength(1);
  });

  test("an upstream 404 for a model says so plainly, and is not retried", async () => {
    fake.on(() => xaiError(404, "The model grok-2-1212 does not exist or your team does not have access to it."));
    const err = await client.messages.create({ ...request, model: "grok-2-1212" }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.message).toContain("does not exist");
    expect(err.message).toContain("model_map");
    expect(fake.requests).toHaveLength(1);
  });

  test("a stream request is retried before anything reaches the client", async () => {
    fake.on(sequence(() => status(503), () => streamOf(textChunks("streamed after retry"))));
    const final = await client.messages.stream(request).finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "streamed after retry" }] as never);
    expect(fake.requests).toHaveLength(2);
  });
});

describe("unreachable upstream", () => {
  test("connection refused: a clean 502 api_error envelope after the retries", async () => {
    const port = await closedPort();
    const base = `http://127.0.0.1:${port}/v1`;
    const gw = startGateway(base, { upstream: { baseUrl: base, keys: ["xai-k-000000000"] }, resilience: resilience({ maxRetries: 1 }) });
    try {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      expect(res.status).toBe(502);
      const body = (await res.json()) as any;
      expect(body.type).toBe("error");
      expect(body.error.type).toBe("api_error");
      expect(body.error.message).toContain("could not reach the upstream");
      // The server is alive afterwards.
      expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});

describe("fallbacks", () => {
  const primary = useFakeUpstream();
  const backup = useFakeUpstream();
  const rig = useGateway({
    upstream: { baseUrl: primary.baseUrl, keys: ["xai-primary-key-0000"] },
    resilience: resilience({
      maxRetries: 1,
      fallbacks: [{ baseUrl: backup.baseUrl, keys: ["xai-backup-key-0000"], model: "grok-4.20-0309-non-reasoning" }],
    }),
  }, primary);
  let client: Anthropic;
  beforeAll(() => {
    client = clientFor(rig.gw, "local");
  });

  test("primary exhausted: the fallback upstream serves, with its model and key", async () => {
    primary.on(() => status(503, "overloaded"));
    backup.on(() => ok("from the backup"));
    const msg = await client.messages.create(request);
    expect(msg.content).toEqual([{ type: "text", text: "from the backup" }] as never);
    expect(msg.model).toBe("grok-4"); // the client's name for it, as always
    expect(primary.requests).toHaveLength(2);
    expect(backup.requests).toHaveLength(1);
    expect(backup.last.body.model).toBe("grok-4.20-0309-non-reasoning");
    expect(backup.last.headers.get("authorization")).toBe("Bearer xai-backup-key-0000");
    const log = await logText(rig.gw.logFile, (t) => t.includes('"upstream_target"'));
    expect(log).toContain('"upstream_target":"fallback 1"');
  });

  test("a request the primary refuses as invalid is not sent to the fallback", async () => {
    primary.on(() => xaiError(400, "Invalid request content: bad thing"));
    const err = await client.messages.create(request).catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.message).toContain("bad thing");
    expect(backup.requests).toHaveLength(0);
  });

  test("both exhausted: the last error is reported", async () => {
    primary.on(() => status(503, "primary down"));
    backup.on(() => status(500, "backup down too"));
    const err = await client.messages.create(request).catch((e) => e);
    expect(err.status).toBe(529);
    expect(err.message).toContain("backup down too");
    expect(primary.requests).toHaveLength(2);
    expect(backup.requests).toHaveLength(2);
  });
});
