/**
 * Message Batches (/v1/messages/batches) with the official SDK (`client.messages.batches.*`):
 * run by the gateway itself (through its own /v1/messages path) and through xAI's Batch API
 * (the fake in tests/helpers/fake-xai-apis.ts); results in the shape the SDK's `results()`
 * reads; list paging, cancel, delete; validation of every request at create time; per-key
 * isolation; virtual keys and the ledger; a restart in the middle of a batch.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { completion, hang, usage, type Recorded } from "../helpers/fake-upstream";
import { logText, type Gateway } from "../helpers/gateway";
import { answer } from "../helpers/fake-responses";
import { FakeXaiApis, lastUserText, type FakeBatchRequest } from "../helpers/fake-xai-apis";
import { gate } from "../helpers/process";
import { recordsConfig } from "../helpers/records";
import { clientFor, useFakeUpstream, useGateways } from "../helpers/setup";
import { ADMIN_TOKEN, adminCall, createKey, UPSTREAM_KEY } from "../helpers/teams";
import { tempDir } from "../helpers/temp";

const fake = useFakeUpstream();
const start = useGateways(fake);
const xai = new FakeXaiApis();

const KEYS = ["key-a-0123456789", "key-b-0123456789"];

/** The text of a chat completions body's last user turn. */
const userText = (req: Recorded) => lastUserText(req.body ?? {});

/** The fake: xAI's Batch and Files APIs, and an echo for chat completions and Responses; `FAIL` in a prompt is a 400. */
function echo(extra?: (req: Recorded) => Response | Promise<Response> | undefined) {
  fake.on((req) => {
    const own = xai.handle(req) ?? extra?.(req);
    if (own) return own;
    const text = userText(req);
    if (text.includes("FAIL")) return Response.json({ code: "Client specified an invalid argument", error: "the upstream refused this prompt" }, { status: 400 });
    if (req.path.endsWith("/responses")) return answer({ text: [`Echo: ${text}`] })(req, 0);
    return Response.json(completion({ content: `Echo: ${text}` }, "stop", { ...usage(20, 7), cost_in_usd_ticks: 5000 }));
  });
}

const ask = (custom_id: string, text: string, model = "grok-4.3") => ({
  custom_id,
  params: { model, max_tokens: 64, messages: [{ role: "user" as const, content: text }] },
});

/** Polls the batch until it has ended (a bounded wait, not a timing assertion). */
async function ended(client: Anthropic, id: string, maxMs = 10_000): Promise<Anthropic.Messages.MessageBatch> {
  let b = await client.messages.batches.retrieve(id);
  for (let waited = 0; b.processing_status !== "ended" && waited < maxMs; waited += 20) {
    await Bun.sleep(20);
    b = await client.messages.batches.retrieve(id);
  }
  return b;
}

async function resultsOf(client: Anthropic, id: string) {
  const out: Record<string, Anthropic.Messages.MessageBatchResult> = {};
  for await (const line of await client.messages.batches.results(id)) out[line.custom_id] = line.result;
  return out;
}

const chats = () => fake.requests.filter((r) => r.path.endsWith("/chat/completions") || r.path.endsWith("/responses"));

