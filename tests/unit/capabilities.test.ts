import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadCommand, type Config } from "../../src/config";
import { BUILTIN_CAPS, createCapabilityTable, DEFAULT_CAPS } from "../../src/models/capabilities";
import { tempDir } from "../helpers/temp";

const table = createCapabilityTable();

describe("built-in capabilities", () => {
  test("reasoning_effort only where xAI documents it", () => {
    expect(table.get("grok-4.3").reasoningEffort).toEqual(["none", "low", "medium", "high"]);
    expect(table.get("grok-4.3-latest").reasoningEffort).toEqual(["none", "low", "medium", "high"]);
    expect(table.get("grok-4.5").reasoningEffort).toEqual(["low", "medium", "high"]);
    expect(table.get("grok-3-mini").reasoningEffort).toEqual(["low", "high"]);
    expect(table.get("grok-latest").reasoningEffort).toEqual(["low", "medium", "high"]);
    for (const m of [
      "grok-4.20-0309-reasoning",
      "grok-4.20-0309-non-reasoning",
      "grok-4.20-reasoning",
      "grok-build-0.1",
      "grok-4-0709",
      "grok-4",
      "grok-4-1-fast-reasoning",
      "grok-4-fast-non-reasoning",
      "grok-code-fast-1",
      "grok-3",
      "grok-2-latest",
      "some-other-model",
    ]) {
      expect(table.get(m).reasoningEffort).toBeNull();
    }
  });

  test("reasoning models reject stop and penalties; grok-4.20 non-reasoning takes stop but not penalties", () => {
    for (const m of ["grok-4.3", "grok-4.5", "grok-4.20-0309-reasoning", "grok-build-0.1", "grok-3-mini", "grok-4-1-fast-non-reasoning", "grok-9"]) {
      expect(table.get(m)).toMatchObject({ stop: false, penalties: false });
    }
    expect(table.get("grok-4.20-0309-non-reasoning")).toMatchObject({ stop: true, penalties: false });
    expect(table.get("not-grok")).toEqual(DEFAULT_CAPS);
  });

  test("names match case-insensitively; context windows", () => {
    expect(table.get("GROK-4.3").contextWindow).toBe(1_000_000);
    expect(table.get("grok-4.5").contextWindow).toBe(500_000);
    expect(table.get("grok-4.20-0309-reasoning").contextWindow).toBe(1_000_000);
    expect(table.get("grok-4.20-multi-agent-0309").contextWindow).toBe(2_000_000);
  });

  test("every built-in pattern is reachable (no rule hidden behind an earlier, broader one)", () => {
    const probe = (p: string) => p.replace(/\*/g, "x");
    for (const [pattern, caps] of BUILTIN_CAPS) expect(table.get(probe(pattern))).toMatchObject(caps);
  });
});

describe("overrides", () => {
  test("an override is laid over the built-in entry, field by field; first matching override wins", () => {
    const t = createCapabilityTable([
      ["grok-4.3", { reasoningEffort: ["low"] }],
      ["grok-4.3*", { maxOutput: 8 }],
      ["my-model", { vision: false, stop: false }],
    ]);
    expect(t.get("grok-4.3")).toEqual({ ...table.get("grok-4.3"), reasoningEffort: ["low"] });
    expect(t.get("grok-4.3-latest")).toEqual({ ...table.get("grok-4.3"), maxOutput: 8 });
    expect(t.get("my-model")).toEqual({ ...DEFAULT_CAPS, vision: false, stop: false });
  });
});

describe("config file [capabilities]", () => {
  const dir = tempDir("grok2api-caps-");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = async (toml: string): Promise<Config> => {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.toml`);
    writeFileSync(file, toml);
    const cmd = await loadCommand(["--config", file], {});
    if (cmd.kind !== "serve") throw new Error("expected serve");
    return cmd.config;
  };

  test("TOML overrides reach the table, in file order; [] means never send reasoning_effort", async () => {
    const config = await load(`
[capabilities."grok-4.3*"]
reasoning_effort = []
max_output = 4096

[capabilities."acme-*"]
reasoning_effort = ["low", "high"]
stop = false
penalties = false
vision = false
context_window = 32000
`);
    expect(config.capabilities).toEqual([
      ["grok-4.3*", { reasoningEffort: null, maxOutput: 4096 }],
      ["acme-*", { reasoningEffort: ["low", "high"], stop: false, penalties: false, vision: false, contextWindow: 32000 }],
    ]);
    const t = createCapabilityTable(config.capabilities);
    expect(t.get("grok-4.3")).toMatchObject({ reasoningEffort: null, maxOutput: 4096, contextWindow: 1_000_000, stop: false });
    expect(t.get("acme-1")).toMatchObject({ reasoningEffort: ["low", "high"], vision: false, contextWindow: 32000 });
  });

  test("an unknown field or a bad value stops start-up with one line naming it", async () => {
    await expect(load(`[capabilities."x"]\nreasoning = ["low"]\n`)).rejects.toThrow(ConfigError);
    await expect(load(`[capabilities."x"]\nreasoning = ["low"]\n`)).rejects.toThrow(/reasoning/);
    await expect(load(`[capabilities."x"]\ncontext_window = 0\n`)).rejects.toThrow(/context_window/);
  });

  test("[documents] settings, with defaults", async () => {
    expect((await load(``)).documents).toEqual({ allowPrivateUrls: false, timeoutMs: 20_000, maxBytes: 32 * 1024 * 1024 });
    expect((await load(`[documents]\nallow_private_urls = true\nfetch_timeout_ms = 500\nfetch_max_bytes = 2048\n`)).documents).toEqual({
      allowPrivateUrls: true,
      timeoutMs: 500,
      maxBytes: 2048,
    });
  });
});
