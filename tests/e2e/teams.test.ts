/**
 * Teams through the real server, with the official SDKs against a fake xAI:
 * the admin API, virtual keys on both faces (model lists, budgets, rpm/tpm,
 * revocation, expiry), the ledger's totals against the upstream's usage (streams
 * and client aborts included), the ledger surviving a restart, per-key metrics,
 * and no secret in any log, metric or error.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterEach, describe, expect, test } from "bun:test";
import { completion, streamOf, textChunks, usage, type Recorded } from "../helpers/fake-upstream";
import { startGateway, type Gateway } from "../helpers/gateway";
import { heldStream, SseClient } from "../helpers/held-stream";
import { gate } from "../helpers/process";
import { parsePrometheus, valueOf } from "../helpers/prometheus";
import { useFakeUpstream } from "../helpers/setup";
import { ADMIN_TOKEN, adminCall, createKey, teamsGateway, tempDir, UPSTREAM_KEY } from "../helpers/teams";

const STATIC_KEY = "static-client-key-0123456789abcdef";
const fake = useFakeUpstream();
const gateways: Gateway[] = [];
const dirs: Array<() => void> = [];

/** The fake's answers: 20 prompt tokens of which 8 cached, 7 completion tokens, 3000 ticks. */
const U = () => usage(20, 7, { cached: 8 });
const U_TICKS = 3000;

afterEach(async () => {
  for (const g of gateways.splice(0)) await g.stop();
  for (const c of dirs.splice(0)) c();
});

/** The fake's usual answer, with U's usage. */
function withTicks(): void {
  fake.on((req) =>
    req.body?.stream
      ? streamOf(textChunks("Hello from fake Grok!", { usage: { ...U(), cost_in_usd_ticks: U_TICKS } }))
      : Response.json(completion({ content: "Hello from fake Grok!" }, "stop", { ...U(), cost_in_usd_ticks: U_TICKS })),
  );
}

async function gateway(overrides: Parameters<typeof startGateway>[1] = {}, storeFile?: string): Promise<Gateway & { storeUrl: string }> {
  let file = storeFile;
  if (!file) {
    const t = tempDir();
    dirs.push(t.cleanup);
    file = `${t.dir}/ledger.db`;
  }
  const storeUrl = `sqlite://${file}`;
  const g = await teamsGateway(fake.baseUrl, storeUrl, { clientKeys: [STATIC_KEY], ...overrides });
  gateways.push(g);
  withTicks();
  return Object.assign(g, { storeUrl });
}

const anthropic = (g: Gateway, apiKey: string) => new Anthropic({ baseURL: g.url, apiKey, maxRetries: 0 });
const openai = (g: Gateway, apiKey: string) => new OpenAI({ baseURL: `${g.url}/v1`, apiKey, maxRetries: 0 });
const ask = (g: Gateway, apiKey: string, model = "grok-3-mini") =>
  anthropic(g, apiKey).messages.create({ model, max_tokens: 32, messages: [{ role: "user", content: "Hi" }] });

/** The error an SDK call fails with (the test fails if it does not). */
async function failure(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to fail");
}

/** Upstream chat requests (catalog reads aside). */
const chats = () => fake.requests.filter((r: Recorded) => r.path.endsWith("/chat/completions")).length;

