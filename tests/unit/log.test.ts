/**
 * The logger (src/http/log.ts) and the redaction it relies on: lines appended in
 * order and flushed without waiting for close, levels, size rotation, secrets
 * masked and scrubbed; every line bounded.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, MAX_DEBUG_LINE_CHARS, MAX_LINE_CHARS } from "../../src/http/log";
import { isSecretName, redactSecrets } from "../../src/redact";
import { fingerprint } from "../../src/upstream/keys";
import { tempDir } from "../helpers/temp";

const tmp = () => tempDir("grok2api-logging-");
const linesOf = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

describe("log file", () => {
  const lines = (file: string) => readFileSync(file, "utf8").trim().split("\n");

  test("log lines are appended after what the file held, in order, soon and on close", async () => {
    const dir = tempDir("grok2api-log-");
    const file = join(dir, "sub", "app.log");
    const first = createLogger({ file, stdout: false });
    first.info("one");
    await first.close();
    const logger = createLogger({ file, stdout: false });
    logger.access({ request_id: "req_1", method: "POST", path: "/v1/messages", status: 200, duration_ms: 1.5 });
    logger.warn("two", { request_id: "req_1" });
    await new Promise((r) => setTimeout(r, 50)); // written without waiting for close
    expect(lines(file).map((l) => JSON.parse(l).msg)).toEqual(["one", "request", "two"]);
    logger.info("three");
    await logger.close();
    const all = lines(file).map((l) => JSON.parse(l));
    expect(all.map((l) => l.msg)).toEqual(["one", "request", "two", "three"]);
    expect(all[1]).toMatchObject({ level: "info", request_id: "req_1", status: 200, duration_ms: 1.5 });
    expect(all[2]).toMatchObject({ level: "warn", request_id: "req_1" });
  });

  test("a log file that cannot be opened is an error at once (start-up reports it and stops)", () => {
    const dir = tempDir("grok2api-log-");
    // a directory: cannot be opened for appending
    expect(() => createLogger({ file: dir, stdout: false })).toThrow();
  });
});

describe("logger", () => {
  test("writes only lines at or above its level, and the level can change", async () => {
    const file = join(tmp(), "app.log");
    const log = createLogger({ file, stdout: false, level: "warn" });
    log.info("hidden-1");
    log.warn("shown-1");
    log.setLevel("debug");
    expect(log.enabled("debug")).toBe(true);
    log.debug("shown-2");
    log.setLevel("error");
    log.warn("hidden-2");
    log.error("shown-3");
    await log.close();
    expect(linesOf(file).map((l) => `${l.level}:${l.msg}`)).toEqual(["warn:shown-1", "debug:shown-2", "error:shown-3"]);
  });

  test("rotates by size, keeping the newest lines in order and at most log_keep old files", async () => {
    const file = join(tmp(), "app.log");
    const log = createLogger({ file, stdout: false, maxBytes: 400, keep: 2 });
    for (let i = 0; i < 40; i++) log.info("line", { i, pad: "x".repeat(40) });
    await log.close();
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const f of [file, `${file}.1`, `${file}.2`]) expect(readFileSync(f).byteLength).toBeLessThan(400 + 200);
    const kept = [...linesOf(`${file}.2`), ...linesOf(`${file}.1`), ...linesOf(file)].map((l) => l.i);
    expect(kept.at(-1)).toBe(39);
    expect(kept).toEqual(kept.map((_, k) => 40 - kept.length + k)); // the newest, consecutive, in order
    expect(kept.length).toBeLessThan(40); // the oldest were dropped
  });

  test("a configured secret never reaches the file: it is replaced by its fingerprint", async () => {
    const file = join(tmp(), "app.log");
    const secret = 'xai-secret-with-"quote-0123456789';
    const log = createLogger({ file, stdout: false });
    log.setSecrets([secret, "short"]);
    log.warn(`upstream said: bad key ${secret}`, { echoed: secret, other: "short stays" });
    await log.close();
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("secret-with");
    expect(text.split(fingerprint(secret)).length - 1).toBe(2);
    expect(text).toContain("short stays");
  });
});

describe("redactSecrets", () => {
  test("masks strings under secret-named fields, and nothing else", () => {
    expect(isSecretName("api_keys")).toBe(true);
    expect(isSecretName("clientKeys")).toBe(true);
    expect(isSecretName("x-api-key")).toBe(true);
    expect(isSecretName("max_tokens")).toBe(false);
    expect(isSecretName("monkey")).toBe(false);
    const body = {
      model: "grok-4",
      max_tokens: 10,
      api_key: "xai-aaaaaaaaaaaaaaaa",
      headers: { authorization: "Bearer xai-bbbbbbbbbbbb" },
      keys: ["xai-cccccccccccc"],
      tools: [{ parameters: { properties: { token: { type: "string", description: "a token" } } } }],
    };
    expect(redactSecrets(body)).toEqual({
      model: "grok-4",
      max_tokens: 10,
      api_key: `<${fingerprint("xai-aaaaaaaaaaaaaaaa")}>`,
      headers: { authorization: `<${fingerprint("Bearer xai-bbbbbbbbbbbb")}>` },
      keys: [`<${fingerprint("xai-cccccccccccc")}>`],
      tools: [{ parameters: { properties: { token: { type: "string", description: "a token" } } } }],
    });
  });
});

describe("every log line is bounded: a huge field is cut short with a note, and the line stays valid JSON", () => {
  async function boundedLinesOf(write: (log: ReturnType<typeof createLogger>) => void): Promise<any[]> {
    const file = join(tmp(), "bounded.log");
    const log = createLogger({ file, stdout: false, level: "debug" });
    write(log);
    await log.close();
    return readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  }

  test("a warning naming 3,000 server tools (30 MB) is one short line", async () => {
    const tools = Array.from({ length: 3000 }, (_, i) => `web_search_${i}_${"x".repeat(10_000)}`);
    const [line] = await boundedLinesOf((log) => log.warn("server tools are not supported; ignored", { request_id: "req_1", tools }));
    expect(JSON.stringify(line).length).toBeLessThanOrEqual(MAX_LINE_CHARS);
    expect(line.msg).toBe("server tools are not supported; ignored");
    expect(line.request_id).toBe("req_1");
    expect(line.truncated.fields).toEqual(["tools"]);
    expect(line.truncated.characters).toBeGreaterThan(30_000_000);
  });

  test("many mid-sized fields: still bounded, the message kept", async () => {
    const fields = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}`, "y".repeat(900)]));
    const [line] = await boundedLinesOf((log) => log.error("many fields", { request_id: "req_2", ...fields }));
    expect(JSON.stringify(line).length).toBeLessThanOrEqual(MAX_LINE_CHARS);
    expect(line).toMatchObject({ msg: "many fields", request_id: "req_2", level: "error" });
  });

  test("debug lines (request bodies) get more room, but are bounded too", async () => {
    const [small, big] = await boundedLinesOf((log) => {
      log.debug("upstream request", { body: "z".repeat(200_000) });
      log.debug("upstream request", { body: "z".repeat(MAX_DEBUG_LINE_CHARS + 10) });
    });
    expect(small.body.length).toBe(200_000);
    expect(big.truncated.fields).toEqual(["body"]);
  });

  test("a field JSON cannot hold does not throw at the caller", async () => {
    const cyclic: any = {};
    cyclic.self = cyclic;
    const lines = await boundedLinesOf((log) => {
      log.warn("odd", { cyclic });
      log.warn("after");
    });
    expect(lines.map((l) => l.msg)).toEqual(["odd", "after"]);
  });
});
