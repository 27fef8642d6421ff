/**
 * The ledger and virtual keys on a real Postgres (initdb into a temp dir, the
 * server on a free loopback port, stopped after): the same code and migrations
 * as SQLite. Totals equal the upstream's usage, budgets hold, and everything
 * survives a restart of the gateway; two gateways share the one ledger.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { completion, streamOf, type FakeUpstream, textChunks, usage } from "../helpers/fake-upstream";
import type { Gateway } from "../helpers/gateway";
import { PostgresServer, postgresBin, serviceAvailable } from "../helpers/services";
import { useFakeUpstreams } from "../helpers/setup";
import { adminCall, createKey, teamsGateway } from "../helpers/teams";

const bin = postgresBin();
const run = serviceAvailable("postgres", bin);

describe.skipIf(!run)("teams on a real Postgres", () => {
  // Made in the hook (not at collection), so a skipped run starts no server; stopped after the file.
  const fakes = useFakeUpstreams();
  let fake: FakeUpstream;
  let pg: PostgresServer;
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    fake = fakes();
    const u = { ...usage(20, 7, { cached: 8 }), cost_in_usd_ticks: 3000 };
    fake.on((req) =>
      req.body?.stream ? streamOf(textChunks("Hi from fake Grok", { usage: u })) : Response.json(completion({ content: "Hi from fake Grok" }, "stop", u)),
    );
    pg = await PostgresServer.start(bin!);
  }, 60_000);
  afterAll(async () => {
    for (const g of gateways) await g.stop();
    await pg?.stop();
  }, 30_000);

  const start = async (url: string) => {
    const g = await teamsGateway(fake.baseUrl, url);
    gateways.push(g);
    return g;
  };
  const ask = (g: Gateway, key: string) =>
    new Anthropic({ baseURL: g.url, apiKey: key, maxRetries: 0 }).messages.create({
      model: "grok-3-mini",
      max_tokens: 16,
      messages: [{ role: "user", content: "Hi" }],
    });

  test("ledger totals equal the upstream's usage, budgets hold, and all of it survives a restart", async () => {
    const url = await pg.database("ledger_a");
    const g1 = await start(url);
    const k = await createKey(g1.url, { name: "pg-alice", budget_usd: 0.0000012, budget_period: "month", models: ["grok-*"] });
    await ask(g1, k.key);
    const s = new Anthropic({ baseURL: g1.url, apiKey: k.key, maxRetries: 0 }).messages.stream({
      model: "grok-3-mini",
      max_tokens: 16,
      messages: [{ role: "user", content: "Hi" }],
    });
    await s.finalMessage();
    const o = await new OpenAI({ baseURL: `${g1.url}/v1`, apiKey: k.key, maxRetries: 0 }).chat.completions.create({
      model: "grok-3-mini",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(o.usage?.prompt_tokens).toBe(20);
    const expected = { key_id: k.id, key_name: "pg-alice", requests: 3, input_tokens: 36, output_tokens: 21, cached_tokens: 24, cost_usd: 0.0000009 };
    expect((await adminCall(g1.url, "GET", "/usage?group_by=key")).body.data).toEqual([expected]);
    await g1.stop();

    const g2 = await start(url);
    expect((await adminCall(g2.url, "GET", "/usage?group_by=key")).body.data).toEqual([expected]);
    const today = new Date().toISOString().slice(0, 10);
    expect((await adminCall(g2.url, "GET", `/usage?group_by=day&from=${today}`)).body.data).toEqual([
      { day: today, requests: 3, input_tokens: 36, output_tokens: 21, cached_tokens: 24, cost_usd: 0.0000009 },
    ]);
    const listed = (await adminCall(g2.url, "GET", "/keys")).body.data;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: k.id, name: "pg-alice", budget_usd: 0.0000012, models: ["grok-*"], spend_usd: 0.0000009 });
    // One more fits the budget (12000 ticks); then it is spent.
    await ask(g2, k.key);
    const e = await ask(g2, k.key).then(
      () => undefined,
      (err: any) => err,
    );
    expect(e?.status).toBe(402);
    expect(e.error.error.type).toBe("billing_error");
  }, 60_000);

  test("two gateways share one ledger: a key made on one works on the other, revocation reaches both", async () => {
    const url = await pg.database("ledger_b");
    const a = await start(url);
    const b = await start(url);
    const k = await createKey(a.url, { name: "pg-bob" });
    await ask(b, k.key);
    await ask(a, k.key);
    await adminCall(b.url, "DELETE", `/keys/${k.id}`);
    // The other instance re-reads the keys every 2 s.
    let status = 200;
    for (let i = 0; i < 60 && status === 200; i++) {
      status = await ask(a, k.key).then(
        () => 200,
        (e: any) => e.status,
      );
      if (status === 200) await Bun.sleep(100);
    }
    expect(status).toBe(401);
    const rows = (await adminCall(a.url, "GET", `/usage?key_id=${k.id}&group_by=model`)).body.data;
    // Both instances' rows, once the other's queue is written (at most a second later).
    let total = rows[0]?.requests ?? 0;
    for (let i = 0; i < 40 && total < 2; i++) {
      await Bun.sleep(100);
      total = (await adminCall(a.url, "GET", `/usage?key_id=${k.id}&group_by=model`)).body.data[0]?.requests ?? 0;
    }
    expect(total).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
