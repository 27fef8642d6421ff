/**
 * Where files and message batches keep their records: the teams store when one is
 * configured (`[store] url`, SQLite or Postgres), else the same default SQLite file
 * (`sqlite://data/grok2api.db`) opened on first use. At start-up that file is opened
 * only when it already exists (work left by the last run is resumed); a gateway that
 * never sees a batch or a file never creates it.
 */
import { existsSync } from "node:fs";
import { DEFAULT_STORE_URL, type Config } from "../config";
import type { TeamsHandle } from "../deps";
import { openDatabase, parseStoreUrl, type Database } from "../store/db";

export interface RecordsDb {
  /** The database, opened on first call. */
  get(): Promise<Database>;
  /** Whether there may be records from an earlier run (the database is configured, or its file exists). */
  readonly mayHoldWork: boolean;
  /** Whether there may be records at all: from an earlier run, or the database was opened since. */
  readonly active: boolean;
  /** Closes the database when it is ours (the teams store closes its own). */
  close(): Promise<void>;
}

/** `warn`: told when something of the database's needs saying (its checkpoint thread failed). */
export function recordsDb(config: Config, teams: TeamsHandle | undefined, warn: (message: string) => void = () => {}): RecordsDb {
  if (config.store && teams) {
    return { get: () => teams.ready.then((t) => t.db), mayHoldWork: true, active: true, close: async () => {} };
  }
  const url = config.store?.url ?? DEFAULT_STORE_URL;
  const { file } = parseStoreUrl(url);
  let opened: Promise<Database> | undefined;
  const mayHoldWork = file === undefined || file === ":memory:" ? true : existsSync(file);
  return {
    get() {
      opened ??= openDatabase(url, warn);
      // A failed open is tried again on the next call (the disk may come back).
      opened.catch(() => (opened = undefined));
      return opened;
    },
    mayHoldWork,
    get active() {
      return mayHoldWork || opened !== undefined;
    },
    async close() {
      const o = opened;
      opened = undefined;
      if (o) await o.then((db) => db.close()).catch(() => {});
    },
  };
}
