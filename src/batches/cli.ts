/**
 * `grok2api batches [BATCH_ID]`: the message batches in the store (the one the server uses:
 * `[store] url`, else data/grok2api.db), read directly, without a running server.
 */
import type { Config } from "../config";
import { recordsDb } from "../records/db";
import { maskUrlPassword } from "../store/db";
import { BatchRecords } from "./records";
import { renderBatch, renderBatches } from "./report";

export async function batchesCommand(config: Config, id: string | undefined, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const db = recordsDb(config, undefined);
  if (!db.mayHoldWork) {
    out("no message batches (the store has not been created yet)\n");
    return 0;
  }
  try {
    const recs = new BatchRecords(await db.get());
    if (id) {
      const b = await recs.get(id);
      if (!b) {
        err(`no message batch with id ${id}\n`);
        return 1;
      }
      out(renderBatch(b));
      return 0;
    }
    const all = [];
    let after: string | undefined;
    for (;;) {
      const page = await recs.page(undefined, 1000, after ? { afterId: after } : {});
      all.push(...page.data);
      if (!page.hasMore) break;
      after = page.data.at(-1)!.id;
    }
    out(renderBatches(all));
    return 0;
  } catch (e) {
    err(`cannot read the store ${maskUrlPassword(config.store?.url ?? "sqlite://data/grok2api.db")}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
