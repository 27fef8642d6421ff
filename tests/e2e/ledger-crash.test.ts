/**
 * The ledger survives a crash: the server, run as a process, answers N requests (JSON and
 * streams, on both faces) and is killed with SIGKILL the moment the last answer is in; every one
 * of the N is in the ledger, once, and the restarted server counts them (usage and budget). On
 * SQLite (a file in WAL mode) and, when it is installed, on a real Postgres.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chunk, completion, streamOf, textChunks, usage, xaiError } from "../helpers/fake-upstream";
import { ServerProcess } from "../helpers/process";
import { PostgresServer, postgresBin } from "../helpers/services";
import { useFakeUpstream } from "../helpers/setup";
import { ADMIN_TOKEN, adminCall, createKey, tempDir, UPSTREAM_KEY } from "../helpers/teams";

const fake = useFakeUpstream();
const running: ServerProcess[] = [];
const dirs: Array<() => void> = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.kill();
  for (const c of dirs.splice(0)) c();
});

const U = { ...usage(20, 7), cost_in_usd_ticks: 3000 };
const answer = () =>
  fake.on((req) => (req.body?.stream ? streamOf(textChunks("Hello from fake Grok", { usage: U })) : Response.json(completion({ content: "Hello from fake Grok" }, "stop", U))));

async function start(storeUrl: string, logFile: string): Promise<ServerProcess> {
  const s = await ServerProcess.start([], {
    XAI_API_KEY: UPSTREAM_KEY,
    XAI_BASE_URL: fake.baseUrl,
    GROK2API_ADMIN_TOKEN: ADMIN_TOKEN,
    GROK2API_STORE_URL: storeUrl,
    GROK2API_PORT: "0",
    GROK2API_LOG_FILE: logFile,
  });
  running.push(s);
  return s;
}

/** Ten answers a client received whole: JSON and streams on /v1/messages and /v1/chat/completions. */
async function tenAnswers(url: string, key: string): Promise<void> {
  const anthropic = new Anthropic({ baseURL: url, apiKey: key, maxRetries: 0 });
  const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
  const params = { model: "grok-3-mini", max_tokens: 32, messages: [{ role: "user" as const, content: "Hi" }] };
  for (let i = 0; i < 3; i++) expect((await anthropic.messages.create(params)).usage.output_tokens).toBe(7);
  for (let i = 0; i < 3; i++) expect((await anthropic.messages.stream(params).finalMessage()).stop_reason).toBe("end_turn");
  for (let i = 0; i < 2; i++) expect((await openai.chat.completions.create({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }] })).usage?.total_tokens).toBe(27);
  for (let i = 0; i < 2; i++) {
    const s = await openai.chat.completions.create({ model: "grok-3-mini", messages: [{ role: "user", content: "Hi" }], stream: true, stream_options: { include_usage: true } });
    let last: unknown;
    for await (const c of s) last = c;
    expect((last as { usage?: unknown }).usage).toBeTruthy();
  }
}

/** Kill -9 after ten answers, then: ten rows, ten distinct requests; a restart counts all ten once. */
async function crashAfterTen(storeUrl: string, dir: string, count: () => Promise<{ rows: number; ids: number }>): Promise<void> {
  answer();
  const first = await start(storeUrl, `${dir}/first.log`);
  const k = await createKey(first.url, { name: "crash", budget_usd: 0.0000033, budget_period: "total" }); // 11 answers of 3000 ticks
  await tenAnswers(first.url, k.key);
  first.signal("SIGKILL");
  await first.exited;
  expect(await count()).toEqual({ rows: 10, ids: 10 });

  const second = await start(storeUrl, `${dir}/second.log`);
  const rows = (await adminCall(second.url, "GET", "/usage?group_by=key")).body.data;
  expect(rows).toEqual([{ key_id: k.id, key_name: "crash", requests: 10, input_tokens: 200, output_tokens: 70, cached_tokens: 0, cost_usd: 0.000003 }]);
  // The budget counts them: one more fits, then it is spent.
  const anthropic = new Anthropic({ baseURL: second.url, apiKey: k.key, maxRetries: 0 });
  await anthropic.messages.create({ model: "grok-3-mini", max_tokens: 32, messages: [{ role: "user", content: "Hi" }] });
  const e = await anthropic.messages.create({ model: "grok-3-mini", max_tokens: 32, messages: [{ role: "user", content: "Hi" }] }).then(
    () => undefined,
    (err) => err,
  );
  expect(e?.status).toBe(402);
  second.signal("SIGTERM");
  expect(await second.exited).toBe(0);
  expect(await count()).toEqual({ rows: 11, ids: 11 });
}

