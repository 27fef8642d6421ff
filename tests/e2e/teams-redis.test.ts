/**
 * Several instances sharing one real redis-server: two gateway PROCESSES (one
 * SQLite ledger file, as two instances on one machine) enforce one rpm limit
 * and one budget together. And a gateway whose Redis goes away keeps serving on
 * local counters, logs it once, and uses Redis again once it is back.
 */
import Anthropic from "@anthropic-ai/sdk";
import { RedisClient } from "bun";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { completion, usage, type FakeUpstream } from "../helpers/fake-upstream";
import { logText, startGateway, type Gateway } from "../helpers/gateway";
import { ServerProcess } from "../helpers/process";
import { createLogger } from "../../src/http/log";
import { RedisCounters } from "../../src/teams/counters";
import { RedisServer, redisBinary, serviceAvailable } from "../helpers/services";
import { useFakeUpstreams } from "../helpers/setup";
import { parsePrometheus, valueOf } from "../helpers/prometheus";
import { ADMIN_TOKEN, adminCall, createKey, tempDir, UPSTREAM_KEY } from "../helpers/teams";

const binary = redisBinary();
const run = serviceAvailable("redis-server", binary);

describe.skipIf(!run)("teams with a real redis-server", () => {
  // Made in the hook (not at collection), so a skipped run starts no server; stopped after the file.
  const fakes = useFakeUpstreams();
  let fake: FakeUpstream;
  let redis: RedisServer;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    fake = fakes().on(() => Response.json(completion({ content: "Hi from fake Grok" }, "stop", { ...usage(20, 7), cost_in_usd_ticks: 3000 })));
    redis = await RedisServer.start(binary!);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await redis?.stop();
  });

  const ask = (url: string, key: string) =>
    new Anthropic({ baseURL: url, apiKey: key, maxRetries: 0 }).messages.create({
      model: "grok-3-mini",
      max_tokens: 16,
      messages: [{ role: "user", content: "Hi" }],
    });
  const outcome = (p: Promise<unknown>) => p.then(
    () => 200,
    (e: { status?: number }) => e.status ?? 0,
  );

  test("two gateway processes enforce one rpm limit and one budget together", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const env = (name: string) => ({
      XAI_API_KEY: UPSTREAM_KEY,
      XAI_BASE_URL: fake.baseUrl,
      GROK2API_ADMIN_TOKEN: ADMIN_TOKEN,
      GROK2API_STORE_URL: `sqlite://${t.dir}/shared.db`,
      GROK2API_REDIS_URL: redis.url,
      GROK2API_PORT: "0",
      GROK2API_LOG_FILE: `${t.dir}/${name}.log`,
    });
    const a = await ServerProcess.start([], env("a"));
    cleanups.push(() => a.kill());
    const b = await ServerProcess.start([], env("b"));
    cleanups.push(() => b.kill());

    // A key made on A is known to B (same store), and its limit is one for both.
    const k = await createKey(a.url, { name: "shared", rpm: 3 });
    const results: number[] = [];
    for (let i = 0; i < 6; i++) results.push(await outcome(ask(i % 2 === 0 ? a.url : b.url, k.key)));
    // A minute boundary may fall inside the loop: then a new window lets more through, never fewer.
    expect(results.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
    if (results.filter((s) => s === 200).length === 3) expect(results).toEqual([200, 200, 200, 429, 429, 429]);
    else expect(results.slice(0, 3)).toEqual([200, 200, 200]);

    // Two requests of 3000 ticks use a 6000-tick budget, wherever they were served.
    // Spend is added to the shared counter just after the answer: wait until the other instance sees it.
    const seenBy = async (url: string, id: string, usd: number) => {
      let spend = -1;
      for (let i = 0; i < 100 && spend !== usd; i++) {
        spend = (await adminCall(url, "GET", "/keys")).body.data.find((x: any) => x.id === id)?.spend_usd;
        if (spend !== usd) await Bun.sleep(20);
      }
      return spend;
    };
    const thrifty = await createKey(b.url, { name: "thrifty", budget_usd: 0.0000006, budget_period: "total" });
    expect(await outcome(ask(a.url, thrifty.key))).toBe(200);
    expect(await seenBy(b.url, thrifty.id, 0.0000003)).toBe(0.0000003);
    expect(await outcome(ask(b.url, thrifty.key))).toBe(200);
    expect(await seenBy(a.url, thrifty.id, 0.0000006)).toBe(0.0000006);
    expect(await outcome(ask(a.url, thrifty.key))).toBe(402);
    expect(await outcome(ask(b.url, thrifty.key))).toBe(402);

    // Shutdown flushes each ledger.
    for (const p of [a, b]) {
      p.signal("SIGTERM");
      expect(await p.exited).toBe(0);
    }
    // Both ledgers went to the one store: every request served is there once.
    const c = await ServerProcess.start([], env("c"));
    cleanups.push(() => c.kill());
    const rows = (await adminCall(c.url, "GET", "/usage?group_by=key")).body.data;
    const served = (id: string) => rows.find((r: any) => r.key_id === id)?.requests;
    expect(served(k.id)).toBe(results.filter((s) => s === 200).length);
    expect(served(thrifty.id)).toBe(2);
    c.signal("SIGTERM");
    await c.exited;
  }, 60_000);

  test("Redis going away: requests keep flowing on local counters, the log says so once, and it is used again when back", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const g: Gateway = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] },
      admin: { token: ADMIN_TOKEN },
      store: { url: `sqlite://${t.dir}/ledger.db`, redisUrl: redis.url },
    });
    cleanups.push(() => g.stop());
    await g.ready;
    const k = await createKey(g.url, { name: "steady", rpm: 1000 });
    expect(await outcome(ask(g.url, k.key))).toBe(200);

    await redis.kill();
    for (let i = 0; i < 3; i++) expect(await outcome(ask(g.url, k.key))).toBe(200);
    const down = await logText(g.logFile, (s) => s.includes("redis is unavailable"));
    expect(down.split("redis is unavailable").length - 1).toBe(1);

    // Limits still hold on the local counters meanwhile.
    const limited = await createKey(g.url, { name: "limited", rpm: 1 });
    expect(await outcome(ask(g.url, limited.key))).toBe(200);
    expect(await outcome(ask(g.url, limited.key))).toBe(429);

    await redis.restart();
    const back = await logText(g.logFile, (s) => s.includes("redis is back"), 20_000);
    expect(back).toContain("redis is back");
    expect(await outcome(ask(g.url, k.key))).toBe(200);
    expect(back).not.toContain(redis.url);
  }, 60_000);

  test("Redis too slow for a moment (the connection stays up): local counters meanwhile, and Redis again once it answers", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const g: Gateway = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] },
      admin: { token: ADMIN_TOKEN },
      store: { url: `sqlite://${t.dir}/ledger.db`, redisUrl: redis.url },
    });
    cleanups.push(() => g.stop());
    await g.ready;
    const k = await createKey(g.url, { name: "patient", rpm: 1000 });
    expect(await outcome(ask(g.url, k.key))).toBe(200);
    // Every client's commands wait 1.5 s: the gateway's time out (500 ms) while no connection drops.
    const admin = new RedisClient(redis.url);
    await admin.send("CLIENT", ["PAUSE", "1500", "ALL"]);
    expect(await outcome(ask(g.url, k.key))).toBe(200);
    expect(await logText(g.logFile, (s) => s.includes("redis is unavailable"), 5000)).toContain("redis is unavailable");
    await Bun.sleep(1600);
    // No reconnect will announce it: the next command that succeeds does.
    for (let i = 0; i < 3; i++) expect(await outcome(ask(g.url, k.key))).toBe(200);
    expect(await logText(g.logFile, (s) => s.includes("redis is back"), 5000)).toContain("redis is back");
    admin.close();
  }, 60_000);

  test("Redis down at start-up: served on local counters, and Redis is used once it comes up", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const late = await RedisServer.start(binary!, false);
    cleanups.push(() => late.stop());
    const g: Gateway = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] },
      admin: { token: ADMIN_TOKEN },
      store: { url: `sqlite://${t.dir}/ledger.db`, redisUrl: late.url },
    });
    cleanups.push(() => g.stop());
    await g.ready;
    const k = await createKey(g.url, { name: "early", rpm: 1000 });
    expect(await outcome(ask(g.url, k.key))).toBe(200);
    expect(await logText(g.logFile, (s) => s.includes("redis is unavailable"), 5000)).toContain("redis is unavailable");
    await late.restart();
    // Tried again every 5 s.
    const back = await logText(g.logFile, (s) => s.includes("redis is back"), 15_000);
    expect(back).toContain("redis is back");
    expect(await outcome(ask(g.url, k.key))).toBe(200);
  }, 60_000);

  test("Redis down: auto refuses keys with a budget (503 naming Redis) and serves the others; closed refuses every limited key; open serves", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const r = await RedisServer.start(binary!);
    cleanups.push(() => r.stop());
    const gateway = async (name: string, redisDown?: "auto" | "closed" | "open") => {
      const g: Gateway = startGateway(fake.baseUrl, {
        upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] },
        admin: { token: ADMIN_TOKEN },
        store: { url: `sqlite://${t.dir}/${name}.db`, redisUrl: r.url, ...(redisDown ? { redisDown } : {}) },
      });
      cleanups.push(() => g.stop());
      await g.ready;
      return g;
    };
    const auto = await gateway("auto");
    const closed = await gateway("closed", "closed");
    const open = await gateway("open", "open");
    const keys = async (g: Gateway) => ({
      budgeted: (await createKey(g.url, { name: "budgeted", budget_usd: 1 })).key,
      limited: (await createKey(g.url, { name: "limited", rpm: 100 })).key,
      plain: (await createKey(g.url, { name: "plain" })).key,
    });
    const [ka, kc, ko] = [await keys(auto), await keys(closed), await keys(open)];
    for (const [g, k] of [[auto, ka], [closed, kc], [open, ko]] as const) expect(await outcome(ask(g.url, k.budgeted))).toBe(200);

    await r.kill();
    const e = await ask(auto.url, ka.budgeted).then(
      () => undefined,
      (err) => err,
    );
    expect(e?.status).toBe(503);
    expect(e.error.error.type).toBe("api_error");
    expect(e.error.error.message).toContain("(Redis) are unreachable");
    expect(e.error.error.message).toContain('redis_down = "auto"');
    expect(await outcome(ask(auto.url, ka.limited))).toBe(200);
    expect(await outcome(ask(auto.url, ka.plain))).toBe(200);
    expect(await outcome(ask(closed.url, kc.budgeted))).toBe(503);
    expect(await outcome(ask(closed.url, kc.limited))).toBe(503);
    expect(await outcome(ask(closed.url, kc.plain))).toBe(200); // nothing to count: Redis is not asked
    expect(await outcome(ask(open.url, ko.budgeted))).toBe(200);
    expect(await outcome(ask(open.url, ko.limited))).toBe(200);
    // Said once, with what happens meanwhile.
    const log = await logText(auto.logFile, (s) => s.includes("redis is unavailable"));
    expect(log.split("redis is unavailable").length - 1).toBe(1);
    expect(log).toContain("requests of keys with a budget are refused (503)");
  }, 60_000);

  test("what is spent while Redis is away is added to it when it is back: the budget still holds, the metrics say so", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    // Redis keeps its data across the kill: an outage of the connection, not of what it counted.
    const r = await RedisServer.start(binary!, true, { persist: true });
    cleanups.push(() => r.stop());
    const g: Gateway = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] },
      admin: { token: ADMIN_TOKEN },
      store: { url: `sqlite://${t.dir}/ledger.db`, redisUrl: r.url, redisDown: "open" },
    });
    cleanups.push(() => g.stop());
    await g.ready;
    // Five requests of 3000 ticks.
    const k = await createKey(g.url, { name: "steady", budget_usd: 0.0000015, budget_period: "total" });
    const spend = async () => (await adminCall(g.url, "GET", "/keys")).body.data.find((x: any) => x.id === k.id).spend_usd;
    for (let i = 0; i < 2; i++) expect(await outcome(ask(g.url, k.key))).toBe(200);
    for (let i = 0; i < 50 && (await spend()) !== 0.0000006; i++) await Bun.sleep(20);
    expect(await spend()).toBe(0.0000006);

    // Metrics are per process: other tests' gateways have reconciled spend too.
    const metric = async (name: string) => valueOf(parsePrometheus(await (await fetch(`${g.url}/metrics`)).text()), name, {});
    const reconciledBefore = await metric("grok2api_redis_reconciled_usd_ticks_total");
    await r.kill();
    for (let i = 0; i < 2; i++) expect(await outcome(ask(g.url, k.key))).toBe(200);
    expect(await metric("grok2api_redis_up")).toBe(0);

    await r.restart();
    const log = await logText(g.logFile, (s) => s.includes("spend counted while redis was away is added to it"), 20_000);
    expect(log).toContain('"usd":"0.0000006"');
    // Redis has all four; one more fits the budget, then it is spent.
    expect(await spend()).toBe(0.0000012);
    expect(await outcome(ask(g.url, k.key))).toBe(200);
    expect(await outcome(ask(g.url, k.key))).toBe(402);
    expect(await metric("grok2api_redis_up")).toBe(1);
    expect((await metric("grok2api_redis_reconciled_usd_ticks_total")) - reconciledBefore).toBe(6000);
    expect(log.split("redis is unavailable").length - 1).toBe(1);
    expect(log.split("redis is back").length - 1).toBe(1);
  }, 60_000);

  test("the counters' script: concurrent reserves pass only as far as the budget covers; a hold never settled (its instance died) lapses after an hour", async () => {
    const logger = createLogger({ file: null, stdout: false });
    const counters = new RedisCounters(redis.url, async () => 1000, logger, "auto", `test-${Date.now()}:`);
    cleanups.push(() => counters.close());
    const base = { keyId: "k", boundTicks: 3000, tokens: 0, closedWhenDown: true, budget: { ticks: 10_000, period: "total" as const } };
    const now = new Date();
    const all = await Promise.all(Array.from({ length: 30 }, (_, i) => counters.reserve({ ...base, holdId: `r${i}`, now })));
    expect(all.filter((r) => r.ok)).toHaveLength(3); // 1000 spent + 3 × 3000 held
    // One failed (nothing charged): its hold is released, and another fits.
    const [first, second] = all.filter((r) => r.ok);
    if (first?.ok) first.settle(0, 0, now);
    let next = await counters.reserve({ ...base, holdId: "after", now: new Date() });
    for (let i = 0; i < 50 && !next.ok; i++) {
      await Bun.sleep(10); // the settle is on its way to Redis
      next = await counters.reserve({ ...base, holdId: `after${i}`, now: new Date() });
    }
    expect(next).toMatchObject({ ok: true, seen: { spentTicks: 1000, heldTicks: 9000 } });
    // One cost 500: the spend has it.
    if (second?.ok) second.settle(500, 0, now);
    let spent = 0;
    for (let i = 0; i < 50 && spent !== 1500; i++, await Bun.sleep(10)) spent = await counters.spent("k", "total", new Date());
    expect(spent).toBe(1500);
    // A hold taken two hours ago and never settled has lapsed: it no longer counts.
    const other = { ...base, keyId: "ghost" };
    expect((await counters.reserve({ ...other, holdId: "old", now: new Date(Date.now() - 7_200_000) })).ok).toBe(true);
    expect(await counters.reserve({ ...other, holdId: "new", now: new Date() })).toMatchObject({ ok: true, seen: { heldTicks: 3000 } });
  });
});
