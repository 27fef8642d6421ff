/**
 * The upstream key pool, through the real server: a key the upstream rejects is
 * skipped and leaves the rotation (logged by fingerprint only), a rate-limited key
 * rests while the request moves to the next one, and zero-configuration mode still
 * forwards the client's own key.
 */
import Anthropic from "@anthropic-ai/sdk";
import { beforeAll, describe, expect, test } from "bun:test";
import { fingerprint, KeyPool } from "../../src/upstream/keys";
import { completion, xaiError } from "../helpers/fake-upstream";
import { logText, resilience, startGateway } from "../helpers/gateway";
import { clientFor, useFakeUpstream, useGateway, useGateways } from "../helpers/setup";

const DEAD = "xai-dead-key-0000000000";
const GOOD = "xai-good-key-1111111111";
const BUSY = "xai-busy-key-2222222222";

const bearer = (r: { headers: Headers }) => r.headers.get("authorization")?.replace(/^Bearer /, "");
const ask = (client: Anthropic) =>
  client.messages.create({ model: "grok-4", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });

describe("KeyPool", () => {
  test("round robin over healthy keys; rejected keys leave, cooled keys come back", () => {
    let now = 1000;
    const pool = new KeyPool(["a", "b", "c"], () => now);
    expect([pool.pick(), pool.pick(), pool.pick(), pool.pick()]).toEqual(["a", "b", "c", "a"]);
    pool.reject("b", 60_000);
    expect([pool.pick(), pool.pick(), pool.pick()]).toEqual(["c", "a", "c"]);
    pool.coolDown("c", 500);
    expect([pool.pick(), pool.pick()]).toEqual(["a", "a"]);
    pool.coolDown("a", 200);
    expect(pool.pick()).toBeNull();
    expect(pool.msUntilCooled()).toBe(200);
    now += 200;
    expect(pool.pick()).toBe("a");
    now += 300;
    expect(pool.pick()).toBe("c");
    now += 60_000; // quarantine over: b gets another chance
    expect([pool.pick(), pool.pick(), pool.pick()].sort()).toEqual(["a", "b", "c"]);
  });

  test("the last usable key is never taken out of rotation", () => {
    const single = new KeyPool(["a"], () => 0);
    expect(single.reject("a", 1000)).toBe(false);
    expect(single.pick()).toBe("a");

    const pool = new KeyPool(["a", "b"], () => 0);
    expect(pool.reject("a", 1000)).toBe(true);
    expect(pool.reject("b", 1000)).toBe(false);
    expect([pool.pick(), pool.pick()]).toEqual(["b", "b"]);
    expect(pool.rejectedCount).toBe(1);
  });

  test("rejected keys and resting keys: waiting helps only for the resting ones", () => {
    let now = 0;
    const pool = new KeyPool(["a", "b"], () => now);
    pool.coolDown("b", 300);
    expect(pool.reject("a", 1000)).toBe(true); // b is resting, not rejected: still usable later
    expect(pool.pick()).toBeNull();
    expect(pool.msUntilCooled()).toBe(300);
    now = 300;
    expect(pool.pick()).toBe("b");
  });

  test("fingerprints never contain the key", () => {
    expect(fingerprint(GOOD)).toMatch(/^key_[0-9a-f]{8}$/);
    expect(fingerprint(GOOD)).not.toContain(GOOD);
    expect(fingerprint(GOOD)).not.toBe(fingerprint(DEAD));
  });
});

describe("pool mode, through the server", () => {
  const fake = useFakeUpstream();
  const rig = useGateway({
    upstream: { baseUrl: fake.baseUrl, keys: [DEAD, GOOD, BUSY] },
    resilience: resilience({ maxRetries: 2 }),
  }, fake);
  let client: Anthropic;
  beforeAll(() => {
    client = clientFor(rig.gw, "local");
  });

  test("a dead key is skipped, taken out of rotation, and logged by fingerprint only", async () => {
    fake.on((req) => {
      const key = bearer(req);
      // xAI answers a bad key with 400 and this wording.
      if (key === DEAD) return xaiError(400, `Incorrect API key provided: ${DEAD}. You can obtain an API key from https://console.x.ai.`);
      return Response.json(completion({ content: `served by ${key === GOOD ? "good" : "busy"}` }));
    });
    for (let i = 0; i < 6; i++) {
      const msg = await ask(client);
      expect(msg.content[0]).toMatchObject({ type: "text" });
    }
    const used = fake.requests.map(bearer);
    // The dead key was tried once, then never again; every request was served.
    expect(used.filter((k) => k === DEAD)).toHaveLength(1);
    expect(used.filter((k) => k !== DEAD)).toHaveLength(6);
    expect(new Set(used.filter((k) => k !== DEAD))).toEqual(new Set([GOOD, BUSY]));

    const log = await logText(rig.gw.logFile, (t) => t.includes("out of rotation") && t.split("\n").length > 6);
    expect(log).toContain(fingerprint(DEAD));
    expect(log).toContain("out of rotation");
    expect(log).not.toContain(DEAD);
    expect(log).not.toContain(GOOD);
  });

  test("a rate-limited key rests and the request moves to the next key at once", async () => {
    fake.on((req) => {
      if (bearer(req) === BUSY) return Response.json({ error: "Too many requests" }, { status: 429, headers: { "retry-after": "120" } });
      return Response.json(completion({ content: "ok" }));
    });
    for (let i = 0; i < 4; i++) expect((await ask(client)).content[0]).toEqual({ type: "text", text: "ok" } as never);
    const used = fake.requests.map(bearer);
    // BUSY answered 429 once and rests for its retry-after; GOOD carried the rest.
    expect(used.filter((k) => k === BUSY)).toHaveLength(1);
    expect(used.filter((k) => k === GOOD)).toHaveLength(4);
  });
});