describe("admin API", () => {
  test("off without an admin token: every /admin/ path answers 404", async () => {
    const g = startGateway(fake.baseUrl, { upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] } });
    gateways.push(g);
    for (const [method, path] of [["GET", "/keys"], ["POST", "/keys"], ["GET", "/usage"], ["GET", "/streams"]] as const) {
      const r = await adminCall(g.url, method, path, method === "POST" ? { name: "x" } : undefined);
      expect(r.status).toBe(404);
      expect(r.body.error.type).toBe("not_found_error");
    }
  });

  test("the admin token is required and checked", async () => {
    const g = await gateway();
    const none = await adminCall(g.url, "GET", "/keys", undefined, null);
    expect(none.status).toBe(401);
    expect(none.body.type).toBe("error");
    expect(none.body.error.type).toBe("authentication_error");
    const wrong = await adminCall(g.url, "GET", "/keys", undefined, "not-the-admin-token-000");
    expect(wrong.status).toBe(401);
    // A virtual key is no admin token.
    const k = await createKey(g.url, { name: "alice" });
    expect((await adminCall(g.url, "GET", "/keys", undefined, k.key)).status).toBe(401);
  });

  test("create, list, change and revoke a key, as the contract says", async () => {
    const g = await gateway();
    const created = await adminCall(g.url, "POST", "/keys", { name: "alice", budget_usd: 5, rpm: 10, models: ["grok-*"], expires_at: "2099-01-01" });
    expect(created.status).toBe(201);
    const k = created.body;
    expect(k.key).toMatch(/^g2a-[0-9A-Za-z]{40}$/);
    expect(k).toMatchObject({ name: "alice", budget_usd: 5, budget_period: "month", rpm: 10, tpm: null, models: ["grok-*"], revoked_at: null });
    expect(k.expires_at).toBe("2099-01-01T00:00:00.000Z");
    expect(typeof k.id).toBe("string");
    expect(Date.parse(k.created_at)).toBeGreaterThan(0);
    expect(k.key_hint).not.toContain(k.key.slice(4, 40));

    const plain = await createKey(g.url, { name: "bob" });
    expect(plain).toMatchObject({ budget_usd: null, budget_period: null, rpm: null, tpm: null, models: null, expires_at: null });

    const list = await adminCall(g.url, "GET", "/keys");
    expect(list.status).toBe(200);
    expect(list.body.data.map((x: any) => x.name)).toEqual(["alice", "bob"]);
    for (const x of list.body.data) {
      expect(x.key).toBeUndefined();
      expect(x.key_hash).toBeUndefined();
      expect(x.spend_usd).toBe(0);
    }
    expect(JSON.stringify(list.body)).not.toContain(k.key);

    const patched = await adminCall(g.url, "PATCH", `/keys/${k.id}`, { rpm: null, tpm: 1000, budget_period: "day" });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: k.id, name: "alice", rpm: null, tpm: 1000, budget_usd: 5, budget_period: "day" });
    expect(patched.body.key).toBeUndefined();

    const revoked = await adminCall(g.url, "DELETE", `/keys/${k.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.id).toBe(k.id);
    expect(Date.parse(revoked.body.revoked_at)).toBeGreaterThan(0);
    // Revoked, not deleted: still listed.
    const after = await adminCall(g.url, "GET", "/keys");
    expect(after.body.data.find((x: any) => x.id === k.id).revoked_at).toBe(revoked.body.revoked_at);
  });

  test("bad input is refused with a clear 400 and nothing is made; unknown ids are 404", async () => {
    const g = await gateway();
    for (const bad of [{}, { name: "" }, { name: "x", rpm: 0 }, { name: "x", budget_period: "week" }, { name: "x", colour: "red" }, { name: "x", expires_at: "tomorrow" }]) {
      const r = await adminCall(g.url, "POST", "/keys", bad);
      expect(r.status).toBe(400);
      expect(r.body.error.type).toBe("invalid_request_error");
    }
    const junk = await fetch(`${g.url}/admin/api/keys`, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: "{not json" });
    expect(junk.status).toBe(400);
    expect((await adminCall(g.url, "GET", "/keys")).body.data).toEqual([]);
    expect((await adminCall(g.url, "PATCH", "/keys/key_nope", { rpm: 1 })).status).toBe(404);
    expect((await adminCall(g.url, "DELETE", "/keys/key_nope")).status).toBe(404);
    expect((await adminCall(g.url, "GET", "/usage?group_by=week")).status).toBe(400);
    expect((await adminCall(g.url, "GET", "/usage?from=yesterday")).status).toBe(400);
  });
});

describe("virtual keys as client keys", () => {
  test("work on both faces, beside the static keys; unknown keys are refused", async () => {
    const g = await gateway();
    const k = await createKey(g.url, { name: "alice" });
    const msg = await ask(g, k.key);
    expect(msg.content[0]).toMatchObject({ type: "text", text: "Hello from fake Grok!" });
    const chat = await openai(g, k.key).chat.completions.create({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }] });
    expect(chat.choices[0]!.message.content).toBe("Hello from fake Grok!");
    // The upstream sees the gateway's key, never the virtual one.
    for (const r of fake.requests) expect(r.headers.get("authorization")).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect((await ask(g, STATIC_KEY)).content.length).toBe(1);
    const unknown = await failure(ask(g, "g2a-0000000000000000000000000000000000000000"));
    expect(unknown).toBeInstanceOf(Anthropic.AuthenticationError);
    const none = await fetch(`${g.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(none.status).toBe(401);
  });

  test("a model outside the key's list: 403 permission_error, the upstream is not called", async () => {
    const g = await gateway({ modelMap: { "team-big": "grok-4" } });
    const k = await createKey(g.url, { name: "mini-only", models: ["grok-3-mini*"] });
    expect((await ask(g, k.key, "grok-3-mini")).content.length).toBe(1);
    const before = chats();
    // The glob is matched against the upstream model the request is routed to.
    const e = await failure(ask(g, k.key, "team-big"));
    expect(e).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(e.status).toBe(403);
    expect(e.error.error.type).toBe("permission_error");
    expect(e.error.error.message).toContain("grok-4");
    const oe = await failure(openai(g, k.key).chat.completions.create({ model: "grok-4", messages: [{ role: "user", content: "Hi" }] }));
    expect(oe).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(chats()).toBe(before);
  });

  test("admission first on every face: count_tokens, /v1/responses, the model list, and documents fetched only once admitted", async () => {
    // The Responses dialect, so that /v1/responses is served (this test's requests are refused before the upstream).
    const g = await gateway({ modelMap: { "team-big": "grok-4" }, upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY], api: "responses" } });
    const k = await createKey(g.url, { name: "mini-only-2", models: ["grok-3-mini*"] });
    const client = anthropic(g, k.key);
    // count_tokens is admitted like a message: a model outside the list is refused, nothing asked upstream.
    const before = fake.requests.length;
    const e = await failure(client.messages.countTokens({ model: "team-big", messages: [{ role: "user", content: "Hi" }] }));
    expect(e.status).toBe(403);
    expect((await client.messages.countTokens({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }] })).input_tokens).toBeGreaterThan(0);
    // /v1/responses too.
    const re = await failure(openai(g, k.key).responses.create({ model: "team-big", input: "Hi" }));
    expect(re.status).toBe(403);
    // The model list shows what the key may use.
    const listed = (await client.models.list()).data.map((m) => m.id);
    expect(listed.some((id) => id === "team-big")).toBe(false);
    const all = (await anthropic(g, STATIC_KEY).models.list()).data.map((m) => m.id);
    expect(all).toContain("team-big");
    // A document by URL is not fetched for a request that is not admitted.
    let fetched = 0;
    const docs = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (fetched++, new Response("%PDF-1.4 nope", { headers: { "content-type": "application/pdf" } })) });
    try {
      const doc = { type: "document" as const, source: { type: "url" as const, url: `http://127.0.0.1:${docs.port}/a.pdf` } };
      const de = await failure(client.messages.create({ model: "team-big", max_tokens: 8, messages: [{ role: "user", content: [doc, { type: "text", text: "sum" }] }] }));
      expect(de.status).toBe(403);
      expect(fetched).toBe(0);
    } finally {
      docs.stop(true);
    }
    // No model request reached the upstream (the model list and token counts may read the catalog and the tokenizer).
    expect(fake.requests.slice(before).filter((r) => /\/(chat\/completions|responses)$/.test(r.path))).toEqual([]);
  });

  test("over budget: 402 billing_error naming the budget and when it resets, before the upstream is called", async () => {
    const g = await gateway();
    // Two requests of 3000 ticks fit in 6000 ticks (0.0000006 USD); the third is refused.
    const k = await createKey(g.url, { name: "thrifty", budget_usd: 0.0000006, budget_period: "day" });
    await ask(g, k.key);
    await ask(g, k.key);
    const before = chats();
    const e = await failure(ask(g, k.key));
    expect(e.status).toBe(402);
    expect(e.error.error.type).toBe("billing_error");
    expect(e.error.error.message).toContain("daily budget of $0.0000006");
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(e.error.error.message).toContain(`resets at ${tomorrow}T00:00:00.000Z`);
    expect(chats()).toBe(before);
    const listed = (await adminCall(g.url, "GET", "/keys")).body.data[0];
    expect(listed.spend_usd).toBe(0.0000006);
    // Raising the budget lets it through again.
    await adminCall(g.url, "PATCH", `/keys/${k.id}`, { budget_usd: 1 });
    expect((await ask(g, k.key)).content.length).toBe(1);
  });

  test("over rpm: 429 rate_limit_error with retry-after", async () => {
    const g = await gateway();
    const k = await createKey(g.url, { name: "slow", rpm: 2 });
    await ask(g, k.key);
    await ask(g, k.key);
    const before = chats();
    const e = await failure(ask(g, k.key));
    expect(e).toBeInstanceOf(Anthropic.RateLimitError);
    expect(e.error.error.type).toBe("rate_limit_error");
    const after = Number(e.headers.get("retry-after"));
    expect(after).toBeGreaterThanOrEqual(1);
    expect(after).toBeLessThanOrEqual(60);
    const oe = await failure(openai(g, k.key).chat.completions.create({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }] }));
    expect(oe).toBeInstanceOf(OpenAI.RateLimitError);
    expect(chats()).toBe(before);
    // Another key has its own window.
    const other = await createKey(g.url, { name: "other", rpm: 2 });
    expect((await ask(g, other.key)).content.length).toBe(1);
  });

  test("over tpm: 429 once the minute's tokens reach the limit", async () => {
    const g = await gateway();
    // Each answer uses 27 tokens (12 + 8 cached + 7).
    const k = await createKey(g.url, { name: "wordy", tpm: 50 });
    await ask(g, k.key);
    await ask(g, k.key);
    const e = await failure(ask(g, k.key));
    expect(e.status).toBe(429);
    expect(e.error.error.message).toContain("50 tokens per minute");
    expect(Number(e.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });

  test("revoked and expired keys: 401 authentication_error", async () => {
    const g = await gateway();
    const k = await createKey(g.url, { name: "leaked" });
    expect((await ask(g, k.key)).content.length).toBe(1);
    await adminCall(g.url, "DELETE", `/keys/${k.id}`);
    const e = await failure(ask(g, k.key));
    expect(e).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(e.error.error.message).toContain("revoked");

    const past = await createKey(g.url, { name: "old", expires_at: "2020-01-01T00:00:00Z" });
    const e2 = await failure(openai(g, past.key).chat.completions.create({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }] }));
    expect(e2).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e2.message).toContain("expired");
    // Un-expiring it (PATCH expires_at: null) lets it in again.
    await adminCall(g.url, "PATCH", `/keys/${past.id}`, { expires_at: null });
    expect((await ask(g, past.key)).content.length).toBe(1);
  });
});

