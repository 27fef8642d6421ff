/**
 * The config file: every problem is reported with the key, the value and what
 * was expected; JSON works as well as TOML; the example file documents every
 * option and is valid once uncommented. Also --check-config and --print-config,
 * run as the real command line.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { ConfigError, ConfigFileSchema, loadCommand, type Config } from "../../src/config";
import { fingerprint } from "../../src/upstream/keys";
import { runCli } from "../helpers/process";
import { tempDir } from "../helpers/temp";

const dir = tempDir("grok2api-config-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string, ext = "toml"): string {
  const path = join(dir, `c${++n}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** The ConfigError message loading `text` gives. */
async function errorOf(text: string, ext = "toml", env: Record<string, string> = {}): Promise<string> {
  const path = file(text, ext);
  try {
    await loadCommand(["--config", path], env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error(`expected ${path} to be rejected`);
}

async function configOf(args: string[], env: Record<string, string> = {}): Promise<Config> {
  const cmd = await loadCommand(args, env);
  if (cmd.kind !== "serve") throw new Error(`expected serve, got ${cmd.kind}`);
  return cmd.config;
}

describe("config file errors name the key, the value and what was expected", () => {
  test("a wrong type", async () => {
    expect(await errorOf('port = "80"\n')).toEndWith(': port = "80" is invalid (expected an integer from 0 to 65535)');
  });

  test("out of range", async () => {
    expect(await errorOf("max_body_bytes = 10\n")).toContain("max_body_bytes = 10 is invalid (expected an integer of at least 1024)");
  });

  test("not one of the allowed words", async () => {
    expect(await errorOf('log_level = "loud"\n')).toContain(
      'log_level = "loud" is invalid (expected one of "debug", "info", "warn", "error")',
    );
  });

  test("an unknown key, at the top and in a table, with the keys that exist", async () => {
    const top = await errorOf("prot = 9527\n");
    expect(top).toContain('unknown key "prot" = 9527 (expected one of the keys host, port,');
    const nested = await errorOf('[upstream]\nbase = "https://x"\n');
    expect(nested).toContain('unknown key "upstream.base" = "https://x" (expected one of the keys base_url, api_keys, api, connect_timeout, first_byte_timeout, idle_timeout, total_timeout, max_retries, retry_budget, backoff_initial, backoff_max, bad_key_quarantine, ping_interval, drain_on_disconnect)');
  });

  test("inside lists and maps", async () => {
    expect(await errorOf('api_keys = ["ok-key", 7]\n')).toContain("api_keys[1] = a number (secret, not shown) is invalid (expected a non-empty string)");
    expect(await errorOf('[model_map]\n"claude-3.5*" = ""\n')).toContain('model_map."claude-3.5*" = "" is invalid (expected a non-empty string)');
    expect(await errorOf('upstream = "https://x"\n')).toContain('upstream = "https://x" is invalid (expected a table with the keys base_url, api_keys, api, connect_timeout, first_byte_timeout, idle_timeout, total_timeout, max_retries, retry_budget, backoff_initial, backoff_max, bad_key_quarantine, ping_interval, drain_on_disconnect)');
  });

  test("a secret's value is never shown", async () => {
    const msg = await errorOf('[metrics]\ntoken = "short-secret"\n');
    expect(msg).toContain("metrics.token = a secret of 12 characters (not shown) is invalid (expected a string of at least 16 characters)");
    expect(msg).not.toContain("short-secret");
  });

  test("every problem is listed, one line each, each naming the file", async () => {
    const lines = (await errorOf('port = -1\nlog_keep = 0\n[metrics]\nenabled = "yes"\n')).split("\n");
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toStartWith(dir);
    expect(lines.join("\n")).toContain('metrics.enabled = "yes" is invalid (expected true or false)');
  });

  test("a file that is not TOML, or does not exist", async () => {
    expect(await errorOf("port = \n")).toMatch(/cannot be parsed as TOML: .+/);
    expect(await errorOf('{"port": }', "json")).toMatch(/cannot be parsed as JSON: .+/);
    await expect(loadCommand(["--config", join(dir, "missing.toml")], {})).rejects.toThrow("does not exist");
  });

  test("the URL of the upstream", async () => {
    expect(await errorOf('[upstream]\nbase_url = "ftp://x"\n')).toContain('upstream.base_url="ftp://x" must be an http:// or https:// URL');
  });

  test("cross-field: requiring client keys for /metrics without any", async () => {
    expect(await errorOf("[metrics]\nrequire_client_key = true\n")).toContain("metrics.require_client_key = true but no client keys");
  });

  test("environment and flags are checked the same way", async () => {
    await expect(loadCommand([], { GROK2API_LOG_LEVEL: "chatty" })).rejects.toThrow(
      'GROK2API_LOG_LEVEL="chatty" is invalid (expected one of "debug", "info", "warn", "error")',
    );
    await expect(loadCommand(["--log-level", "x"], {})).rejects.toThrow('--log-level="x" is invalid');
    await expect(loadCommand([], { GROK2API_METRICS_TOKEN: "short" })).rejects.toThrow("at least 16 characters");
  });
});

describe("durations are in seconds, older names still accepted", () => {
  test("shutdown_grace and documents.fetch_timeout, in seconds", async () => {
    const c = await configOf(["--config", file("shutdown_grace = 2.5\n[documents]\nfetch_timeout = 1.5\n")]);
    expect(c.shutdownGraceSeconds).toBe(2.5);
    expect(c.documents?.timeoutMs).toBe(1500);
  });

  test("the older names mean the same", async () => {
    const c = await configOf(["--config", file("shutdown_grace_seconds = 7\n[documents]\nfetch_timeout_ms = 250\n")]);
    expect(c.shutdownGraceSeconds).toBe(7);
    expect(c.documents?.timeoutMs).toBe(250);
  });

  test("a duration under both names is refused, naming both", async () => {
    expect(await errorOf("shutdown_grace = 1\nshutdown_grace_seconds = 2\n")).toContain("set shutdown_grace or shutdown_grace_seconds");
    expect(await errorOf("[documents]\nfetch_timeout = 1\nfetch_timeout_ms = 2\n")).toContain(
      "set documents.fetch_timeout or documents.fetch_timeout_ms",
    );
  });
});

describe("config file values", () => {
  test("JSON is read like TOML, by extension or by content", async () => {
    const json = { port: 1234, log_level: "warn", model_map: { "claude-*": "grok-4" }, metrics: { enabled: false } };
    for (const path of [file(JSON.stringify(json), "json"), file(JSON.stringify(json), "conf")]) {
      const c = await configOf(["--config", path]);
      expect(c.port).toBe(1234);
      expect(c.logLevel).toBe("warn");
      expect(c.modelMap).toEqual({ "claude-*": "grok-4" });
      expect(c.metrics.enabled).toBe(false);
    }
  });

  test("defaults, and precedence: flag > environment > file", async () => {
    const path = file('log_level = "warn"\nshutdown_grace_seconds = 5\n');
    const fromFile = await configOf(["--config", path]);
    expect(fromFile).toMatchObject({ logLevel: "warn", shutdownGraceSeconds: 5, logMaxBytes: 64 * 1024 * 1024, logKeep: 5 });
    expect((await configOf(["--config", path], { GROK2API_LOG_LEVEL: "error" })).logLevel).toBe("error");
    expect((await configOf(["--config", path, "--log-level", "info"], { GROK2API_LOG_LEVEL: "error" })).logLevel).toBe("info");
    expect((await configOf(["--config", path, "--debug"], { GROK2API_LOG_LEVEL: "error" })).logLevel).toBe("debug");
  });

  test("/metrics needs a client key by default exactly when client keys are set", async () => {
    const upstream = { XAI_API_KEY: "xai-k" };
    expect((await configOf([], upstream)).metrics.requireClientKey).toBe(false);
    expect((await configOf([], { ...upstream, GROK2API_API_KEYS: "c1" })).metrics.requireClientKey).toBe(true);
    const optOut = file("[metrics]\nrequire_client_key = false\n");
    expect((await configOf(["--config", optOut], { ...upstream, GROK2API_API_KEYS: "c1" })).metrics.requireClientKey).toBe(false);
  });
});

describe("config.example.toml", () => {
  const example = readFileSync(join(import.meta.dir, "..", "..", "config.example.toml"), "utf8");
  // Settings are commented out as "#key = value" / "#[table]"; prose comments are "# text".
  const uncommented = example.replace(/^#(?=[[A-Za-z_"])/gm, "");

  test("is all comments as shipped: the defaults", () => {
    expect(Bun.TOML.parse(example)).toEqual({});
  });

  test("uncommented, it is a valid config", () => {
    const data = Bun.TOML.parse(uncommented);
    expect([...Value.Errors(ConfigFileSchema, data)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
  });

  test("shows every option of the schema (older aliases aside)", () => {
    const data = Bun.TOML.parse(uncommented) as Record<string, unknown>;
    const missing: string[] = [];
    const walk = (schema: any, value: any, path: string) => {
      for (const [key, sub] of Object.entries<any>(schema.properties ?? {})) {
        if (sub.deprecated) continue;
        if (value?.[key] === undefined) missing.push(path + key);
        else if (sub.type === "object" && sub.properties) walk(sub, value[key], `${path}${key}.`);
      }
    };
    walk(ConfigFileSchema, data, "");
    expect(missing).toEqual([]);
  });
});

describe("the command line", () => {
  test("--check-config: a good file exits 0, a bad one non-zero naming the problem", async () => {
    const good = await runCli(["--check-config", file('port = 8080\n[model_map]\n"claude-*" = "grok-4"\n')]);
    expect(good.stdout).toContain(": ok");
    expect(good.code).toBe(0);

    const badFile = file('port = "8080"\n');
    const bad = await runCli(["--check-config", badFile]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`${badFile}: port = "8080" is invalid (expected an integer from 0 to 65535)`);
    expect(bad.stdout).toBe("");
  });

  test("--check-config applies the cross-field rules with the environment", async () => {
    const exposed = file('host = "0.0.0.0"\n');
    expect((await runCli(["--check-config", exposed])).code).toBe(0);
    const withKey = await runCli(["--check-config", exposed], { XAI_API_KEY: "xai-upstream-key-0123456789" });
    expect(withKey.code).not.toBe(0);
    expect(withKey.stderr).toContain("refusing to listen on 0.0.0.0");
  });

  test("--check-config fails when the log file cannot be opened for append", async () => {
    const notADir = file("just a file\n", "txt");
    const underFile = file(`log_file = ${JSON.stringify(join(notADir, "app.log"))}\n`);
    const r = await runCli(["--check-config", underFile]);
    expect(r.stderr).toContain(`log file ${join(notADir, "app.log")} cannot be created: ${notADir} is not a directory`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");

    const isDir = await runCli(["--check-config", file(`log_file = ${JSON.stringify(dir)}\n`)]);
    expect(isDir.stderr).toContain(`log file ${dir} is a directory`);
    expect(isDir.code).toBe(2);

    // The environment's log file counts too, and a log file in a folder yet to be made is fine.
    const viaEnv = await runCli(["--check-config", file("port = 8080\n")], { GROK2API_LOG_FILE: join(notADir, "x.log") });
    expect(viaEnv.code).toBe(2);
    const fresh = await runCli(["--check-config", file("port = 8080\n")], { GROK2API_LOG_FILE: join(dir, "new", "sub", "app.log") });
    expect(fresh.code).toBe(0);
  });

  test("--check-config fails where start-up would fail to open the log file though access() allows it (each case: tests/unit/log-file-check.test.ts)", async () => {
    const place = join(dir, "log-probe");
    mkdirSync(place, { recursive: true });
    const dangling = join(place, "dangling.log");
    symlinkSync(join(place, "nowhere", "x.log"), dangling); // into a folder that does not exist
    const r = await runCli(["--check-config", file("port = 8080\n")], { GROK2API_LOG_FILE: dangling });
    expect(r.stderr).toContain(`log file ${dangling} cannot be created: ENOENT`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });

  test("--env-file reads the environment the systemd unit gives the service", async () => {
    const exposed = file('host = "0.0.0.0"\n');
    const envFile = file('# secrets\nXAI_API_KEY="xai-upstream-key-0123456789"\n\n', "env");
    const r = await runCli(["--check-config", exposed, "--env-file", envFile]);
    expect(r.stderr).toContain("refusing to listen on 0.0.0.0");
    expect(r.code).toBe(2);

    const withClients = file("XAI_API_KEY=xai-upstream-key-0123456789\nGROK2API_API_KEYS='client-key-0123456789'\n", "env");
    const ok = await runCli(["--check-config", exposed, "--env-file", withClients]);
    expect(ok.stdout).toContain(": ok");
    expect(ok.code).toBe(0);

    const missing = await runCli(["--check-config", exposed, "--env-file", join(dir, "nope.env")]);
    expect(missing.stderr).toContain(`env file ${join(dir, "nope.env")} does not exist`);
    expect(missing.code).toBe(2);
    const garbled = await runCli(["--check-config", exposed, "--env-file", file("this is not an env file\n", "env")]);
    expect(garbled.stderr).toContain(":1: expected KEY=value");
    expect(garbled.code).toBe(2);
  });

  test("--print-config shows the effective configuration with every secret masked", async () => {
    const secrets = {
      client: "client-key-in-file-0123456789",
      upstream: "xai-upstream-key-in-env-0123456789",
      metrics: "metrics-token-in-env-0123456789",
    };
    const path = file(`api_keys = ["${secrets.client}"]\nport = 9000\n[model_map]\n"claude-*" = "grok-4"\n`);
    const out = await runCli(["--print-config", "--config", path, "--debug"], {
      XAI_API_KEY: secrets.upstream,
      GROK2API_METRICS_TOKEN: secrets.metrics,
    });
    expect(out.code).toBe(0);
    for (const s of Object.values(secrets)) expect(out.stdout).not.toContain(s);
    const shown = JSON.parse(out.stdout);
    expect(shown).toMatchObject({
      port: 9000,
      configFile: path,
      logLevel: "debug",
      modelMap: { "claude-*": "grok-4" },
      clientKeys: [`<${fingerprint(secrets.client)}>`],
      upstream: { keys: [`<${fingerprint(secrets.upstream)}>`] },
      metrics: { token: `<${fingerprint(secrets.metrics)}>`, requireClientKey: true },
    });
  });

  test("[reasoning_store]: file and environment, shown by --print-config with Redis's password masked", async () => {
    const path = file(`[reasoning_store]\nmax_bytes = 1048576\nttl = 3600\n`);
    const memory = JSON.parse((await runCli(["--print-config", "--config", path])).stdout);
    expect(memory.reasoningStore).toEqual({ backend: "memory", max_bytes: 1048576, ttl: { value: 3600, unit: "seconds" } });
    const shared = await runCli(["--print-config", "--config", path], {
      GROK2API_REDIS_URL: "redis://:redis-pass-0123456789@127.0.0.1:6379",
      GROK2API_REASONING_STORE_TTL: "60",
    });
    expect(shared.stdout).not.toContain("redis-pass-0123456789");
    expect(JSON.parse(shared.stdout).reasoningStore).toMatchObject({ backend: "redis", ttl: { value: 60 }, redis_url: "redis://:***@127.0.0.1:6379" });
    const bad = await runCli(["--check-config", path], { GROK2API_REASONING_STORE_MAX_BYTES: "lots" });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("GROK2API_REASONING_STORE_MAX_BYTES");
  });

  test("[batches] and [files]: defaults, the file's values and GROK2API_FILES_DIR, shown by --print-config; a bad value named", async () => {
    const defaults = JSON.parse((await runCli(["--print-config"])).stdout);
    expect(defaults.batches).toMatchObject({ upstream: "auto", concurrency: 4, retentionMs: 29 * 86400 * 1000, maxRequests: 100000, priceFactor: 0.5 });
    expect(defaults.files).toMatchObject({ upstream: "auto", dir: "data/files", maxBytes: 500 * 1024 * 1024 });
    const path = file(`[batches]\nupstream = false\nconcurrency = 2\nretention = 86400\n[files]\nupstream = true\nmax_bytes = 1048576\n`);
    const shown = JSON.parse((await runCli(["--print-config", "--config", path], { GROK2API_FILES_DIR: "/srv/files" })).stdout);
    expect(shown.batches).toMatchObject({ upstream: false, concurrency: 2, retentionMs: 86_400_000 });
    expect(shown.files).toMatchObject({ upstream: true, dir: "/srv/files", maxBytes: 1048576 });
    const bad = await runCli(["--check-config", file(`[batches]\nconcurrency = 0\n[files]\nupstream = "sometimes"\n`)]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("batches.concurrency = 0 is invalid");
    expect(bad.stderr).toContain("files.upstream");
  });
});
