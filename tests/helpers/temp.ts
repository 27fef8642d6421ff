/**
 * Temporary folders for tests: every one lives under a single folder for the
 * whole test run, removed when the run ends (tests/helpers/preload.ts), so a
 * run leaves nothing in /tmp — not even the compiled binary.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let root: string | undefined;

/** The run's folder, made on first use. */
export function tempRoot(): string {
  if (!root) {
    root = mkdtempSync(join(tmpdir(), "grok2api-tests-"));
    // In case the run ends without the preload's hook (a crash, a test file run alone without it).
    process.once("exit", removeTempRoot);
  }
  return root;
}

/** A new empty folder named `prefix…` under the run's folder. */
export function tempDir(prefix = "t-"): string {
  const base = tempRoot();
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, prefix));
}

/** Removes the run's folder and everything in it. */
export function removeTempRoot(): void {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
}
