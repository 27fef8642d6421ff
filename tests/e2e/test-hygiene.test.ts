/**
 * The test run itself: a passing run prints no stack trace and no unfilled `%s`
 * in a test's name, and leaves nothing behind in the temporary folder. Checked
 * by running a few test files that exercise each (a cut stream, test.each names,
 * temporary config and log files, a server child process) in a child `bun test`.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN } from "../helpers/process";

const ROOT = join(import.meta.dir, "..", "..");
const FILES = ["tests/e2e/stream-faults.test.ts", "tests/e2e/model-map.test.ts", "tests/unit/config-resilience.test.ts", "tests/e2e/startup.test.ts"];

describe("a passing test run", () => {
  test("prints no stack trace and no unfilled name, and leaves its temporary folder empty", async () => {
    // Made directly in the system's folder: this is the folder the child run must leave empty.
    const tmp = mkdtempSync(join(tmpdir(), "grok2api-hygiene-"));
    try {
      const proc = Bun.spawn([BUN, "test", "--timeout", "30000", ...FILES.map((f) => `./${f}`)], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", TMPDIR: tmp },
        stdout: "pipe",
        stderr: "pipe",
        timeout: 120_000,
        killSignal: "SIGKILL",
      });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      const text = out + err;
      expect(text).toContain(" 0 fail");
      expect(code).toBe(0);
      expect(text.split("\n").filter((l) => /^\s+at /.test(l))).toEqual([]);
      expect(text.split("\n").filter((l) => /^\((pass|fail|skip)\).*%[sdifjop#]/.test(l))).toEqual([]);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 130_000);
});
