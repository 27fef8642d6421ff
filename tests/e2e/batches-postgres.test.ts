/**
 * Files and message batches on a real Postgres (the same code and migrations as SQLite): a file
 * used by a batch request, the batch run to its end, its results, paging and delete; and two
 * gateways sharing the one store: each request of a batch runs once, whichever instance claims it.
 */
import Anthropic, { toFile } from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BATCHES_DEFAULTS, FILES_DEFAULTS } from "../../src/config";
import { completion, type FakeUpstream } from "../helpers/fake-upstream";
import { lastUserText } from "../helpers/fake-xai-apis";
import { startGateway, type Gateway } from "../helpers/gateway";
import { PostgresServer, postgresBin, serviceAvailable } from "../helpers/services";
import { clientFor, useFakeUpstreams } from "../helpers/setup";
import { tempDir } from "../helpers/temp";

const bin = postgresBin();
const run = serviceAvailable("postgres", bin);

describe.skipIf(!run)("files and batches on a real Postgres", () => {
  const fakes = useFakeUpstreams();
  let fake: FakeUpstream;
  let pg: PostgresServer;
  const seen: string[] = [];

  beforeAll(async () => {
    fake = fakes();
    fake.on((req) => {
      const text = lastUserText(req.body ?? {});
      seen.push(text);
      return Response.json(completion({ content: `Echo: ${text.slice(0, 40)}` }));
    });
    pg = await PostgresServer.start(bin!);
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  }, 30_000);
  // Gateways of a test are stopped after it.
  const gateways: Gateway[] = [];
  afterEach(async () => {
    for (const g of gateways.splice(0)) await g.stop();
  });
  const gateway = (url: string, dir: string) => {
    const g = startGateway(fake.baseUrl, {
      store: { url },
      files: { ...FILES_DEFAULTS, dir: join(dir, "files") },
      batches: { ...BATCHES_DEFAULTS, pollIntervalMs: 20, concurrency: 1 },
    });
    gateways.push(g);
    return g;
  };

  const ended = async (client: Anthropic, id: string) => {
    let b = await client.messages.batches.retrieve(id);
    for (let i = 0; i < 500 && b.processing_status !== "ended"; i++) {
      await Bun.sleep(20);
      b = await client.messages.batches.retrieve(id);
    }
    return b;
  };

  test("a file in a batch request, run to the end; results, list, delete; all still there for a gateway started after", async () => {
    const url = await pg.database("batches_a");
    const dir = tempDir("pg-batches-");
    const g1 = gateway(url, dir);
    const client = clientFor(g1, "pg-client-key");
    const file = await client.files.upload({ file: await toFile(Buffer.from("Postgres keeps this: HERON"), "pg.txt", { type: "text/plain" }) });
    const made = await client.messages.batches.create({
      requests: [
        { custom_id: "doc", params: { model: "grok-4.3", max_tokens: 16, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: file.id } }, { type: "text", text: "read" }] }] } },
        { custom_id: "plain", params: { model: "grok-4.3", max_tokens: 16, messages: [{ role: "user", content: "plain" }] } },
      ],
    });
    expect((await ended(client, made.id)).request_counts).toEqual({ processing: 0, succeeded: 2, errored: 0, canceled: 0, expired: 0 });
    expect(seen.some((t) => t.includes("Postgres keeps this: HERON"))).toBe(true);
    const lines: string[] = [];
    for await (const l of await client.messages.batches.results(made.id)) lines.push(`${l.custom_id}:${l.result.type}`);
    expect(lines).toEqual(["doc:succeeded", "plain:succeeded"]);

    const g2 = gateway(url, dir);
    const again = clientFor(g2, "pg-client-key");
    expect((await again.messages.batches.list()).data.map((b) => b.id)).toEqual([made.id]);
    expect((await again.files.retrieveMetadata(file.id)).filename).toBe("pg.txt");
    await again.messages.batches.delete(made.id);
    await again.files.delete(file.id);
    expect((await client.messages.batches.list()).data).toEqual([]);
    expect((await client.files.list()).data).toEqual([]);
  }, 60_000);

  test("two gateways on the one store: a batch's requests each run once", async () => {
    const url = await pg.database("batches_b");
    const dir = tempDir("pg-batches-two-");
    const g1 = gateway(url, dir);
    const g2 = gateway(url, dir);
    const client = clientFor(g1, "pg-client-key");
    seen.length = 0;
    const ids = ["r0", "r1", "r2", "r3", "r4", "r5"];
    const made = await client.messages.batches.create({
      requests: ids.map((id) => ({ custom_id: id, params: { model: "grok-4.3", max_tokens: 8, messages: [{ role: "user" as const, content: `twice? ${id}` }] } })),
    });
    // The second gateway looks at the store too (its own polling), while the first runs the batch.
    const other = clientFor(g2, "pg-client-key");
    expect((await ended(other, made.id)).request_counts.succeeded).toBe(6);
    expect(seen.filter((t) => t.startsWith("twice?")).sort()).toEqual(ids.map((id) => `twice? ${id}`));
  }, 60_000);
});
