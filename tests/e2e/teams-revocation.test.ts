/**
 * Virtual keys withdrawn everywhere, and unknown keys kept off the store (issue 20 §7, §8):
 *
 * - two gateways share one store: a key revoked on one stops working on the other within 2 s,
 *   and the streams open with it there (and here) end with an error event that says why;
 * - random invalid keys cost the store at most one lookup each while they are remembered as
 *   unknown (counted by the gateway's own metric, at the query), none at all when they cannot
 *   be a virtual key; a key made a moment ago on another instance still works at once.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chunk, completion, type Recorded } from "../helpers/fake-upstream";
import type { Gateway } from "../helpers/gateway";
import { heldStream, SseClient } from "../helpers/held-stream";
import { gate } from "../helpers/process";
import { parsePrometheus, valueOf } from "../helpers/prometheus";
import { PostgresServer, postgresBin, serviceAvailable } from "../helpers/services";
import { useFakeUpstream } from "../helpers/setup";
import { adminCall, createKey, teamsGateway, tempDir } from "../helpers/teams";

/** The bound the issue sets, from the revocation to the last instance. */
const WITHDRAWN_WITHIN_MS = 2000;

const fake = useFakeUpstream();
const gateways: Gateway[] = [];
const dirs: Array<() => void> = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.stop();
  for (const c of dirs.splice(0)) c();
});

/** Two gateways on one SQLite store (several instances, as a team runs them). */
async function twoOnOneStore(): Promise<[Gateway, Gateway]> {
  const t = tempDir();
  dirs.push(t.cleanup);
  const url = `sqlite://${t.dir}/shared.db`;
  const a = await teamsGateway(fake.baseUrl, url);
  const b = await teamsGateway(fake.baseUrl, url);
  gateways.push(a, b);
  return [a, b];
}

const ask = (g: Gateway, key: string) =>
  new Anthropic({ baseURL: g.url, apiKey: key, maxRetries: 0 }).messages.create({ model: "grok-3-mini", max_tokens: 8, messages: [{ role: "user", content: "Hi" }] });

/** Streams from the fake that send a first piece and then wait (until the test lets them go, or the gateway cuts them). */
function holdingStreams(): { release: () => void } {
  const g = gate();
  fake.on((req: Recorded) =>
    req.body?.stream
      ? heldStream([chunk({ role: "assistant", content: "Once upon" })], [chunk({}, "stop")], g.promise)
      : Response.json(completion({ content: "ok" })),
  );
  return { release: () => g.open() };
}

