/** The command line's view of models: `--print-config` (effective map and routing, with sources) and `grok2api models`. */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { xaiError } from "../helpers/fake-upstream";
import { runCli } from "../helpers/process";
import { useFakeUpstream, useFakeUpstreams } from "../helpers/setup";
import { tempDir } from "../helpers/temp";

const LANGUAGE_MODELS = JSON.parse(readFileSync(join(import.meta.dir, "..", "fixtures", "xai-language-models.json"), "utf8"));
const KEY = "xai-cli-test-key-0123456789";

let dir: string;
let configFile: string;
const fake = useFakeUpstream().on((req) => (req.path === "/v1/language-models" ? Response.json(LANGUAGE_MODELS) : xaiError(404, "no such path")));
const more = useFakeUpstreams();
beforeAll(() => {
  dir = tempDir("grok2api-models-cli-");
  configFile = join(dir, "config.toml");
  writeFileSync(configFile, '[model_map]\n"claude-3-5-sonnet-*" = "grok-4.7"\n"claude-old" = "grok-2-latest"\n[routing]\nfast = "grok-4.3"\n[catalog]\nrefresh = 60\n');
});

describe("--print-config", () => {
  test("shows the effective model map, routing and catalog in the file's key names and units, with sources", async () => {
    const out = await runCli(["--print-config", "--config", configFile]);
    expect(out.code).toBe(0);
    const { models } = JSON.parse(out.stdout);
    const fromFile = `config file ${configFile}`;
    expect(models.model_map).toEqual([
      { name: "claude-3-5-sonnet-*", target: "grok-4.7", source: fromFile },
      { name: "claude-old", target: "grok-2-latest", source: fromFile },
    ]);
    expect(models.routing.fast).toEqual({ value: "grok-4.3", source: fromFile });
    expect(models.routing.default).toEqual({ value: "grok-4.3", source: "built-in" });
    expect(models.routing.long_context_threshold).toEqual({ value: 800000, source: "built-in", unit: "estimated input tokens" });
    expect(models.catalog.refresh).toEqual({ value: 60, unit: "seconds", source: fromFile });
    expect(models.names_reach["claude-3-5-sonnet-20241022"]).toBe("grok-4.7 (model_map)");
    expect(models.names_reach["claude-3-haiku-20240307"]).toBe("grok-4.3 (routing.fast)");
    expect(models.names_reach["claude-2.1"]).toBe("grok-4.3 (routing.default)");
  });
});

describe("grok2api models", () => {
  test("each model with vision, context, prices and the client names that route to it", async () => {
    const out = await runCli(["models", "--config", configFile], { XAI_BASE_URL: fake.baseUrl, XAI_API_KEY: KEY });
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(fake.last.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    const rows = out.stdout.split("\n");
    const row = (id: string) => rows.find((r) => r.startsWith(`${id} `))!.split(/\s{2,}/);
    // MODEL, ALIASES, VISION, CONTEXT, INPUT $/1M, CACHED $/1M, OUTPUT $/1M, CLIENT NAMES
    expect(row("grok-4.3").slice(0, 7)).toEqual(["grok-4.3", "grok-4,grok-4-latest", "yes", "1000000", "1.25", "0.31", "2.5"]);
    expect(row("grok-4.3")[7]).toContain("claude-3-haiku-20240307");
    expect(row("grok-4.7")[7]).toBe("claude-3-5-sonnet-20241022, claude-3-5-sonnet-latest");
    expect(row("grok-4.20-0309-non-reasoning")[2]).toBe("no");
    expect(out.stdout).toContain("does not list (sent upstream all the same; it may answer 404): claude-old → grok-2-latest");
    // A configured model the catalog does not list: warned about, once.
    const warnings = rows.filter((r) => r.startsWith("warning: "));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('[model_map] "claude-old" = "grok-2-latest": the upstream\'s catalog does not list this model');
    expect(out.stdout).not.toContain(KEY);
  });

  test("--list-models is the same; without a key or an upstream it says why and fails", async () => {
    const same = await runCli(["--list-models", "--config", configFile], { XAI_BASE_URL: fake.baseUrl, XAI_API_KEY: KEY });
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("grok-4.7");
    const noKey = await runCli(["models"], { XAI_BASE_URL: fake.baseUrl });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("XAI_API_KEY");
    const down = more().on(() => xaiError(404, "nothing here"));
    const failed = await runCli(["models"], { XAI_BASE_URL: down.baseUrl, XAI_API_KEY: KEY });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("cannot read the upstream's models");
    expect(failed.stderr).not.toContain(KEY);
    const extra = await runCli(["models", "extra"]);
    expect(extra.code).toBe(2);
  });
});
