/** The repository as a newcomer finds it: a license, and no scratch files at the top level. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

describe("the repository", () => {
  test("is MIT-licensed, in LICENSE and package.json", () => {
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect(license.startsWith("MIT License\n")).toBe(true);
    expect(license).toContain("Copyright (c) 2026 grok2api contributors");
    expect(license).toContain('THE SOFTWARE IS PROVIDED "AS IS"');
    expect(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).license).toBe("MIT");
  });

  test("registers each API route once: /v1/v1/… is a prefix in src/server.ts, not a second path in every route file", () => {
    const dir = join(ROOT, "src", "routes");
    const doubled = readdirSync(dir).filter((f) => readFileSync(join(dir, f), "utf8").includes('"/v1/v1'));
    expect(doubled).toEqual([]);
    expect(readFileSync(join(ROOT, "src", "server.ts"), "utf8")).toContain('.group("/v1"');
  });

  test("has no source file at the top level (code lives in src/, scripts/, bench/ and tests/)", () => {
    const files = readdirSync(ROOT).filter((f) => statSync(join(ROOT, f)).isFile() && /\.(ts|js|mjs|cjs|tsx)$/.test(f));
    expect(files).toEqual([]);
  });
});