describe("the ledger", () => {
  test("totals equal the upstream's usage: JSON, streams on both faces, by model, key and day", async () => {
    const g = await gateway();
    const a = await createKey(g.url, { name: "alice" });
    const b = await createKey(g.url, { name: "bob" });
    await ask(g, a.key);
    const stream = anthropic(g, a.key).messages.stream({ model: "grok-3-mini", max_tokens: 32, messages: [{ role: "user", content: "Hi" }] });
    const final = await stream.finalMessage();
    expect(final.usage).toMatchObject({ input_tokens: 12, output_tokens: 7, cache_read_input_tokens: 8 });
    const ostream = await openai(g, b.key).chat.completions.create({
      model: "grok-3-mini",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of ostream) {
      // drain
    }
    await openai(g, b.key).chat.completions.create({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }] });
    await ask(g, STATIC_KEY); // a static key's request is in the ledger too, without a key id

    const byKey = (await adminCall(g.url, "GET", "/usage?group_by=key")).body.data;
    const row = (id: string | null) => byKey.find((r: any) => r.key_id === id);
    const each = { input_tokens: 12, output_tokens: 7, cached_tokens: 8, cost_usd: 0.0000003 };
    expect(row(a.id)).toEqual({ key_id: a.id, key_name: "alice", requests: 2, input_tokens: 24, output_tokens: 14, cached_tokens: 16, cost_usd: 0.0000006 });
    expect(row(b.id)).toMatchObject({ key_name: "bob", requests: 2, input_tokens: 24, output_tokens: 14, cached_tokens: 16 });
    expect(row(null)).toMatchObject({ key_name: null, requests: 1, ...each });

    const byModel = (await adminCall(g.url, "GET", "/usage?group_by=model")).body.data;
    expect(byModel).toEqual([{ model: "grok-3-mini", requests: 5, input_tokens: 60, output_tokens: 35, cached_tokens: 40, cost_usd: 0.0000015 }]);
    const today = new Date().toISOString().slice(0, 10);
    const byDay = (await adminCall(g.url, "GET", `/usage?group_by=day&key_id=${a.id}&from=${today}&to=${today}`)).body.data;
    expect(byDay).toEqual([{ day: today, requests: 2, input_tokens: 24, output_tokens: 14, cached_tokens: 16, cost_usd: 0.0000006 }]);
    // A window in the past has nothing.
    expect((await adminCall(g.url, "GET", "/usage?from=2020-01-01&to=2020-01-31T12:00:00Z")).body.data).toEqual([]);
  });

  test("a stream the client abandons is recorded with what was used, and listed while open", async () => {
    const g = await gateway();
    const k = await createKey(g.url, { name: "quitter" });
    const release = gate();
    const closed: Promise<void>[] = [];
    fake.on((req) => {
      closed.push(req.closed);
      return heldStream(textChunks("Some words before the client goes away", { usage: null }).slice(0, 3), [], release.promise);
    });
    const ac = new AbortController();
    const res = await fetch(`${g.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": k.key },
      body: JSON.stringify({ model: "grok-3-mini", max_tokens: 64, stream: true, messages: [{ role: "user", content: "Tell me a story" }] }),
      signal: ac.signal,
    });
    const sse = new SseClient(res);
    expect(await sse.readUntil("content_block_delta")).toBe(true);
    // Only this key's streams: other tests of this process may have left theirs (they are per process).
    const mine = (body: any) => body.data.filter((s: any) => s.key_id === k.id);
    const open = mine((await adminCall(g.url, "GET", "/streams")).body);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ key_id: k.id, key_name: "quitter", model: "grok-3-mini", path: "/v1/messages" });
    expect(open[0].request_id).toBe(res.headers.get("request-id"));
    expect(Date.parse(open[0].started_at)).toBeGreaterThan(0);
    ac.abort();
    await closed[0];
    release.open();
    let row: any;
    for (let i = 0; i < 100 && !row; i++) {
      row = (await adminCall(g.url, "GET", "/usage?group_by=key")).body.data.find((r: any) => r.key_id === k.id);
      if (!row) await Bun.sleep(20);
    }
    expect(row.requests).toBe(1);
    expect(row.input_tokens).toBeGreaterThan(0);
    expect(row.output_tokens).toBeGreaterThan(0);
    expect(mine((await adminCall(g.url, "GET", "/streams")).body)).toEqual([]);
  });

  test("survives a restart, and the budget counts what was spent before it", async () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    const file = `${t.dir}/nested/ledger.db`;
    const g1 = await gateway({}, file);
    const k = await createKey(g1.url, { name: "persistent", budget_usd: 0.0000006, budget_period: "total" });
    await ask(g1, k.key);
    await ask(g1, k.key);
    await g1.stop(); // flushes the ledger
    const g2 = await gateway({}, file);
    const rows = (await adminCall(g2.url, "GET", "/usage?group_by=key")).body.data;
    expect(rows).toEqual([{ key_id: k.id, key_name: "persistent", requests: 2, input_tokens: 24, output_tokens: 14, cached_tokens: 16, cost_usd: 0.0000006 }]);
    const e = await failure(ask(g2, k.key));
    expect(e.status).toBe(402);
    expect(e.error.error.message).toContain("does not reset");
  });
});

describe("metrics and secrets", () => {
  test("per-key counters by name; no admin token or key in any log line, metric or error", async () => {
    const g = await gateway({ metrics: { enabled: true, token: undefined, requireClientKey: false } });
    const k = await createKey(g.url, { name: "metered", rpm: 1 });
    await ask(g, k.key);
    await failure(ask(g, k.key)); // 429
    await failure(ask(g, `${k.key}x`)); // unknown
    await adminCall(g.url, "GET", "/keys", undefined, `${ADMIN_TOKEN}-wrong`);
    const text = await (await fetch(`${g.url}/metrics`)).text();
    const m = parsePrometheus(text);
    expect(valueOf(m, "grok2api_key_requests_total", { key: "metered" })).toBe(1);
    expect(valueOf(m, "grok2api_key_tokens_total", { key: "metered", direction: "input" })).toBe(20);
    expect(valueOf(m, "grok2api_key_tokens_total", { key: "metered", direction: "output" })).toBe(7);
    expect(valueOf(m, "grok2api_key_cost_usd_total", { key: "metered" })).toBeCloseTo(0.0000003, 12);
    const errors = [
      await (await fetch(`${g.url}/v1/messages`, { method: "POST", headers: { "x-api-key": k.key }, body: "{" })).text(),
      JSON.stringify((await adminCall(g.url, "POST", "/keys", { name: 3 })).body),
    ].join("\n");
    await g.stop();
    const log = await Bun.file(g.logFile).text();
    // The access log names the key, never shows it.
    expect(log).toContain('"key_name":"metered"');
    for (const secret of [ADMIN_TOKEN, k.key, UPSTREAM_KEY, STATIC_KEY, k.key.slice(4)]) {
      expect(log).not.toContain(secret);
      expect(text).not.toContain(secret);
      expect(errors).not.toContain(secret);
    }
  });
});
