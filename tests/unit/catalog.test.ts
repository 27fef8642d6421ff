/** The catalog's pure parts: parsing xAI's answer, the lineup, capabilities laid over, prices. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createCapabilityTable } from "../../src/models/capabilities";
import { Lineup } from "../../src/models/lineup";
import { costTicks, createPricer, formatUsd } from "../../src/models/pricing";
import { createModelMap } from "../../src/models/map";
import { createRouter, DEFAULT_ROUTING } from "../../src/models/routing";
import { parseLanguageModels, parseModelList, UpstreamCatalog } from "../../src/upstream/models";
import type { UpstreamClient } from "../../src/upstream/client";
import type { Logger } from "../../src/http/log";
import { ApiError } from "../../src/http/errors";

const body = JSON.parse(readFileSync(join(import.meta.dir, "..", "fixtures", "xai-language-models.json"), "utf8"));
const lineup = new Lineup(parseLanguageModels(body), "language-models");

describe("parseLanguageModels (xAI's documented shape)", () => {
  test("ids, aliases, image input, prices in ticks per token", () => {
    const m = lineup.model("grok-4.3")!;
    expect(m).toEqual({
      id: "grok-4.3",
      aliases: ["grok-4", "grok-4-latest"],
      created: 1777593600,
      owned_by: "xai",
      vision: true,
      prices: { promptText: 12500, cachedPromptText: 3100, promptImage: 12500, completionText: 25000 },
    });
    expect(lineup.model("grok-4.20-0309-non-reasoning")?.vision).toBe(false);
    expect(lineup.model("GROK-4")?.id).toBe("grok-4.3");
  });

  test("not that shape: an error; unusable entries are skipped", () => {
    expect(() => parseLanguageModels({ data: [] })).toThrow("no models array");
    expect(parseLanguageModels({ models: [null, { id: "" }, { id: "a", prompt_text_token_price: -1 }, { id: "a" }] })).toEqual([
      { id: "a", aliases: [], created: 0, owned_by: "xai" },
    ]);
    expect(parseModelList({ data: [{ id: "x", created: 5 }] })).toEqual([{ id: "x", aliases: [], created: 5, owned_by: "xai" }]);
  });
});

describe("Lineup", () => {
  test("serves ids and aliases; closest names by edit distance", () => {
    expect(lineup.serves("grok-4-latest")).toBe(true);
    expect(lineup.serves("grok-2-latest")).toBe(false);
    expect(lineup.closest("grok-4.20-reasoning", 1)).toEqual(["grok-4.20-0309-reasoning"]);
    expect(lineup.closest("grok-4-lates", 1)).toEqual(["grok-4.3"]); // via its alias
  });
});

describe("capabilities with the catalog", () => {
  test("the catalog's image input beats the built-in table; the config file beats the catalog; an alias has its model's caps", () => {
    const plain = createCapabilityTable([], undefined, () => lineup);
    // built in: vision by default; the catalog says text only
    expect(createCapabilityTable().get("grok-4.20-0309-non-reasoning").vision).toBe(true);
    expect(plain.get("grok-4.20-0309-non-reasoning").vision).toBe(false);
    // grok-4 alone would be the built-in grok-4* entry (256K); as grok-4.3's alias it has grok-4.3's 1M window
    expect(createCapabilityTable().get("grok-4").contextWindow).toBe(256_000);
    expect(plain.get("grok-4").contextWindow).toBe(1_000_000);
    const mine = createCapabilityTable([["grok-4.20*", { vision: true }]], undefined, () => lineup);
    expect(mine.get("grok-4.20-0309-non-reasoning").vision).toBe(true);
  });

  test("a new catalog is seen at once", () => {
    let current: Lineup | undefined;
    const t = createCapabilityTable([], undefined, () => current);
    expect(t.get("grok-4.20-0309-non-reasoning").vision).toBe(true);
    current = lineup;
    expect(t.get("grok-4.20-0309-non-reasoning").vision).toBe(false);
  });
});

describe("routing with the catalog", () => {
  const caps = createCapabilityTable([], undefined, () => lineup);
  const facts = (model: string, images = false) => ({ model, inputTokens: 0, thinking: false, images });

  test("images for a text-only model go to [routing] vision, whatever chose the model", () => {
    const route = createRouter(createModelMap({ "claude-x": "grok-4.20-0309-non-reasoning" }), caps, DEFAULT_ROUTING);
    expect(route(facts("claude-x", true))).toEqual({ model: DEFAULT_ROUTING.vision, rule: "vision" });
    expect(route(facts("grok-4.20-0309-non-reasoning", true))).toEqual({ model: DEFAULT_ROUTING.vision, rule: "vision" });
    expect(route(facts("claude-x"))).toEqual({ model: "grok-4.20-0309-non-reasoning", rule: "model_map" });
  });

  test("no vision model, or a blind one: a 400; a model the catalog does not list goes upstream unchanged; listings never throw", () => {
    const blind = createRouter(createModelMap(), caps, { ...DEFAULT_ROUTING, vision: "" });
    expect(() => blind(facts("claude-haiku-4-5", true))).toThrow(ApiError);
    const blindVision = createRouter(createModelMap(), caps, { ...DEFAULT_ROUTING, vision: "grok-imagine-image" });
    const err = (() => {
      try {
        blindVision(facts("claude-haiku-4-5", true));
      } catch (e) {
        return e as ApiError;
      }
    })();
    expect(err?.status).toBe(400);
    expect(err?.message).toContain('[routing] vision is "grok-imagine-image"');
    const route = createRouter(createModelMap(), caps, DEFAULT_ROUTING);
    // The catalog advises, the upstream decides: no 404 before the upstream is asked.
    expect(route(facts("grok-3"))).toEqual({ model: "grok-3", rule: "passthrough" });
    expect(route.resolve("grok-3")).toBe("grok-3");
  });
});

describe("pricing", () => {
  test("the upstream's ticks win; else usage × prices, cached input at the cached price; exact decimals", () => {
    const prices = lineup.model("grok-4.3")!.prices;
    expect(costTicks({ input_tokens: 5, output_tokens: 5, cost_ticks: 4121500 }, prices)).toBe(4121500);
    expect(costTicks({ input_tokens: 800, cached_tokens: 200, output_tokens: 50 }, prices)).toBe(800 * 12500 + 200 * 3100 + 50 * 25000);
    expect(costTicks({ input_tokens: 10 }, { promptText: 3, completionText: 4 })).toBe(30); // no cached price: the prompt price
    expect(costTicks({ input_tokens: 10 }, undefined)).toBeUndefined();
    expect(costTicks({}, prices)).toBeUndefined();
    expect(formatUsd(4121500)).toBe("0.00041215");
    expect(formatUsd(10_000_000_000)).toBe("1");
    expect(formatUsd(12_345_678_901_234)).toBe("1234.5678901234");
    expect(formatUsd(0)).toBe("0");
  });

  test("the pricer reads the current catalog and prices an alias as its model", () => {
    const price = createPricer(() => lineup);
    expect(price("grok-4", { input_tokens: 1, output_tokens: 1 })).toBe(12500 + 25000);
    expect(price("unknown", { input_tokens: 1, output_tokens: 1 })).toBeUndefined();
    expect(price("unknown", { cost_ticks: 7 })).toBe(7);
  });
});

describe("UpstreamCatalog", () => {
  test("a failing upstream is logged once per run of failures, across reads and a reload; the last good catalog is kept", async () => {
    const warnings: string[] = [];
    const infos: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), info: (m: string) => infos.push(m) } as unknown as Logger;
    let up = false;
    // The upstream as the catalog sees it (UpstreamClient.post): xAI's list when up, an error otherwise.
    const upstream = {
      post: async ({ path }: { path: string }) => {
        if (!up) throw new Error("connection refused");
        if (path !== "/language-models") throw new Error("unexpected path");
        return Response.json(body);
      },
    } as unknown as UpstreamClient;
    const opts = { refreshMs: 0, ttlMs: 0, retryMs: 0, timeoutMs: 1000 };
    const catalog = new UpstreamCatalog(upstream, logger, opts);
    expect(await catalog.list(undefined)).toBeUndefined();
    expect(await catalog.refresh()).toBeUndefined();
    expect(warnings).toEqual(["could not read the upstream's model catalog; using the built-in model table"]);
    up = true;
    expect((await catalog.refresh())?.serves("grok-4")).toBe(true);
    expect(infos).toEqual(["learned the upstream's model catalog"]);
    up = false;
    expect((await catalog.refresh())?.serves("grok-4")).toBe(true);
    await catalog.refresh();
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toBe("could not read the upstream's model catalog; using the last good one");
    // A reload carries the catalog and the failing state over: no new warning.
    const reloaded = new UpstreamCatalog(upstream, logger, opts, true, catalog);
    expect(reloaded.current?.serves("grok-4.3")).toBe(true);
    await reloaded.refresh();
    expect(warnings).toHaveLength(2);
  });
});
