/**
 * A batch run by the gateway, with the gateway a real process killed (SIGKILL) in the middle
 * and started again on the same store: what had finished is kept, what was in flight and
 * what had not started runs on the new process, nothing accepted is lost. Then
 * `grok2api batches` reads the store from the command line.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { completion } from "../helpers/fake-upstream";
import { lastUserText } from "../helpers/fake-xai-apis";
import { runCli, ServerProcess } from "../helpers/process";
import { useFakeUpstream } from "../helpers/setup";
import { tempDir } from "../helpers/temp";

const UPSTREAM_KEY = "xai-batch-restart-upstream-key-0123456789";
const fake = useFakeUpstream();
const running: ServerProcess[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) await s.kill();
});

function config(dir: string): string {
  const file = join(dir, "grok2api.toml");
  writeFileSync(
    file,
    [
      `port = 0`,
      `log_file = ${JSON.stringify(join(dir, "app.log"))}`,
      `[upstream]`,
      `base_url = ${JSON.stringify(fake.baseUrl)}`,
      `[store]`,
      `url = ${JSON.stringify(`sqlite://${join(dir, "grok2api.db")}`)}`,
      `[batches]`,
      `concurrency = 1`,
      `poll_interval = 0.05`,
      // A killed instance's claim on the batch runs out after a second.
      `lease = 1`,
      "",
    ].join("\n"),
  );
  return file;
}

async function start(file: string): Promise<ServerProcess> {
  const s = await ServerProcess.start(["--config", file], { XAI_API_KEY: UPSTREAM_KEY });
  running.push(s);
  return s;
}

test("killed in the middle of a batch and restarted on the same store: the batch ends with every result, finished requests not run again", async () => {
  const seen: Record<string, number> = {};
  fake.on((req) => {
    if (!req.path.endsWith("/chat/completions")) return Response.json({ data: [] }); // the catalog's reads
    const text = lastUserText(req.body ?? {});
    seen[text] = (seen[text] ?? 0) + 1;
    // The second request, the first time: held until the gateway is killed.
    if (text === "two" && seen[text] === 1) return new Promise<Response>(() => {});
    return Response.json(completion({ content: `Echo: ${text}` }));
  });
  const dir = tempDir("batch-restart-");
  const file = config(dir);
  const first = await start(file);
  const client = (s: ServerProcess) => new Anthropic({ baseURL: s.url, apiKey: "batch-client", maxRetries: 0 });
  const ask = (id: string) => ({ custom_id: id, params: { model: "grok-4.3", max_tokens: 16, messages: [{ role: "user" as const, content: id }] } });
  const made = await client(first).messages.batches.create({ requests: [ask("one"), ask("two"), ask("three")] });
  for (let i = 0; i < 1000 && !seen.two; i++) await Bun.sleep(10);
  expect(seen).toEqual({ one: 1, two: 1 });
  // Killed while "two" is with the upstream: one result in the store, two still to come.
  expect((await client(first).messages.batches.retrieve(made.id)).request_counts).toMatchObject({ processing: 2, succeeded: 1 });
  first.signal("SIGKILL");
  await first.exited;

  const second = await start(file);
  let b = await client(second).messages.batches.retrieve(made.id);
  for (let i = 0; i < 1000 && b.processing_status !== "ended"; i++) {
    await Bun.sleep(20);
    b = await client(second).messages.batches.retrieve(made.id);
  }
  expect(b.request_counts).toEqual({ processing: 0, succeeded: 3, errored: 0, canceled: 0, expired: 0 });
  const texts: Record<string, string> = {};
  for await (const line of await client(second).messages.batches.results(made.id)) {
    const r = line.result as Anthropic.Messages.MessageBatchSucceededResult;
    texts[line.custom_id] = (r.message.content[0] as Anthropic.TextBlock).text;
  }
  expect(texts).toEqual({ one: "Echo: one", two: "Echo: two", three: "Echo: three" });
  // "one" had finished before the kill: not run again. "two" was in flight: run again.
  expect(seen).toEqual({ one: 1, two: 2, three: 1 });

  // The command line reads the same store.
  const list = await runCli(["batches", "--config", file]);
  expect(list.code).toBe(0);
  expect(list.stdout).toContain(made.id);
  expect(list.stdout).toMatch(/ended\s+local/);
  const one = await runCli(["batches", made.id, "--config", file]);
  expect(one.code).toBe(0);
  expect(one.stdout).toMatch(/succeeded\s+3/);
  expect(one.stdout).toContain("run by the gateway");
}, 60_000);
