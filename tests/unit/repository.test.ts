/** The repository as a newcomer finds it: a license, and no scratch files at the top level. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { findCasts } from "../helpers/casts";

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

  test("explains every `as` cast on the request's path (a comment on its line or the line above says why it is sound)", () => {
    // The finder itself: prose, strings, `as const` and renames are not casts; a cast is explained by a comment next to it.
    const sample = [
      'import { a as b } from "x"; // import renames are not casts',
      "const s = `sent as ${x}`, t = 'as is', u = [1] as const;",
      "/* kept as it is */ const v = w as Foo;",
      "// checked by isFoo above",
      "const y = (z as unknown) as Bar;",
      "const q = r as Baz; const d = a / b as number;",
      "",
      "const k = m as Qux; /* sound: see above */",
    ].join("\n");
    expect(findCasts(sample).map((c) => [c.line, c.explained])).toEqual([[3, true], [5, true], [5, true], [6, false], [6, false], [8, true]]);
    expect(findCasts("const re = /as x/g;\nconst t = `${`as ${y}`}`;").length).toBe(0);

    const unexplained: string[] = [];
    for (const dir of ["faces", "route", "exchange", "dialects", "anthropic"]) {
      const base = join(ROOT, "src", dir);
      for (const f of readdirSync(base, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"))) {
        for (const c of findCasts(readFileSync(join(base, f), "utf8"))) {
          if (!c.explained) unexplained.push(`src/${dir}/${f}:${c.line}: ${c.text}`);
        }
      }
    }
    expect(unexplained).toEqual([]);
  });

  test("has no source file at the top level (code lives in src/, scripts/, bench/ and tests/)", () => {
    const files = readdirSync(ROOT).filter((f) => statSync(join(ROOT, f)).isFile() && /\.(ts|js|mjs|cjs|tsx)$/.test(f));
    expect(files).toEqual([]);
  });
});
