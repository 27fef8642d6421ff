/**
 * Budgets are reserved, not just checked: a request holds its cost bound (input estimate and
 * output cap at the catalog's prices) from admission until it ends, so concurrent requests on
 * one key never spend much past its budget. One gateway, in memory; the real server with the
 * official SDKs against a fake xAI that lists prices and answers with as many tokens as allowed.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterEach, describe, expect, test } from "bun:test";
import { completion, usage, type Recorded } from "../helpers/fake-upstream";
import { gate } from "../helpers/process";
import { useFakeUpstream } from "../helpers/setup";
import { startGateway, type Gateway } from "../helpers/gateway";
import { recordsConfig } from "../helpers/records";
import { ADMIN_TOKEN, adminCall, createKey, teamsGateway, tempDir, UPSTREAM_KEY } from "../helpers/teams";
import { pricedAnswer, servedCost, waitForPrices } from "../helpers/priced";

const fake = useFakeUpstream();
const gateways: Gateway[] = [];
const dirs: Array<() => void> = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.stop();
  for (const c of dirs.splice(0)) c();
});

async function gateway(): Promise<Gateway> {
  const t = tempDir();
  dirs.push(t.cleanup);
  const g = await teamsGateway(fake.baseUrl, `sqlite://${t.dir}/ledger.db`, { catalog: { refreshMs: 60_000 } });
  gateways.push(g);
  return g;
}

const ask = (g: Gateway, key: string) =>
  new Anthropic({ baseURL: g.url, apiKey: key, maxRetries: 0 }).messages.create({ model: "grok-3-mini", max_tokens: 16, messages: [{ role: "user", content: "Hi" }] });
const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { status?: number }) => e.status ?? 0,
  );
const spentUsd = async (g: Gateway, id: string) => (await adminCall(g.url, "GET", "/keys")).body.data.find((k: any) => k.id === id).spend_usd as number;

describe("budgets are reserved at admission", () => {
  test("40 concurrent requests on a key whose budget covers three: three are served, the rest 402, the budget holds", async () => {
    fake.on(pricedAnswer({ delayMs: 100 }));
    const g = await gateway();
    // "Hi" with max_tokens 16 may cost 5 × 100 + 16 × 1000 = 16500 ticks; it costs 4 × 100 + 16 × 1000 = 16400.
    const budgetTicks = 52_800; // 3.2 bounds
    const k = await createKey(g.url, { name: "crowd", budget_usd: budgetTicks / 1e10, budget_period: "day" });
    await waitForPrices(g, k.key);
    const results = await Promise.all(Array.from({ length: 40 }, () => ask(g, k.key).then(() => 200, (e) => e)));
    const served = results.filter((r) => r === 200).length;
    expect(served).toBe(3);
    const refused = results.filter((r) => r !== 200) as any[];
    expect(refused).toHaveLength(37);
    for (const e of refused) {
      expect(e.status).toBe(402);
      expect(e.error.error.type).toBe("billing_error");
    }
    // What is left, what the request needed, and how to need less.
    expect(refused[0].error.error.message).toContain("left of its daily budget of $0.00000528");
    expect(refused[0].error.error.message).toContain("this request may cost up to $0.00000165");
    expect(refused[0].error.error.message).toContain("a lower max_tokens needs less");
    expect(servedCost(fake)).toBe(3 * 16_400);
    const spent = await spentUsd(g, k.id);
    expect(spent).toBe(0.00000492);
    expect(spent).toBeLessThanOrEqual((1.05 * budgetTicks) / 1e10);
  }, 60_000);

  test("a request in flight holds its bound: another that does not fit beside it waits its turn; a failure gives it back", async () => {
    const hold = gate();
    let failing = true;
    fake.on(async (req: Recorded, n) => {
      if (req.path === "/v1/language-models") return pricedAnswer()(req, n);
      if (req.body?.messages?.[0]?.content === "slow") {
        await hold.promise;
        if (failing) return Response.json({ code: "bad", error: "the upstream broke" }, { status: 400 });
      }
      return pricedAnswer()(req, n);
    });
    const g = await gateway();
    const k = await createKey(g.url, { name: "careful", budget_usd: 0.0000025, budget_period: "total" }); // 25000 ticks: one bound and a half
    await waitForPrices(g, k.key);
    const anthropic = new Anthropic({ baseURL: g.url, apiKey: k.key, maxRetries: 0 });
    const slow = status(anthropic.messages.create({ model: "grok-3-mini", max_tokens: 16, messages: [{ role: "user", content: "slow" }] }));
    const seen = () => fake.requests.some((r) => r.body?.messages?.[0]?.content === "slow");
    for (let i = 0; i < 1000 && !seen(); i++) await Bun.sleep(10);
    expect(seen()).toBe(true);
    // 16500 held by the slow one: another 16500 does not fit in 25000.
    const e = await ask(g, k.key).then(
      () => undefined,
      (err) => err,
    );
    expect(e ? `${e.status} ${e.message}` : "served").toStartWith("402 ");
    expect(e.error.error.message).toContain("$0.00000165 held by requests in flight");
    hold.open();
    expect(await slow).toBe(400);
    // It failed before anything was charged: its hold is released, and the next one fits.
    expect(await status(ask(g, k.key))).toBe(200);
    expect(await spentUsd(g, k.id)).toBe(0.00000164);
  }, 60_000);

  test("the bound follows the output cap on the OpenAI face: max_completion_tokens, or the model's when unset", async () => {
    fake.on(pricedAnswer());
    const g = await gateway();
    const k = await createKey(g.url, { name: "chatty", budget_usd: 0.00001, budget_period: "month" }); // 100000 ticks
    await waitForPrices(g, k.key);
    const openai = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: k.key, maxRetries: 0 });
    const chat = (extra: Record<string, number>) => openai.chat.completions.create({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }], ...extra });
    expect((await chat({ max_completion_tokens: 16 })).usage?.completion_tokens).toBe(16);
    const tooMany = await chat({ max_completion_tokens: 1000 }).then(
      () => undefined,
      (err) => err,
    );
    expect(tooMany?.status).toBe(402);
    expect(tooMany.message).toContain("up to 1000 output tokens");
    const uncapped = await chat({}).then(
      () => undefined,
      (err) => err,
    );
    expect(uncapped?.status).toBe(402);
    expect(uncapped.message).toContain("a lower max_tokens needs less");
    expect((await chat({ max_tokens: 32 })).usage?.completion_tokens).toBe(32);
  }, 60_000);

  test("a batch's creation holds what its requests may cost only while it is admitted: they run, and the key can still be used", async () => {
    fake.on(pricedAnswer());
    const t = tempDir();
    dirs.push(t.cleanup);
    const g = startGateway(fake.baseUrl, {
      upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] },
      admin: { token: ADMIN_TOKEN },
      catalog: { refreshMs: 60_000 },
      ...recordsConfig(t.dir),
    });
    gateways.push(g);
    await g.ready;
    const k = await createKey(g.url, { name: "batcher", budget_usd: 52_800 / 1e10, budget_period: "day" }); // 3.2 bounds
    await waitForPrices(g, k.key);
    const client = new Anthropic({ baseURL: g.url, apiKey: k.key, maxRetries: 0 });
    const params = (text: string) => ({ model: "grok-3-mini", max_tokens: 16, messages: [{ role: "user" as const, content: text }] });
    // Both requests' bounds (2 × 16500) must fit at creation; then each holds its own as it runs.
    const made = await client.messages.batches.create({ requests: [{ custom_id: "a", params: params("Hi") }, { custom_id: "b", params: params("Ho") }] });
    let b = await client.messages.batches.retrieve(made.id);
    for (let waited = 0; b.processing_status !== "ended" && waited < 10_000; waited += 20) {
      await Bun.sleep(20);
      b = await client.messages.batches.retrieve(made.id);
    }
    expect(b.request_counts).toMatchObject({ succeeded: 2, errored: 0 });
    // 2 × 16400 spent; the creation holds nothing any more: a third request fits.
    expect(await status(ask(g, k.key))).toBe(200);
    expect(await status(ask(g, k.key))).toBe(402);
  }, 60_000);

  test("a model without a known price holds nothing: its requests are refused once the budget is used up", async () => {
    fake.on((req) => (req.path === "/v1/language-models" ? Response.json({ models: [] }) : Response.json(completion({ content: "ok" }, "stop", { ...usage(4, 16), cost_in_usd_ticks: 4000 }))));
    const g = await gateway();
    const k = await createKey(g.url, { name: "unpriced", budget_usd: 0.0000006, budget_period: "day" });
    for (let i = 0; i < 2; i++) expect(await status(ask(g, k.key))).toBe(200);
    expect(await status(ask(g, k.key))).toBe(402);
  });
});