describe("run by the gateway (no batch API upstream)", () => {
  test("create → in_progress, each request through /v1/messages, → ended; results() as the SDK reads them; list pages; delete", async () => {
    echo();
    const gw = start({ clientKeys: KEYS, ...recordsConfig() });
    const client = clientFor(gw, KEYS[0]);
    const created = await client.messages.batches.create({ requests: [ask("first", "one"), ask("second", "two"), ask("third", "three")] });
    expect(created).toMatchObject({
      type: "message_batch",
      processing_status: "in_progress",
      request_counts: { processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      results_url: null,
    });
    expect(created.id).toMatch(/^msgbatch_/);
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(24 * 3600 * 1000);

    const done = await ended(client, created.id);
    expect(done).toMatchObject({ processing_status: "ended", request_counts: { processing: 0, succeeded: 3, errored: 0, canceled: 0, expired: 0 } });
    expect(done.ended_at).not.toBeNull();
    expect(done.results_url).toBe(`/v1/messages/batches/${created.id}/results`);

    const results = await resultsOf(client, created.id);
    expect(Object.keys(results).sort()).toEqual(["first", "second", "third"]);
    const first = results.first as Anthropic.Messages.MessageBatchSucceededResult;
    expect(first.type).toBe("succeeded");
    expect(first.message).toMatchObject({ type: "message", role: "assistant", model: "grok-4.3", content: [{ type: "text", text: "Echo: one" }], stop_reason: "end_turn" });
    // Each request took the /v1/messages path (non-streaming), logged with its batch.
    expect(chats().length).toBe(3);
    expect(chats().every((r) => r.body.stream !== true)).toBe(true);
    const log = await logText(gw.logFile, (t) => (t.match(new RegExp(`"batch_id":"${created.id}"`, "g")) ?? []).length >= 4);
    const lines = log.split("\n").filter((l) => l.includes(`"batch_id":"${created.id}"`) && l.includes(`"path":"/v1/messages"`));
    expect(lines.length).toBe(3);

    // A second batch: newest first, one per page.
    const later = await client.messages.batches.create({ requests: [ask("only", "four")] });
    const page = await client.messages.batches.list({ limit: 1 });
    expect(page.data.map((b) => b.id)).toEqual([later.id]);
    expect(page.has_more).toBe(true);
    const ids = [];
    for await (const b of client.messages.batches.list({ limit: 1 })) ids.push(b.id);
    expect(ids).toEqual([later.id, created.id]);
    const before = await client.messages.batches.list({ before_id: created.id, limit: 5 });
    expect(before.data.map((b) => b.id)).toEqual([later.id]);

    expect(await client.messages.batches.delete(created.id)).toEqual({ id: created.id, type: "message_batch_deleted" });
    const gone = await client.messages.batches.retrieve(created.id).catch((e) => e);
    expect(gone).toBeInstanceOf(Anthropic.NotFoundError);
  });

  test("an upstream refusal is an `errored` result in Anthropic's envelope; cancel stops what has not started; an in-progress batch cannot be deleted", async () => {
    const held = gate();
    echo((req) => (userText(req) === "slow" ? held.promise.then(() => Response.json(completion({ content: "Echo: slow" }))) : undefined));
    const gw = start({ clientKeys: KEYS, ...recordsConfig(undefined, { concurrency: 1 }) });
    const client = clientFor(gw, KEYS[0]);

    const mixed = await client.messages.batches.create({ requests: [ask("good", "fine"), ask("bad", "please FAIL")] });
    await ended(client, mixed.id);
    const r = await resultsOf(client, mixed.id);
    expect(r.good!.type).toBe("succeeded");
    expect(r.bad).toEqual({
      type: "errored",
      error: { type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("the upstream refused this prompt") }, request_id: expect.stringMatching(/^req_/) },
    } as never);

    const slow = await client.messages.batches.create({ requests: [ask("a", "slow"), ask("b", "never"), ask("c", "never")] });
    // The first request is with the upstream: the batch cannot be deleted yet.
    for (let i = 0; i < 500 && !chats().some((q) => userText(q) === "slow"); i++) await Bun.sleep(10);
    const early = await client.messages.batches.delete(slow.id).catch((e) => e);
    expect(early).toBeInstanceOf(Anthropic.BadRequestError);
    expect(early.message).toContain("cancel it first");
    const canceling = await client.messages.batches.cancel(slow.id);
    expect(canceling.processing_status).toBe("canceling");
    expect(canceling.cancel_initiated_at).not.toBeNull();
    held.open();
    const done = await ended(client, slow.id);
    expect(done.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 0, canceled: 2, expired: 0 });
    const results = await resultsOf(client, slow.id);
    expect(results.b).toEqual({ type: "canceled" });
    expect(chats().filter((q) => userText(q) === "never").length).toBe(0);
  });
});

