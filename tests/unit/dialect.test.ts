import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadCommand } from "../../src/config";
import { upstreamTargets } from "../../src/deps";
import { chatDialect, dialectFor, resolveApi, responsesDialect } from "../../src/dialects";
import { KeyPool } from "../../src/upstream/keys";

describe("which dialect", () => {
  test("auto: Responses for api.x.ai and *.x.ai, chat completions for any other server", () => {
    expect(resolveApi("auto", "https://api.x.ai/v1")).toBe("responses");
    expect(resolveApi(undefined, "https://us-east-1.api.x.ai/v1")).toBe("responses");
    expect(resolveApi("auto", "http://127.0.0.1:8000/v1")).toBe("chat");
    expect(resolveApi("auto", "https://notx.ai/v1")).toBe("chat");
    expect(resolveApi("auto", "https://api.x.ai.evil.com/v1")).toBe("chat");
    expect(resolveApi("chat", "https://api.x.ai/v1")).toBe("chat");
    expect(resolveApi("responses", "http://127.0.0.1/v1")).toBe("responses");
    expect(dialectFor("responses")).toBe(responsesDialect);
    expect(dialectFor("chat").path).toBe(chatDialect.path);
  });

  test("config: [upstream] api, GROK2API_UPSTREAM_API over it, [[fallback]] api of its own", async () => {
    const dir = mkdtempSync(join(tmpdir(), "grok2api-dialect-"));
    try {
      const file = join(dir, "c.toml");
      writeFileSync(file, `[upstream]\napi = "chat"\n\n[[fallback]]\nbase_url = "http://127.0.0.1:9/v1"\napi = "responses"\n\n[[fallback]]\nmodel = "grok-4.3"\n`);
      const cmd = await loadCommand(["--config", file], {});
      if (cmd.kind !== "serve") throw new Error(cmd.kind);
      expect(cmd.config.upstream.api).toBe("chat");
      const targets = upstreamTargets(cmd.config, new KeyPool([]));
      expect(targets.map((t) => t.api)).toEqual(["chat", "responses", "chat"]); // the last shares the primary's URL and setting
      const env = await loadCommand(["--config", file], { GROK2API_UPSTREAM_API: "responses" });
      expect(env.kind === "serve" && env.config.upstream.api).toBe("responses");
      await expect(loadCommand([], { GROK2API_UPSTREAM_API: "grpc" })).rejects.toThrow(ConfigError);
      writeFileSync(file, `[upstream]\napi = "soap"\n`);
      await expect(loadCommand(["--config", file], {})).rejects.toThrow(ConfigError);
      const dflt = await loadCommand([], {});
      expect(dflt.kind === "serve" && upstreamTargets(dflt.config, new KeyPool([]))[0]!.api).toBe("responses");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
