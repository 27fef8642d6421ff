/** The [admin] and [store] settings: environment and file, defaults, and the rules that keep keys safe. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, DEFAULT_STORE_URL, loadCommand, type Config } from "../../src/config";
import { runCli } from "../helpers/process";
import { tempDir } from "../helpers/temp";

const ADMIN = "admin-token-0123456789abcdef";
async function config(env: Record<string, string>, argv: string[] = []): Promise<Config> {
  const cmd = await loadCommand(argv, env);
  if (cmd.kind !== "serve") throw new Error(cmd.kind);
  return cmd.config;
}

describe("[admin] and [store]", () => {
  test("off by default: no admin, no store", async () => {
    const c = await config({ XAI_API_KEY: "xai-k" });
    expect(c.admin).toBeUndefined();
    expect(c.store).toBeUndefined();
  });

  test("an admin token turns on the store at its default URL; the environment names the URLs", async () => {
    const c = await config({ XAI_API_KEY: "xai-k", GROK2API_ADMIN_TOKEN: ADMIN });
    expect(c.admin).toEqual({ token: ADMIN });
    expect(c.store).toEqual({ url: DEFAULT_STORE_URL });
    const d = await config({
      XAI_API_KEY: "xai-k",
      GROK2API_ADMIN_TOKEN: ADMIN,
      GROK2API_STORE_URL: "postgres://u:p@db/ledger",
      GROK2API_REDIS_URL: "redis://127.0.0.1:6379",
    });
    expect(d.store).toEqual({ url: "postgres://u:p@db/ledger", redisUrl: "redis://127.0.0.1:6379", redisDown: "auto" });
    // A store URL alone keeps a ledger without the admin API.
    expect((await config({ GROK2API_STORE_URL: "sqlite:///tmp/x.db" })).store).toEqual({ url: "sqlite:///tmp/x.db" });
  });

  test("from the config file", async () => {
    const dir = tempDir("grok2api-teams-config-");
    const file = join(dir, "c.toml");
    writeFileSync(file, `[admin]\ntoken = "${ADMIN}"\n[store]\nurl = "sqlite://ledger.db"\nredis_url = "redis://r:6379"\n`);
    const c = await config({ XAI_API_KEY: "xai-k" }, ["--config", file]);
    expect(c.admin).toEqual({ token: ADMIN });
    expect(c.store).toEqual({ url: "sqlite://ledger.db", redisUrl: "redis://r:6379", redisDown: "auto" });
    writeFileSync(file, `[store]\nurl = "sqlite://ledger.db"\nredis = "oops"\n`);
    await expect(loadCommand(["--config", file], {})).rejects.toThrow('unknown key "store.redis"');
  });

  test("redis_down: what virtual keys' requests get while Redis is away, from the file or GROK2API_REDIS_DOWN", async () => {
    const dir = tempDir("grok2api-teams-config-");
    const file = join(dir, "c.toml");
    writeFileSync(file, `[store]\nurl = "sqlite://ledger.db"\nredis_url = "redis://r:6379"\nredis_down = "open"\n`);
    expect((await config({ XAI_API_KEY: "xai-k" }, ["--config", file])).store?.redisDown).toBe("open");
    expect((await config({ XAI_API_KEY: "xai-k", GROK2API_REDIS_DOWN: "Closed" }, ["--config", file])).store?.redisDown).toBe("closed");
    await expect(loadCommand(["--config", file], { XAI_API_KEY: "k", GROK2API_REDIS_DOWN: "maybe" })).rejects.toThrow(
      'GROK2API_REDIS_DOWN: expected one of auto, closed, open (got "maybe")',
    );
    writeFileSync(file, `[store]\nurl = "sqlite://ledger.db"\nredis_down = "sometimes"\n`);
    await expect(loadCommand(["--config", file], { XAI_API_KEY: "k" })).rejects.toThrow("store.redis_down");
    const r = await runCli(["--print-config"], { XAI_API_KEY: "xai-k", GROK2API_STORE_URL: "sqlite://x.db", GROK2API_REDIS_URL: "redis://r:6379", GROK2API_REDIS_DOWN: "open" });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).store).toEqual({ url: "sqlite://x.db", redisUrl: "redis://r:6379", redisDown: "open" });
  });

  test("bad values and unsafe combinations are refused with one line", async () => {
    await expect(loadCommand([], { XAI_API_KEY: "k", GROK2API_ADMIN_TOKEN: "short" })).rejects.toThrow("too short");
    await expect(loadCommand([], { GROK2API_ADMIN_TOKEN: ADMIN })).rejects.toThrow("no upstream key");
    await expect(loadCommand([], { XAI_API_KEY: "k", GROK2API_STORE_URL: "mysql://x" })).rejects.toThrow(ConfigError);
    await expect(loadCommand([], { XAI_API_KEY: "k", GROK2API_ADMIN_TOKEN: ADMIN, GROK2API_REDIS_URL: "http://r" })).rejects.toThrow("redis://");
    // Off loopback with an upstream key: fine with virtual keys on (every request needs a key), refused without.
    expect((await config({ XAI_API_KEY: "k", GROK2API_ADMIN_TOKEN: ADMIN, GROK2API_HOST: "0.0.0.0" })).host).toBe("0.0.0.0");
    await expect(loadCommand([], { XAI_API_KEY: "k", GROK2API_HOST: "0.0.0.0" })).rejects.toThrow("refusing");
  });

  test("--print-config masks the admin token and the store's password", async () => {
    const r = await runCli(["--print-config"], {
      XAI_API_KEY: "xai-k",
      GROK2API_ADMIN_TOKEN: ADMIN,
      GROK2API_STORE_URL: "postgres://ledger:pg-pass-word-123@db:5432/ledger",
      GROK2API_REDIS_URL: "redis://:redis-pass-word-456@r:6379",
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(ADMIN);
    expect(r.stdout).not.toContain("pg-pass-word-123");
    expect(r.stdout).not.toContain("redis-pass-word-456");
    expect(r.stdout).toContain("postgres://ledger:***@db:5432/ledger");
  });
});
