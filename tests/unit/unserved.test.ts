/** Configured models the catalog does not list: which, worded how, and said once per catalog state. */
import { describe, expect, test } from "bun:test";
import { Lineup, type LineupModel } from "../../src/models/lineup";
import { DEFAULT_ROUTING } from "../../src/models/routing";
import { configuredTargets, createUnservedWarner, unservedTargets } from "../../src/models/unserved";

const model = (id: string, aliases: string[] = []): LineupModel => ({ id, aliases, created: 0, owned_by: "xai" });
const lineupOf = (...models: LineupModel[]) => new Lineup(models, "language-models");
const served = () => lineupOf(model("grok-4.3", ["grok-4"]), model("grok-4.20-0309-reasoning"), model("grok-4.20-0309-non-reasoning"));

describe("configuredTargets", () => {
  test("the five routing roles and every model_map target, once per model with every setting naming it; no globs", () => {
    const targets = configuredTargets({ ...DEFAULT_ROUTING, fast: "grok-fast" }, { "claude-old": "grok-2-latest", "claude-3-*": "grok-2-latest", odd: "grok-*" });
    expect(targets.find((t) => t.model === "grok-4.3")?.settings).toEqual(["[routing] default", "[routing] reasoning", "[routing] vision"]);
    expect(targets.find((t) => t.model === "grok-fast")?.settings).toEqual(["[routing] fast"]);
    expect(targets.find((t) => t.model === "grok-2-latest")?.settings).toEqual(['[model_map] "claude-old"', '[model_map] "claude-3-*"']);
    expect(targets.some((t) => t.model.includes("*"))).toBe(false);
  });

  test("an empty vision (refuse images) is no model", () => {
    expect(configuredTargets({ ...DEFAULT_ROUTING, vision: "" }, {}).flatMap((t) => t.settings)).not.toContain("[routing] vision");
  });
});

describe("unservedTargets", () => {
  const targets = configuredTargets({ ...DEFAULT_ROUTING, fast: "grok-4" }, { "claude-old": "grok-2-latest" });
  test("aliases count as listed; an unknown or empty catalog lists nothing to warn about", () => {
    expect(unservedTargets(targets, served()).map((t) => t.model)).toEqual(["grok-2-latest"]);
    expect(unservedTargets(targets, undefined)).toEqual([]);
    expect(unservedTargets(targets, lineupOf())).toEqual([]);
  });
});

describe("createUnservedWarner", () => {
  test("once per target per catalog state: a re-read listing the same names says nothing again; a changed catalog does", () => {
    const said: string[] = [];
    const warn = createUnservedWarner(configuredTargets(DEFAULT_ROUTING, { "claude-old": "grok-2-latest" }), (message) => said.push(message));
    warn(undefined);
    expect(said).toEqual([]);
    warn(served());
    warn(served()); // another read, the same names
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('[model_map] "claude-old" = "grok-2-latest": the upstream\'s catalog does not list this model');
    expect(said[0]).toContain("requests for it still go upstream");
    warn(lineupOf(...served().models, model("grok-4.7"))); // the catalog changed: still missing, said again
    expect(said).toHaveLength(2);
    warn(lineupOf(...served().models, model("grok-4.7"), model("grok-2-latest"))); // now listed: nothing to say
    expect(said).toHaveLength(2);
  });
});
