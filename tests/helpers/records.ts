/** Settings for gateways that keep files and batches: a store and a files directory in a temp folder, quick polling. */
import { join } from "node:path";
import { BATCHES_DEFAULTS, FILES_DEFAULTS, type Config } from "../../src/config";
import { tempDir } from "./temp";

export function recordsConfig(dir = tempDir("records-"), batches: Partial<Config["batches"]> = {}, files: Partial<Config["files"]> = {}): Partial<Config> {
  return {
    store: { url: `sqlite://${join(dir, "grok2api.db")}` },
    files: { ...FILES_DEFAULTS, dir: join(dir, "files"), ...files },
    batches: { ...BATCHES_DEFAULTS, pollIntervalMs: 20, ...batches },
  };
}