describe("the ledger after kill -9", () => {
  test("SQLite: every answered request is there once", async () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    const file = `${t.dir}/ledger.db`;
    await crashAfterTen(`sqlite://${file}`, t.dir, async () => {
      const db = new Database(file);
      try {
        const r = db.query("SELECT COUNT(*) AS rows, COUNT(DISTINCT request_id) AS ids FROM ledger").get() as { rows: number; ids: number };
        return { rows: r.rows, ids: r.ids };
      } finally {
        db.close();
      }
    });
  }, 60_000);

  const bin = postgresBin();
  describe.skipIf(!bin)("on Postgres", () => {
    let pg: PostgresServer;
    beforeAll(async () => {
      pg = await PostgresServer.start(bin!);
    }, 60_000);
    afterAll(async () => {
      await pg?.stop();
    });

    test("Postgres: every answered request is there once", async () => {
      const t = tempDir();
      dirs.push(t.cleanup);
      const url = await pg.database("crash");
      await crashAfterTen(url, t.dir, async () => {
        const sql = new SQL(url, { max: 1 });
        try {
          const [r] = await sql`SELECT COUNT(*) AS rows, COUNT(DISTINCT request_id) AS ids FROM ledger`;
          return { rows: Number(r.rows), ids: Number(r.ids) };
        } finally {
          await sql.close();
        }
      });
    }, 60_000);
  });
});

/**
 * A failed answer is in the ledger by the time the client hears of the failure: an upstream error
 * answered as JSON, and streams cut short after the 200 (their error event, on both faces). The
 * server is killed the moment each failure is in, then restarted on the same ledger.
 */
describe("failed answers after kill -9", () => {
  test("SQLite: each failure the client saw is there once", async () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    const file = `${t.dir}/ledger.db`;
    // "cut": a few words, then the connection ends without a finish or [DONE]; "bad": the upstream refuses.
    fake.on((req) => {
      const content = req.body?.messages?.at(-1)?.content;
      if (content === "bad") return xaiError(400, "the upstream refuses this one");
      return streamOf([chunk({ role: "assistant", content: "Hello" }), chunk({ content: " from" })], { done: false });
    });
    const rows = () => {
      const db = new Database(file);
      try {
        return (db.query("SELECT COUNT(*) AS n FROM ledger").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const params = (content: string) => ({ model: "grok-3-mini", max_tokens: 32, messages: [{ role: "user" as const, content }] });
    const failures: Array<[string, (url: string, key: string) => Promise<unknown>]> = [
      ["/v1/messages, upstream 400", (url, key) => new Anthropic({ baseURL: url, apiKey: key, maxRetries: 0 }).messages.create(params("bad"))],
      ["/v1/messages stream cut", (url, key) => new Anthropic({ baseURL: url, apiKey: key, maxRetries: 0 }).messages.stream(params("cut")).finalMessage()],
      [
        "/v1/messages with a stop sequence (JSON from a stream), cut",
        (url, key) => new Anthropic({ baseURL: url, apiKey: key, maxRetries: 0 }).messages.create({ ...params("cut"), stop_sequences: ["###"] }),
      ],
      [
        "/v1/chat/completions stream cut",
        async (url, key) => {
          const s = await new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions.create({ model: "grok-3-mini", messages: [{ role: "user", content: "cut" }], stream: true });
          for await (const _ of s);
        },
      ],
    ];
    let key = "";
    for (const [i, [what, fail]] of failures.entries()) {
      const server = await start(`sqlite://${file}`, `${t.dir}/run${i}.log`);
      key ||= (await createKey(server.url, { name: "failing" })).key;
      const err = await fail(server.url, key).then(
        () => undefined,
        (e) => e,
      );
      expect(err ? `${what}: failed` : `${what}: answered`).toBe(`${what}: failed`);
      server.signal("SIGKILL");
      await server.exited;
      expect(`${what}: ${rows()} rows`).toBe(`${what}: ${i + 1} rows`);
    }
  }, 60_000);
});