/** A stream on /v1/messages and one on /v1/chat/completions, each read up to its first piece. */
async function openStreams(g: Gateway, key: string): Promise<{ anthropic: SseClient; openai: SseClient }> {
  const post = (path: string, body: object) =>
    fetch(`${g.url}${path}`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": key }, body: JSON.stringify(body) });
  const a = new SseClient(await post("/v1/messages", { model: "grok-3-mini", max_tokens: 64, stream: true, messages: [{ role: "user", content: "Tell" }] }));
  const o = new SseClient(await post("/v1/chat/completions", { model: "grok-3-mini", stream: true, messages: [{ role: "user", content: "Tell" }] }));
  expect(await a.readUntil("Once upon")).toBe(true);
  expect(await o.readUntil("Once upon")).toBe(true);
  return { anthropic: a, openai: o };
}

/** Reads the stream to its end; the ms it took from `since`. */
async function endedAfter(s: SseClient, since: number): Promise<number> {
  await s.readAll();
  return performance.now() - since;
}

describe("a revoked key, on every instance", () => {
  test("stops working within 2 s on the other instance, and its open streams there and here end with an error event", async () => {
    const [a, b] = await twoOnOneStore();
    const { release } = holdingStreams();
    try {
      const k = await createKey(a.url, { name: "leaked" });
      expect((await ask(b, k.key)).content[0]).toMatchObject({ type: "text" }); // made on A, used on B at once
      const onB = await openStreams(b, k.key);
      const onA = await openStreams(a, k.key);

      const revoked = await adminCall(a.url, "DELETE", `/keys/${k.id}`);
      expect(revoked.status).toBe(200);
      const t0 = performance.now();

      // B refuses it within the bound.
      let refusedAfter = Infinity;
      while (performance.now() - t0 < WITHDRAWN_WITHIN_MS + 1000) {
        const e = await ask(b, k.key).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (e instanceof Anthropic.AuthenticationError) {
          refusedAfter = performance.now() - t0;
          expect((e.error as any).error.message).toContain("revoked");
          break;
        }
        await Bun.sleep(25);
      }
      expect(refusedAfter).toBeLessThan(WITHDRAWN_WITHIN_MS);

      // The streams end, with an error event naming why, never a message_stop.
      const [endA1, endA2, endB1, endB2] = await Promise.all([
        endedAfter(onA.anthropic, t0),
        endedAfter(onA.openai, t0),
        endedAfter(onB.anthropic, t0),
        endedAfter(onB.openai, t0),
      ]);
      for (const ms of [endA1, endA2, endB1, endB2]) expect(ms).toBeLessThan(WITHDRAWN_WITHIN_MS);
      for (const s of [onA.anthropic, onB.anthropic]) {
        expect(s.text).toContain("event: error");
        expect(s.text).toContain('"type":"authentication_error"');
        expect(s.text).toContain("revoked");
        expect(s.text).not.toContain("message_stop");
      }
      for (const s of [onA.openai, onB.openai]) {
        expect(s.text).toContain('"code":"authentication_error"');
        expect(s.text).toContain("revoked");
        expect(s.text).not.toContain("[DONE]");
      }
      // Each upstream request was stopped (the fake hears of it when the gateway's abort reaches its socket: waited for, within the bound).
      const upstreams = fake.requests.filter((r) => r.body?.stream);
      await Promise.race([Promise.all(upstreams.map((r) => r.closed)), Bun.sleep(WITHDRAWN_WITHIN_MS)]);
      expect(upstreams.every((r) => r.aborted())).toBe(true);
    } finally {
      release();
    }
  });

  test("a key made to expire ends its streams too; other keys' streams go on", async () => {
    const [a] = await twoOnOneStore();
    const { release } = holdingStreams();
    try {
      const soon = await createKey(a.url, { name: "short-lived", expires_at: new Date(Date.now() + 1500).toISOString() });
      const other = await createKey(a.url, { name: "other" });
      const s = await openStreams(a, soon.key);
      const o = await openStreams(a, other.key);
      const t0 = performance.now();
      expect(await endedAfter(s.anthropic, t0)).toBeLessThan(1500 + WITHDRAWN_WITHIN_MS);
      expect(s.anthropic.text).toContain("expired");
      await s.openai.readAll();
      expect(o.anthropic.done).toBe(false);
      release();
      expect(await o.anthropic.readAll()).toContain("message_stop");
      expect(await o.openai.readAll()).toContain("[DONE]");
    } finally {
      release();
    }
  });
});

/** This process's count of store lookups for presented keys (the metric is per process: deltas only). */
async function lookups(g: Gateway): Promise<number> {
  const m = parsePrometheus(await (await fetch(`${g.url}/metrics`)).text());
  if (!m.has("grok2api_key_store_lookups_total")) throw new Error("no grok2api_key_store_lookups_total metric");
  return valueOf(m, "grok2api_key_store_lookups_total", { result: "not_found" }) + valueOf(m, "grok2api_key_store_lookups_total", { result: "found" });
}

const randomKey = () => `g2a-${Array.from(crypto.getRandomValues(new Uint8Array(40)), (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[b % 62]).join("")}`;

describe("unknown keys", () => {
  test("each costs the store at most one lookup while it is remembered, however many requests present it at once", async () => {
    const [a] = await twoOnOneStore();
    fake.on(() => Response.json(completion({ content: "ok" })));
    const before = await lookups(a);
    const distinct = Array.from({ length: 10 }, randomKey);
    const answers = await Promise.all(distinct.flatMap((key) => Array.from({ length: 20 }, () => ask(a, key).then(() => 200, (e: any) => e.status))));
    expect(answers.every((s) => s === 401)).toBe(true);
    expect((await lookups(a)) - before).toBe(distinct.length);
    expect(fake.requests).toHaveLength(0);
  });

  test("keys that cannot be virtual keys are refused without a lookup", async () => {
    const [a] = await twoOnOneStore();
    const before = await lookups(a);
    for (const key of ["sk-ant-api03-something", "g2a-short", `g2a-${"a".repeat(39)}!`, "xai-" + "b".repeat(60)]) {
      expect(await ask(a, key).then(() => 200, (e: any) => e.status)).toBe(401);
    }
    expect((await lookups(a)) - before).toBe(0);
  });

  test("a key made on another instance a moment ago works at once", async () => {
    const [a, b] = await twoOnOneStore();
    fake.on(() => Response.json(completion({ content: "ok" })));
    for (let i = 0; i < 3; i++) {
      const k = await createKey(a.url, { name: `fresh-${i}` });
      expect((await ask(b, k.key)).content[0]).toMatchObject({ type: "text", text: "ok" });
    }
  });
});


const pgBin = postgresBin();

describe.skipIf(!serviceAvailable("postgres", pgBin))("on a real Postgres (queries that overlap)", () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await PostgresServer.start(pgBin!);
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  }, 30_000);
  let n = 0;
  const two = async (): Promise<[Gateway, Gateway]> => {
    const url = await pg.database(`revocation_${n++}`);
    const a = await teamsGateway(fake.baseUrl, url);
    const b = await teamsGateway(fake.baseUrl, url);
    gateways.push(a, b);
    return [a, b];
  };

  test("unknown keys presented many times at once: one lookup each", async () => {
    const [a] = await two();
    const before = await lookups(a);
    const distinct = Array.from({ length: 10 }, randomKey);
    const answers = await Promise.all(distinct.flatMap((key) => Array.from({ length: 20 }, () => ask(a, key).then(() => 200, (e: any) => e.status))));
    expect(answers.every((s) => s === 401)).toBe(true);
    expect((await lookups(a)) - before).toBe(distinct.length);
  });

  test("a key revoked on one instance stops working on the other within 2 s, its streams there ended", async () => {
    const [a, b] = await two();
    const { release } = holdingStreams();
    try {
      const k = await createKey(a.url, { name: "pg-leaked" });
      const onB = await openStreams(b, k.key);
      expect((await adminCall(a.url, "DELETE", `/keys/${k.id}`)).status).toBe(200);
      const t0 = performance.now();
      expect(await endedAfter(onB.anthropic, t0)).toBeLessThan(WITHDRAWN_WITHIN_MS);
      expect(onB.anthropic.text).toContain('"type":"authentication_error"');
      await onB.openai.readAll();
      expect(onB.openai.text).toContain('"code":"authentication_error"');
      const e = await ask(b, k.key).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(Anthropic.AuthenticationError);
    } finally {
      release();
    }
  });
});
