/** The repository as a newcomer finds it: a license, and no scratch files at the top level. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

describe("the repository", () => {
  test("is MIT-licensed, in LICENSE and package.json", () => {
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect(license.startsWith("MIT License\n")).toBe(true);
    expect(license).toContain("Copyright (c) 2026 grok2api contributors");
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
    expect(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).license).toBe("MIT");
  });

  test("registers each API route once: /v1/v1/… is a prefix in src/server.ts, not a second path in every route file", () => {
    const src = join(ROOT, "src");
    const doubled = readdirSync(src, { recursive: true, encoding: "utf8" }).filter(
      (f) => f.endsWith(".ts") && f !== "server.ts" && readFileSync(join(src, f), "utf8").includes('"/v1/v1'),
    );
    expect(doubled).toEqual([]);
    expect(readFileSync(join(ROOT, "src", "server.ts"), "utf8")).toContain('.group("/v1"');
  });

  test("keeps every test in tests/unit (pure modules) or tests/e2e (the server, processes, the CLI), run by npm test and apart", () => {
    const tests = join(ROOT, "tests");
    const misplaced = readdirSync(tests, { recursive: true, encoding: "utf8" }).filter(
      (f) => f.endsWith(".test.ts") && !f.startsWith("unit/") && !f.startsWith("e2e/"),
    );
    expect(misplaced).toEqual([]);
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts;
    expect(scripts["test:unit"]).toContain("./tests/unit");
    expect(scripts["test:e2e"]).toContain("./tests/e2e");
    expect(scripts.test).not.toContain("./tests/");
    // A unit test starts no server: the harness's helpers belong to end-to-end tests.
    const unit = readdirSync(join(tests, "unit")).filter((f) => f.endsWith(".test.ts"));
    const withServer = unit.filter((f) =>
      /\b(startGateway|useGateway|useGateways|ServerProcess|runCli|startBinary|compiledBinary)\(/.test(readFileSync(join(tests, "unit", f), "utf8")),
    );
    expect(withServer).toEqual([]);
  });

  test("end-to-end tests take their fake upstream from the harness (tests/helpers/setup.ts), which stops and resets it", () => {
    const dir = join(ROOT, "tests", "e2e");
    const own = readdirSync(dir).filter((f) => readFileSync(join(dir, f), "utf8").includes("new FakeUpstream("));
    expect(own).toEqual([]);
  });

  test("has one test file per subject: one for the logger, one for the access log", () => {
    const all = readdirSync(join(ROOT, "tests"), { recursive: true, encoding: "utf8" }).filter((f) => /(^|[/-])log(ger|ging)?\.test\.ts$/.test(f));
    expect(all.sort()).toEqual(["e2e/access-log.test.ts", "unit/log.test.ts"]);
  });

  test("shows the request's path in its folders: faces, route, exchange, dialects, teams", () => {
    for (const dir of ["faces/anthropic", "faces/openai-chat", "faces/openai-responses", "route", "exchange", "dialects/chat", "dialects/responses", "teams"]) {
      expect(statSync(join(ROOT, "src", dir)).isDirectory()).toBe(true);
    }
    // A dialect never knows the face: nothing under dialects/ imports from faces/ or http/.
    const dialects = join(ROOT, "src", "dialects");
    const leaks = readdirSync(dialects, { recursive: true, encoding: "utf8" }).filter(
      (f) => f.endsWith(".ts") && /from "(\.\.\/)+(faces|http\/(context|body|auth))\//.test(readFileSync(join(dialects, f), "utf8")),
    );
    expect(leaks).toEqual([]);
  });

  test("has no source file at the top level (code lives in src/, scripts/, bench/ and tests/)", () => {
    const files = readdirSync(ROOT).filter((f) => statSync(join(ROOT, f)).isFile() && /\.(ts|js|mjs|cjs|tsx)$/.test(f));
    expect(files).toEqual([]);
  });
});
