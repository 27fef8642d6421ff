/** An empty environment variable means "not set": it never overrides the config file. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCommand, type Config } from "../../src/config";

const dir = mkdtempSync(join(tmpdir(), "grok2api-env-empty-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, "c.toml");
writeFileSync(
  file,
  `host = "127.0.0.1"
port = 9600
api_keys = ["client-key-from-the-file"]
log_file = "${join(dir, "app.log")}"
log_level = "warn"
[upstream]
api_keys = ["xai-key-from-the-file-0000"]
base_url = "https://api.example.test/v1"
[metrics]
token = "metrics-token-from-the-file"
`,
);

async function serve(env: Record<string, string>): Promise<Config> {
  const cmd = await loadCommand(["--config", file], env);
  if (cmd.kind !== "serve") throw new Error(cmd.kind);
  return cmd.config;
}

test.each(["", " "])("variables set to %j leave the config file's values in force", async (blank) => {
  const c = await serve({
    GROK2API_API_KEYS: blank,
    XAI_API_KEY: blank,
    XAI_BASE_URL: blank,
    GROK2API_HOST: blank,
    GROK2API_PORT: blank,
    GROK2API_LOG_FILE: blank,
    GROK2API_LOG_LEVEL: blank,
    GROK2API_METRICS_TOKEN: blank,
  });
  expect(c.clientKeys).toEqual(["client-key-from-the-file"]);
  expect(c.upstream.keys).toEqual(["xai-key-from-the-file-0000"]);
  expect(c.upstream.baseUrl).toBe("https://api.example.test/v1");
  expect(c.port).toBe(9600);
  expect(c.logLevel).toBe("warn");
  expect(c.logFile).toBe(join(dir, "app.log"));
  expect(c.metrics.token).toBe("metrics-token-from-the-file");
  expect(c.metrics.requireClientKey).toBe(true);
});

test("a variable with a value still wins over the file", async () => {
  const c = await serve({ GROK2API_API_KEYS: "from-env-1,from-env-2" });
  expect(c.clientKeys).toEqual(["from-env-1", "from-env-2"]);
});
