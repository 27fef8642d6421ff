/** Every log line is bounded: a huge field is cut short with a note, and the line stays valid JSON. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, MAX_DEBUG_LINE_CHARS, MAX_LINE_CHARS } from "../../src/http/log";

const dir = mkdtempSync(join(tmpdir(), "grok2api-logbound-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function linesOf(write: (log: ReturnType<typeof createLogger>) => void): Promise<any[]> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.log`);
  const log = createLogger({ file, stdout: false, level: "debug" });
  write(log);
  await log.close();
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

test("a warning naming 3,000 server tools (30 MB) is one short line", async () => {
  const tools = Array.from({ length: 3000 }, (_, i) => `web_search_${i}_${"x".repeat(10_000)}`);
  const [line] = await linesOf((log) => log.warn("server tools are not supported; ignored", { request_id: "req_1", tools }));
  expect(JSON.stringify(line).length).toBeLessThanOrEqual(MAX_LINE_CHARS);
  expect(line.msg).toBe("server tools are not supported; ignored");
  expect(line.request_id).toBe("req_1");
  expect(line.truncated.fields).toEqual(["tools"]);
  expect(line.truncated.characters).toBeGreaterThan(30_000_000);
});

test("many mid-sized fields: still bounded, the message kept", async () => {
  const fields = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}`, "y".repeat(900)]));
  const [line] = await linesOf((log) => log.error("many fields", { request_id: "req_2", ...fields }));
  expect(JSON.stringify(line).length).toBeLessThanOrEqual(MAX_LINE_CHARS);
  expect(line).toMatchObject({ msg: "many fields", request_id: "req_2", level: "error" });
});

test("debug lines (request bodies) get more room, but are bounded too", async () => {
  const [small, big] = await linesOf((log) => {
    log.debug("upstream request", { body: "z".repeat(200_000) });
    log.debug("upstream request", { body: "z".repeat(MAX_DEBUG_LINE_CHARS + 10) });
  });
  expect(small.body.length).toBe(200_000);
  expect(big.truncated.fields).toEqual(["body"]);
});

test("a field JSON cannot hold does not throw at the caller", async () => {
  const cyclic: any = {};
  cyclic.self = cyclic;
  const lines = await linesOf((log) => {
    log.warn("odd", { cyclic });
    log.warn("after");
  });
  expect(lines.map((l) => l.msg)).toEqual(["odd", "after"]);
});
