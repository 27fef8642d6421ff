/** Command line and configuration: precedence, defaults, and one clear line for every bad value. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadCommand, type Config } from "../../src/config";
import { tempDir } from "../helpers/temp";

const dir = tempDir("grok2api-config-");
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function serve(argv: string[], env: Record<string, string> = {}): Promise<Config> {
  const cmd = await loadCommand(argv, env);
  if (cmd.kind !== "serve") throw new Error(`expected serve, got ${cmd.kind}`);
  return cmd.config;
}

async function failure(argv: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    await loadCommand(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const msg = (e as Error).message;
    expect(msg).not.toContain("\n");
    return msg;
  }
  throw new Error("expected a ConfigError");
}

describe("loadCommand", () => {
  test("defaults", async () => {
    const c = await serve([]);
    expect(c).toMatchObject({
      host: "127.0.0.1",
      port: 9527,
      clientKeys: [],
      logFile: "logs/app.log",
      upstream: { baseUrl: "https://api.x.ai/v1", keys: [] },
      modelMap: {},
    });
  });

  test("--help and --version", async () => {
    expect(await loadCommand(["--help"], {})).toEqual({ kind: "help" });
    expect(await loadCommand(["-h"], {})).toEqual({ kind: "help" });
    expect(await loadCommand(["--version"], {})).toEqual({ kind: "version" });
  });

  test("environment", async () => {
    const c = await serve([], {
      GROK2API_HOST: "127.0.0.2",
      GROK2API_PORT: "8080",
      GROK2API_API_KEYS: "a, b,,c",
      GROK2API_LOG_FILE: "/tmp/x.log",
      XAI_API_KEY: "xai-1,xai-2",
      XAI_BASE_URL: "http://127.0.0.1:1234/v1/",
    });
    expect(c).toMatchObject({
      host: "127.0.0.2",
      port: 8080,
      clientKeys: ["a", "b", "c"],
      logFile: "/tmp/x.log",
      upstream: { baseUrl: "http://127.0.0.1:1234/v1", keys: ["xai-1", "xai-2"] },
    });
  });

  test("flags beat env, env beats the file, the file beats defaults", async () => {
    const toml = file(
      "prec.toml",
      `host = "127.0.0.3"\nport = 7000\nlog_file = "file.log"\napi_keys = ["file-client"]\n[upstream]\nbase_url = "http://127.0.0.1:9/v1"\napi_keys = ["file-upstream"]\n[model_map]\n"claude-*" = "grok-4.3"\n`,
    );
    const fromFile = await serve(["--config", toml]);
    expect(fromFile).toMatchObject({
      host: "127.0.0.3",
      port: 7000,
      logFile: "file.log",
      clientKeys: ["file-client"],
      upstream: { baseUrl: "http://127.0.0.1:9/v1", keys: ["file-upstream"] },
      modelMap: { "claude-*": "grok-4.3" },
      configFile: toml,
    });
    const envOverFile = await serve([], { GROK2API_CONFIG: toml, GROK2API_PORT: "7001", XAI_API_KEY: "env-upstream" });
    expect(envOverFile.port).toBe(7001);
    expect(envOverFile.upstream.keys).toEqual(["env-upstream"]);
    expect(envOverFile.host).toBe("127.0.0.3");
    const flagsOverEnv = await serve(["--config", toml, "--port", "7002", "--host", "localhost"], { GROK2API_PORT: "7001" });
    expect(flagsOverEnv.port).toBe(7002);
    expect(flagsOverEnv.host).toBe("localhost");
  });

  test("JSON config files are accepted too", async () => {
    const json = file("c.json", JSON.stringify({ port: 7100, model_map: { "a*": "b" } }));
    expect(await serve(["--config", json])).toMatchObject({ port: 7100, modelMap: { "a*": "b" } });
  });

  test.each([
    [["--port", "abc"], {}, /--port="abc" is not a valid port/],
    [["--port", "70000"], {}, /--port="70000"/],
    [[], { GROK2API_PORT: "-1" }, /GROK2API_PORT="-1"/],
    [[], { XAI_BASE_URL: "not a url" }, /XAI_BASE_URL="not a url" is not a valid URL/],
    [[], { XAI_BASE_URL: "ftp://x" }, /XAI_BASE_URL="ftp:\/\/x" must be an http/],
    [["--bogus"], {}, /bogus.*--help/i],
    [["--config", "/nonexistent/grok2api.toml"], {}, /\/nonexistent\/grok2api.toml does not exist/],
  ])("bad value %p %p → one line naming it", async (argv, env, re) => {
    expect(await failure(argv as string[], env as Record<string, string>)).toMatch(re);
  });

  test("bad config file values name the file, key and value", async () => {
    expect(await failure(["--config", file("bad1.toml", `port = "x"\n`)])).toMatch(/bad1\.toml: port = "x" is invalid/);
    expect(await failure(["--config", file("bad2.toml", `prot = 1\n`)])).toMatch(/bad2\.toml: unknown key "prot"/);
    expect(await failure(["--config", file("bad3.toml", `port = [\n`)])).toMatch(/bad3\.toml cannot be parsed/);
    expect(await failure(["--config", file("bad4.toml", `[upstream]\nbase_url = "nope"\n`)])).toMatch(/upstream\.base_url="nope" is not a valid URL/);
  });

  test("client keys without an upstream key: refused", async () => {
    expect(await failure([], { GROK2API_API_KEYS: "k" })).toMatch(/no upstream key.*XAI_API_KEY/);
  });

  test("an upstream key without client keys: refused off loopback, fine on loopback", async () => {
    expect(await failure(["--host", "0.0.0.0"], { XAI_API_KEY: "xai" })).toMatch(/refusing to listen on 0\.0\.0\.0/);
    expect(await failure(["--host", "192.168.1.5"], { XAI_API_KEY: "xai" })).toMatch(/GROK2API_API_KEYS/);
    for (const host of ["127.0.0.1", "localhost", "::1", "127.1.2.3"]) {
      expect((await serve(["--host", host], { XAI_API_KEY: "xai" })).host).toBe(host);
    }
    expect((await serve(["--host", "0.0.0.0"], { XAI_API_KEY: "xai", GROK2API_API_KEYS: "c" })).host).toBe("0.0.0.0");
    expect((await serve(["--host", "0.0.0.0"])).host).toBe("0.0.0.0");
  });
});

test("[catalog] refresh is bounded like every duration (a timer past 32 bits would fire at once, over and over)", async () => {
  const bad = file("catalog-refresh.toml", "[catalog]\nrefresh = 3000000\n");
  const msg = await failure(["--config", bad]);
  expect(msg).toContain("catalog.refresh");
  const good = await serve(["--config", file("catalog-ok.toml", "[catalog]\nrefresh = 600\n")]);
  expect(good.catalog?.refreshMs).toBe(600_000);
});
