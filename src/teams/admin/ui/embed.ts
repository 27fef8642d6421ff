/**
 * Bun macro: the text of a dashboard asset, read when grok2api is bundled (or
 * transpiled, for `bun src/main.ts` and `bun test`). The page's files thus travel
 * inside the compiled binary as strings: no files beside it, no build step.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function embedded(name: string): string {
  return readFileSync(join(import.meta.dir, name), "utf8");
}