describe("the gateway's own rules", () => {
  test("results are kept for [batches] retention, then the batch is archived: counts stay, results go (results_url null, 404)", async () => {
    echo();
    const gw = start({ clientKeys: KEYS, ...recordsConfig(undefined, { retentionMs: 1 }) });
    const client = clientFor(gw, KEYS[0]);
    const made = await client.messages.batches.create({ requests: [ask("old", "soon gone")] });
    let b = await ended(client, made.id);
    for (let i = 0; i < 500 && !b.archived_at; i++) {
      await Bun.sleep(10);
      b = await client.messages.batches.retrieve(made.id);
    }
    expect(b).toMatchObject({ processing_status: "ended", results_url: null, request_counts: { succeeded: 1 } });
    expect(b.archived_at).not.toBeNull();
    const sdk = await client.messages.batches.results(made.id).catch((e) => e);
    expect(sdk.message).toContain("No batch `results_url`");
    const direct = await fetch(`${gw.url}/v1/messages/batches/${made.id}/results`, { headers: { "x-api-key": KEYS[0]! } });
    expect(direct.status).toBe(404);
    expect(((await direct.json()) as any).error.message).toContain("no longer kept");
  });

  test("forwarding client keys (no upstream key): each request goes upstream with the key of the client that made the batch", async () => {
    echo();
    const gw = start({ upstream: { baseUrl: fake.baseUrl, keys: [] }, ...recordsConfig() });
    const client = clientFor(gw, "xai-client-own-key-0123456789");
    const made = await client.messages.batches.create({ requests: [ask("mine", "with my key")] });
    expect((await ended(client, made.id)).request_counts.succeeded).toBe(1);
    expect(chats().map((r) => r.headers.get("authorization"))).toEqual(["Bearer xai-client-own-key-0123456789"]);
  });

  test("the gateway's internal requests cannot be imitated: a wrong internal token is a 401; a bad list query a 400 naming it", async () => {
    echo();
    const gw = start({ ...recordsConfig() });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-grok2api-internal": "guess", "x-grok2api-batch": "msgbatch_x" },
      body: JSON.stringify(ask("x", "y").params),
    });
    expect(res.status).toBe(401);
    expect(chats().length).toBe(0);
    const bad = await clientFor(gw).messages.batches.list({ limit: 0 }).catch((e) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect(bad.message).toContain("limit: expected an integer from 1 to 1000");
  });
});

describe("through xAI's Batch API", () => {
  const xaiGateway = (extra = {}) =>
    start({
      clientKeys: KEYS,
      upstream: { baseUrl: fake.baseUrl, keys: ["xai-test-upstream-key"], api: "responses" },
      ...recordsConfig(undefined, { upstream: true }),
      ...extra,
    });

  test("submitted at create time in xAI's dialect; counts from xAI's counters; chat-completion results → Messages with service_tier batch; errors → errored", async () => {
    echo();
    xai.batches.clear();
    xai.answer = (r: FakeBatchRequest) =>
      r.batch_request.responses?.model === "grok-3"
        ? { error: { code: 3, message: "Model grok-3 is not supported for batch processing." } }
        : { completion: completion({ content: `Batch answer to ${lastUserText(r.batch_request.responses)}` }, "stop", { ...usage(20, 7), cost_in_usd_ticks: 4_000_000 }) };
    const gw = xaiGateway();
    const client = clientFor(gw, KEYS[0]);
    const created = await client.messages.batches.create({
      requests: [ask("r1", "alpha"), ask("r2", "beta"), ask("r3", "gamma", "grok-3")],
    });
    expect(created.processing_status).toBe("in_progress");
    const up = xai.only;
    expect(up.name).toBe(created.id);
    expect(up.requests.map((r) => r.batch_request_id)).toEqual(["r1", "r2", "r3"]);
    // The Responses dialect, as /v1/messages would send it (no stream).
    expect(up.requests[0]!.batch_request.responses).toMatchObject({ model: "grok-4.3", store: false });
    expect(up.requests[0]!.batch_request.responses.stream).toBeUndefined();
    expect(chats().length).toBe(0);

    xai.process();
    const done = await ended(client, created.id);
    expect(done.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 });
    const results = await resultsOf(client, created.id);
    const r1 = results.r1 as Anthropic.Messages.MessageBatchSucceededResult;
    expect(r1.message).toMatchObject({ type: "message", model: "grok-4.3", content: [{ type: "text", text: "Batch answer to alpha" }], stop_reason: "end_turn" });
    expect(r1.message.usage).toMatchObject({ input_tokens: 20, output_tokens: 7, service_tier: "batch" });
    expect(results.r3).toEqual({
      type: "errored",
      error: { type: "error", error: { type: "invalid_request_error", message: "xAI: Model grok-3 is not supported for batch processing." }, request_id: null },
    } as never);
    // Nothing went through the model routes: xAI ran every request.
    expect(chats().length).toBe(0);
  });

  test("cancel reaches xAI (`:cancel`); what it had not run comes back canceled", async () => {
    echo();
    xai.batches.clear();
    const gw = xaiGateway();
    const client = clientFor(gw, KEYS[0]);
    const created = await client.messages.batches.create({ requests: [ask("x", "one"), ask("y", "two")] });
    const c = await client.messages.batches.cancel(created.id);
    expect(fake.requests.some((r) => r.path.endsWith(":cancel") && r.method === "POST")).toBe(true);
    expect(["canceling", "ended"]).toContain(c.processing_status);
    const done = await ended(client, created.id);
    expect(done.request_counts).toEqual({ processing: 0, succeeded: 0, errored: 0, canceled: 2, expired: 0 });
    expect(await resultsOf(client, created.id)).toEqual({ x: { type: "canceled" }, y: { type: "canceled" } });
  });

  test("a restart in the middle: the batch is in the store, and the next gateway polls xAI and serves its results", async () => {
    echo();
    xai.batches.clear();
    xai.answer = (r) => ({ completion: completion({ content: `Batch answer to ${lastUserText(r.batch_request.responses)}` }) });
    const dir = tempDir("batch-xai-restart-");
    const first = xaiGateway(recordsConfig(dir, { upstream: true }));
    const created = await clientFor(first, KEYS[0]).messages.batches.create({ requests: [ask("k", "kept")] });
    await first.stop();
    xai.process();
    const second = xaiGateway(recordsConfig(dir, { upstream: true }));
    const client = clientFor(second, KEYS[0]);
    expect((await ended(client, created.id)).request_counts.succeeded).toBe(1);
    const r = (await resultsOf(client, created.id)).k as Anthropic.Messages.MessageBatchSucceededResult;
    expect(r.message.content).toEqual([{ type: "text", text: "Batch answer to kept" }] as never);
  });
});

