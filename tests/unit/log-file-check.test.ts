/**
 * `--check-config`'s log-file check (config/check.ts) fails wherever start-up would fail to
 * open the log file — also where access() says yes (root, a special file system, a link that
 * points nowhere) — and leaves nothing behind when it had to try.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { logFileProblem } from "../../src/config/check";
import { tempDir } from "../helpers/temp";

const place = tempDir("grok2api-log-check-");
afterAll(() => rmSync(place, { recursive: true, force: true }));

describe("logFileProblem", () => {
  test("a path ending in a slash names a folder, whether it exists or not", () => {
    mkdirSync(join(place, "folder"));
    expect(logFileProblem(`${join(place, "folder")}/`)).toBe(`log file ${join(place, "folder")}/ names a folder (it ends with a slash)`);
    expect(logFileProblem(`${join(place, "not-yet")}/`)).toContain("names a folder");
    expect(logFileProblem(join(place, "folder"))).toBe(`log file ${join(place, "folder")} is a directory`);
  });

  test("a link into a folder that does not exist cannot be opened", () => {
    const dangling = join(place, "dangling.log");
    symlinkSync(join(place, "nowhere", "x.log"), dangling);
    expect(logFileProblem(dangling)).toBe(`log file ${dangling} cannot be created: ENOENT`);
  });

  test.skipIf(!existsSync("/proc/self"))("a file system where no file can be made (even by root, whom access() lets)", () => {
    expect(logFileProblem("/proc/grok2api-check.log")).toMatch(/^log file \/proc\/grok2api-check\.log cannot be (created|opened for append): E[A-Z]+$/);
  });

  test("where it can be made: no problem, and nothing made to try is left", () => {
    const dir = join(place, "ok");
    mkdirSync(dir);
    writeFileSync(join(dir, "existing.log"), "kept\n");
    symlinkSync(join(dir, "target.log"), join(dir, "link.log"));
    const before = readdirSync(dir).sort();
    expect(logFileProblem(join(dir, "a", "b", "app.log"))).toBeUndefined();
    expect(logFileProblem(join(dir, "plain.log"))).toBeUndefined();
    expect(logFileProblem(join(dir, "link.log"))).toBeUndefined();
    expect(logFileProblem(join(dir, "existing.log"))).toBeUndefined();
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(existsSync(join(dir, "target.log"))).toBe(false);
    expect(Bun.file(join(dir, "existing.log")).size).toBe(5);
  });
});