describe("plain 401 and 403 also take a key out of rotation", () => {
  const fake = useFakeUpstream();
  const startGateway = useGateways(fake);
  for (const code of [401, 403]) {
    test(`${code}`, async () => {
      const gw = startGateway({ upstream: { baseUrl: fake.baseUrl, keys: [DEAD, GOOD] }, resilience: resilience() });
      fake.on((req) =>
        bearer(req) === DEAD
          ? Response.json({ error: { message: "This key cannot be used", type: "invalid_request_error" } }, { status: code })
          : Response.json(completion({ content: "ok" })),
      );
      const client = clientFor(gw, "local");
      for (let i = 0; i < 4; i++) await ask(client);
      expect(fake.requests.map(bearer).filter((k) => k === DEAD)).toHaveLength(1);
      expect(fake.requests.map(bearer).filter((k) => k === GOOD)).toHaveLength(4);
    });
  }
});

describe("every key rate limited or rejected", () => {
  const fake = useFakeUpstream();
  const rig = useGateway({
    upstream: { baseUrl: fake.baseUrl, keys: ["xai-k1-aaaaaaaaaa", "xai-k2-bbbbbbbbbb"] },
    resilience: resilience({ maxRetries: 1, retryBudgetMs: 1000 }),
  }, fake);

  test("all keys resting longer than the budget: 429 rate_limit_error with retry-after", async () => {
    fake.reset().on(() => Response.json({ error: "Rate limit reached for requests" }, { status: 429, headers: { "retry-after": "30" } }));
    const res = await fetch(`${rig.gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
    const body = (await res.json()) as any;
    expect(body.error).toEqual({ type: "rate_limit_error", message: "Rate limit reached for requests" });
    // Each key was tried once; nobody waited 30 s.
    expect(fake.requests).toHaveLength(2);
  });

  test("all keys rejected: a clean 502 that says to check the keys (not a 401: the client is fine)", async () => {
    fake.reset().on(() => xaiError(400, "Incorrect API key provided: xa***aa. You can obtain an API key from https://console.x.ai."));
    // The keys from the previous test are resting (retry-after 30): use a fresh gateway.
    const gw2 = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: ["xai-k1-aaaaaaaaaa", "xai-k2-bbbbbbbbbb"] },
      resilience: resilience(),
    });
    try {
      const res = await fetch(`${gw2.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(502);
      expect(res.headers.get("x-should-retry")).toBe("false");
      const body = (await res.json()) as any;
      expect(body.error.type).toBe("api_error");
      expect(body.error.message).toContain("rejected every configured upstream key");
      expect(body.error.message).toContain("Incorrect API key provided");
      expect(fake.requests).toHaveLength(2);
      // The last key stays in rotation: a later request tries it again rather than failing blind.
      const again = await fetch(`${gw2.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
      });
      expect(again.status).toBe(502);
      expect(fake.requests).toHaveLength(3);
    } finally {
      await gw2.stop();
    }
  });
});

describe("a single key refused for one model does not lock the gateway out", () => {
  const fake = useFakeUpstream();
  const rig = useGateway({ upstream: { baseUrl: fake.baseUrl, keys: [GOOD] }, resilience: resilience() }, fake);
  test("403 keeps the upstream's words and the key stays usable for other requests", async () => {
    fake.on((req) =>
      req.body.model === "grok-4-heavy"
        ? xaiError(403, "Your team does not have permission to use model grok-4-heavy")
        : Response.json(completion({ content: "ok" })),
    );
    const client = clientFor(rig.gw, "local");
    const err = await client.messages
      .create({ model: "grok-4-heavy", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(err.message).toContain("does not have permission to use model grok-4-heavy");
    expect(err.message).not.toContain(GOOD);
    expect((await ask(client)).content[0]).toEqual({ type: "text", text: "ok" } as never);
  });
});

describe("zero-configuration mode: the client's key is forwarded, no pool", () => {
  const fake = useFakeUpstream();
  const rig = useGateway({ upstream: { baseUrl: fake.baseUrl, keys: [] }, resilience: resilience() }, fake);

  test("the client's key goes upstream", async () => {
    fake.reset().on(() => Response.json(completion({ content: "hi" })));
    const client = new Anthropic({ baseURL: rig.gw.url, apiKey: "xai-client-own-key", maxRetries: 0 });
    await ask(client);
    expect(bearer(fake.last)).toBe("xai-client-own-key");
  });

  test("a bad client key is a 401 with the upstream's words, tried once, never retried", async () => {
    fake.reset().on(() => xaiError(400, "Incorrect API key provided: xa***ey. You can obtain an API key from https://console.x.ai."));
    const client = new Anthropic({ baseURL: rig.gw.url, apiKey: "xai-wrong-key", maxRetries: 0 });
    const err = await ask(client).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.message).toContain("Incorrect API key provided");
    expect(err.headers.get("x-should-retry")).toBe("false");
    expect(fake.requests).toHaveLength(1);
  });
});