describe("validation at create time: the whole batch refused, by custom_id and field", () => {
  test("bad custom_ids, duplicates, stream, bad params, an unknown file, too many requests: 400 (413) in Anthropic's envelope; nothing kept, nothing sent", async () => {
    echo();
    const gw = start({ clientKeys: KEYS, ...recordsConfig(undefined, { maxRequests: 3 }) });
    const post = async (body: unknown) => {
      const res = await fetch(`${gw.url}/v1/messages/batches`, {
        method: "POST",
        headers: { "x-api-key": KEYS[0]!, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const good = ask("ok", "hi");
    const cases: Array<[unknown, number, string]> = [
      [{}, 400, "requests: Field required"],
      [{ requests: [] }, 400, "requests: must contain at least 1 item"],
      [{ requests: [{ ...good, custom_id: "has space" }] }, 400, 'requests[0].custom_id: "has space" must be 1 to 64'],
      [{ requests: [{ ...good, custom_id: "x".repeat(65) }] }, 400, "requests[0].custom_id"],
      [{ requests: [good, good] }, 400, 'requests[1].custom_id: "ok" is already used by requests[0]'],
      [{ requests: [good, { custom_id: "s", params: { ...good.params, stream: true } }] }, 400, 'requests[1].params.stream: streaming is not available in a batch (custom_id "s")'],
      [{ requests: [{ custom_id: "m", params: { model: "grok-4.3", max_tokens: 5 } }] }, 400, 'requests[0].params.messages: Field required (custom_id "m")'],
      [{ requests: [{ custom_id: "z", params: { ...good.params, max_tokens: 0 } }] }, 400, 'requests[0].params.max_tokens: must be at least 1'],
      [
        { requests: [good, { custom_id: "t", params: { ...good.params, messages: [{ role: "user", content: [{ type: "text", text: 5 }] }] } }] },
        400,
        'requests[1].params.messages[0].content[0].text: expected a string (custom_id "t")',
      ],
      [
        { requests: [{ custom_id: "f", params: { ...good.params, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: "file_missing" } }] }] } }] },
        400,
        'requests[0].params.messages[0].content[0].source.file_id: File not found: file_missing (custom_id "f")',
      ],
      [{ requests: [ask("a", "1"), ask("b", "2"), ask("c", "3"), ask("d", "4")] }, 413, "at most 3 requests"],
    ];
    for (const [body, status, words] of cases) {
      const r = await post(body);
      expect(r.status).toBe(status);
      expect(r.body.type).toBe("error");
      expect(r.body.error.type).toBe(status === 413 ? "request_too_large" : "invalid_request_error");
      expect(r.body.error.message).toContain(words);
    }
    expect((await clientFor(gw, KEYS[0]).messages.batches.list()).data).toEqual([]);
    expect(fake.requests.length).toBe(0);
  });
});

