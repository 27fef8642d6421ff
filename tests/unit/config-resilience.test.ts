/** The `[upstream]` timing keys and `[[fallback]]` entries of the config file. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadCommand, RESILIENCE_DEFAULTS } from "../../src/config";
import { tempDir } from "../helpers/temp";

function configFile(text: string, ext = "toml"): string {
  const file = join(tempDir("grok2api-cfg-"), `config.${ext}`);
  writeFileSync(file, text);
  return file;
}

async function load(text: string, env: Record<string, string> = {}) {
  const cmd = await loadCommand(["--config", configFile(text)], env);
  if (cmd.kind !== "serve") throw new Error("expected serve");
  return cmd.config;
}

describe("resilience settings", () => {
  test("defaults: total timeout of at least 900 s, pings every few seconds, no fallbacks", async () => {
    const c = await load("");
    expect(c.resilience).toEqual({ ...RESILIENCE_DEFAULTS, fallbacks: [] });
    expect(c.resilience.totalTimeoutMs).toBeGreaterThanOrEqual(900_000);
    expect(c.resilience.pingIntervalMs).toBeGreaterThan(0);
    expect(c.resilience.pingIntervalMs).toBeLessThanOrEqual(15_000);
  });

  test("seconds in the file become milliseconds; fallbacks keep their order", async () => {
    const c = await load(`
[upstream]
base_url = "https://api.x.ai/v1"
connect_timeout = 2.5
first_byte_timeout = 120
idle_timeout = 60
total_timeout = 1800
max_retries = 5
retry_budget = 30
backoff_initial = 0.25
backoff_max = 4
bad_key_quarantine = 0
ping_interval = 0
drain_on_disconnect = 0.25

[[fallback]]
base_url = "https://backup.example.com/v1/"
api_keys = ["xai-backup"]

[[fallback]]
model = "grok-4.20-0309-non-reasoning"
`);
    expect(c.resilience).toEqual({
      connectTimeoutMs: 2500,
      firstByteTimeoutMs: 120_000,
      idleTimeoutMs: 60_000,
      totalTimeoutMs: 1_800_000,
      maxRetries: 5,
      retryBudgetMs: 30_000,
      backoffInitialMs: 250,
      backoffMaxMs: 4000,
      badKeyQuarantineMs: 0,
      pingIntervalMs: 0,
      drain: { ms: 250, bytes: 1024 * 1024 },
      fallbacks: [{ baseUrl: "https://backup.example.com/v1", keys: ["xai-backup"] }, { model: "grok-4.20-0309-non-reasoning" }],
    });
  });

  test("bad values are named", async () => {
    const bad = async (text: string) => {
      const err = await load(text).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    };
    expect(await bad("[upstream]\nidle_timeout = -1")).toContain("upstream.idle_timeout");
    expect(await bad('[upstream]\ntotal_timeout = "long"')).toContain("upstream.total_timeout");
    expect(await bad("[upstream]\nmax_retries = 1.5")).toContain("upstream.max_retries");
    expect(await bad('[[fallback]]\nbase_url = "ftp://x"')).toContain("fallback[0].base_url");
    expect(await bad('[[fallback]]\nmodle = "grok-4"')).toContain('unknown key "fallback[0].modle"');
  });

  test("fallback keys count as upstream keys for the loopback rule", async () => {
    const err = await load('host = "0.0.0.0"\n[[fallback]]\napi_keys = ["xai-x"]').catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain("refusing to listen on 0.0.0.0");
  });
});
