/** The access log: appended, in order, flushed without waiting for close. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../src/http/log";
import { tempDir } from "./helpers/temp";

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