describe("whose batch it is", () => {
  test("another key gets 404 for retrieve, cancel, delete and results, and an empty list", async () => {
    echo();
    const gw = start({ clientKeys: KEYS, ...recordsConfig() });
    const a = clientFor(gw, KEYS[0]);
    const b = clientFor(gw, KEYS[1]);
    const mine = await a.messages.batches.create({ requests: [ask("q", "private")] });
    await ended(a, mine.id);
    for (const call of [() => b.messages.batches.retrieve(mine.id), () => b.messages.batches.cancel(mine.id), () => b.messages.batches.delete(mine.id)]) {
      const e = await call().catch((err) => err);
      expect(e).toBeInstanceOf(Anthropic.NotFoundError);
      expect(e.error.error.type).toBe("not_found_error");
    }
    const direct = await fetch(`${gw.url}/v1/messages/batches/${mine.id}/results`, { headers: { "x-api-key": KEYS[1]! } });
    expect(direct.status).toBe(404);
    expect(await direct.text()).not.toContain("private");
    expect((await b.messages.batches.list()).data).toEqual([]);
    expect((await a.messages.batches.list()).data.map((x) => x.id)).toEqual([mine.id]);
  });

  test("virtual keys: a batch runs as its key (ledger and spend), another key's batches are hidden; xAI's results are billed at what xAI charged", async () => {
    echo();
    xai.batches.clear();
    xai.answer = (r) => ({ completion: completion({ content: "ok" }, "stop", { ...usage(20, 7), cost_in_usd_ticks: 4_000_000 }) });
    const dir = tempDir("batch-teams-");
    const local = start({ upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] }, admin: { token: ADMIN_TOKEN }, ...recordsConfig(dir) });
    await local.ready;
    const alice = await createKey(local.url, { name: "alice" });
    const bob = await createKey(local.url, { name: "bob" });
    const client = clientFor(local, alice.key);
    const made = await client.messages.batches.create({ requests: [ask("one", "a"), ask("two", "b")] });
    await ended(client, made.id);
    expect((await clientFor(local, bob.key).messages.batches.list()).data).toEqual([]);
    const usageOf = async (g: Gateway) => {
      for (let i = 0; i < 100; i++) {
        const r = await adminCall(g.url, "GET", "/usage?group_by=key");
        const row = r.body.data.find((x: { key_name: string }) => x.key_name === "alice");
        if (row) return row;
        await Bun.sleep(50);
      }
      return undefined;
    };
    // The two requests, not the create call; at the upstream's own cost (5000 ticks each).
    expect(await usageOf(local)).toMatchObject({ requests: 2, cost_usd: 0.000001 });
    const listed = await adminCall(local.url, "GET", "/batches");
    expect(listed.body.data[0]).toMatchObject({ id: made.id, owner: "alice", mode: "local", request_count: 2, processing_status: "ended" });
    await local.stop();

    // The same store behind an xAI upstream: results are billed as xAI says, to the key that made the batch.
    const viaXai = start({
      upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY], api: "responses" },
      admin: { token: ADMIN_TOKEN },
      ...recordsConfig(dir, { upstream: true }),
    });
    await viaXai.ready;
    const bc = clientFor(viaXai, bob.key);
    const viaBatch = await bc.messages.batches.create({ requests: [ask("x", "c")] });
    const spend = async () => (await adminCall(viaXai.url, "GET", "/keys")).body.data.find((k: { id: string }) => k.id === bob.id).spend_usd;
    expect(await spend()).toBe(0); // the key's spend counted from here on (the create call costs nothing)
    xai.process();
    await ended(bc, viaBatch.id);
    let row;
    for (let i = 0; i < 100 && !row; i++) {
      const r = await adminCall(viaXai.url, "GET", "/usage?group_by=key");
      row = r.body.data.find((x: { key_name: string }) => x.key_name === "bob");
      if (!row) await Bun.sleep(50);
    }
    expect(row).toMatchObject({ requests: 1, cost_usd: 0.0004 });
    // Its budget counts it too: a result billed later is added to the key's spend.
    expect(await spend()).toBe(0.0004);
  });
});
