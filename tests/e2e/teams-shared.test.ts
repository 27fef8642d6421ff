/**
 * Three gateways sharing one real redis-server and one real Postgres, as a team would run them:
 * 40 concurrent requests on a key whose budget covers about three never spend more than its
 * budget, wherever they land, and a key with rpm = 5 is served exactly 5 times in a minute.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { FakeUpstream } from "../helpers/fake-upstream";
import type { Gateway } from "../helpers/gateway";
import { pricedAnswer, servedCost, waitForPrices } from "../helpers/priced";
import { PostgresServer, postgresBin, RedisServer, redisBinary, serviceAvailable } from "../helpers/services";
import { useFakeUpstreams } from "../helpers/setup";
import { adminCall, createKey, teamsGateway } from "../helpers/teams";

const pgBin = postgresBin();
const redisBin = redisBinary();
const run = serviceAvailable("postgres", pgBin) && serviceAvailable("redis-server", redisBin);

describe.skipIf(!run)("three instances on one Redis and one Postgres", () => {
  const fakes = useFakeUpstreams();
  let fake: FakeUpstream;
  let pg: PostgresServer;
  let redis: RedisServer;
  let gateways: Gateway[] = [];

  beforeAll(async () => {
    fake = fakes().on(pricedAnswer({ delayMs: 100 }));
    [pg, redis] = await Promise.all([PostgresServer.start(pgBin!), RedisServer.start(redisBin!)]);
    const url = await pg.database("shared");
    // One at a time: the first applies the migrations.
    for (let i = 0; i < 3; i++) {
      gateways.push(await teamsGateway(fake.baseUrl, url, { store: { url, redisUrl: redis.url }, catalog: { refreshMs: 60_000 } }));
    }
  }, 60_000);
  afterAll(async () => {
    for (const g of gateways) await g.stop();
    gateways = [];
    await redis?.stop();
    await pg?.stop();
  }, 30_000);

  const ask = (g: Gateway, key: string) =>
    new Anthropic({ baseURL: g.url, apiKey: key, maxRetries: 0 }).messages
      .create({ model: "grok-3-mini", max_tokens: 16, messages: [{ role: "user", content: "Hi" }] })
      .then(
        () => 200,
        (e: { status?: number }) => e.status ?? 0,
      );
  /** 40 requests at once, spread over the three instances. */
  const burst = (key: string) => Promise.all(Array.from({ length: 40 }, (_, i) => ask(gateways[i % 3]!, key)));

  /** Not in the last seconds of a minute: the burst's requests all fall in one rate window. */
  async function awayFromMinuteEnd(): Promise<void> {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 8000) await Bun.sleep(left + 50);
  }

  test("40 concurrent requests never spend more than 1.05× the budget", async () => {
    const budgetTicks = 52_800; // 3.2 times what one request may cost (16500 ticks)
    const k = await createKey(gateways[0]!.url, { name: "crowd", budget_usd: budgetTicks / 1e10, budget_period: "month" });
    for (const g of gateways) await waitForPrices(g, k.key);
    const before = servedCost(fake);
    const results = await burst(k.key);
    expect(results.filter((s) => s !== 200 && s !== 402)).toEqual([]);
    const spent = servedCost(fake) - before;
    expect(spent).toBeLessThanOrEqual(1.05 * budgetTicks);
    expect(results.filter((s) => s === 200).length).toBe(3);
    // Every instance sees the same spend: the one in Redis, settled from the real costs.
    for (const g of gateways) {
      let usd = 0;
      for (let i = 0; i < 100 && usd !== spent / 1e10; i++) {
        usd = (await adminCall(g.url, "GET", "/keys")).body.data.find((x: any) => x.id === k.id).spend_usd;
        if (usd !== spent / 1e10) await Bun.sleep(20);
      }
      expect(usd).toBe(spent / 1e10);
    }
  }, 60_000);

  test("rpm = 5 serves exactly 5 of 40 concurrent requests, across the instances", async () => {
    const k = await createKey(gateways[1]!.url, { name: "five", rpm: 5 });
    // Known to every instance (each reads the store's keys every 2 s, or on a miss).
    for (const g of gateways) await waitForPrices(g, k.key);
    await awayFromMinuteEnd();
    const results = await burst(k.key);
    expect(results.filter((s) => s === 200).length).toBe(5);
    expect(results.filter((s) => s === 429).length).toBe(35);
  }, 60_000);
});
