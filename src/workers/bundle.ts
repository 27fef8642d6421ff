/**
 * Bun macro: bundles a worker module (and everything it imports) into one string of
 * JavaScript when grok2api itself is bundled — or transpiled, for `bun src/main.ts` and
 * `bun test`. The worker then starts from that string (see thread.ts), so it needs no
 * file of its own and no entry point of its own in the build, and heavy libraries it
 * uses (pdf.js, the tokenizer's ranks) stay out of the main bundle and its bytecode.
 * Bun.build cannot run inside a macro, hence the CLI.
 */
import { join } from "node:path";

export function bundledWorker(entry: string): string {
  const file = join(import.meta.dir, "..", entry);
  const r = Bun.spawnSync([process.execPath, "build", file, "--target=bun", "--minify"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`cannot bundle worker ${entry}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}
