/** The catalog and its paging, as pure functions. */
import { describe, expect, test } from "bun:test";
import { ApiError } from "../../src/http/errors";
import { buildCatalog, findModel } from "../../src/models/catalog";
import { Lineup } from "../../src/models/lineup";
import { createModelMap } from "../../src/models/map";
import { pageOf, parsePageQuery } from "../../src/models/listing";

const map = createModelMap({ "my-alias": "grok-4.3", "claude-x": "grok-4.3", "claude-*": "grok-4" }, { "anthropic-y": "grok-3", plain: "grok-3" });
const upstream = new Lineup(
  [
    { id: "grok-4.3", created: 100, owned_by: "xai", aliases: ["grok-4"] },
    { id: "plain", created: 5, owned_by: "xai", aliases: [] },
    { id: "grok-3", created: 50, owned_by: "xai", aliases: [] },
  ],
  "language-models",
);

describe("buildCatalog", () => {
  test("Claude-style names first, then other mapped names, then the upstream's not already listed", () => {
    const c = buildCatalog(map, upstream);
    expect(c.map((e) => e.id)).toEqual(["claude-x", "anthropic-y", "my-alias", "plain", "grok-4.3", "grok-4", "grok-3"]);
    expect(c[0]).toEqual({ id: "claude-x", target: "grok-4.3", created: 100, owned_by: "grok2api" });
    expect(c.find((e) => e.id === "plain")).toEqual({ id: "plain", target: "grok-3", created: 50, owned_by: "grok2api" });
    expect(c.at(-1)).toEqual({ id: "grok-3", target: "grok-3", created: 50, owned_by: "xai" });
    // an alias is marked as one
    expect(c.find((e) => e.id === "grok-4")).toEqual({ id: "grok-4", target: "grok-4", created: 100, owned_by: "xai", alias_of: "grok-4.3" });
  });

  test("with a catalog, a name whose target it does not serve is not offered", () => {
    const narrow = new Lineup([{ id: "grok-3", created: 50, owned_by: "xai", aliases: [] }], "models");
    const c = buildCatalog(map, narrow);
    expect(c.map((e) => e.id)).toEqual(["anthropic-y", "plain", "grok-3"]);
    expect(findModel(c, map, "claude-anything", narrow)).toBeUndefined();
  });

  test("with no upstream list, the mapped names alone, created unknown", () => {
    const c = buildCatalog(map, undefined);
    expect(c.map((e) => e.id)).toEqual(["claude-x", "anthropic-y", "my-alias", "plain"]);
    expect(c.every((e) => e.created === 0)).toBe(true);
  });
});

describe("findModel", () => {
  const c = buildCatalog(map, upstream);
  test("a listed name, a glob-mapped name, or nothing", () => {
    expect(findModel(c, map, "grok-3")?.owned_by).toBe("xai");
    expect(findModel(c, map, "claude-anything")).toEqual({ id: "claude-anything", target: "grok-4", created: 100, owned_by: "grok2api" });
    expect(findModel(c, map, "unknown")).toBeUndefined();
  });
});

describe("paging", () => {
  const items = ["a", "b", "c", "d", "e"].map((id) => ({ id }));
  const ids = (q: Parameters<typeof pageOf>[1]) => {
    const p = pageOf(items, q);
    return [p.data.map((i) => i.id).join(""), p.has_more, p.first_id, p.last_id];
  };

  test("forward from the start and after an id", () => {
    expect(ids({ limit: 2 })).toEqual(["ab", true, "a", "b"]);
    expect(ids({ limit: 2, afterId: "b" })).toEqual(["cd", true, "c", "d"]);
    expect(ids({ limit: 2, afterId: "d" })).toEqual(["e", false, "e", "e"]);
    expect(ids({ limit: 2, afterId: "e" })).toEqual(["", false, null, null]);
    expect(ids({ limit: 10 })).toEqual(["abcde", false, "a", "e"]);
  });

  test("backward before an id", () => {
    expect(ids({ limit: 2, beforeId: "e" })).toEqual(["cd", true, "c", "d"]);
    expect(ids({ limit: 2, beforeId: "b" })).toEqual(["a", false, "a", "a"]);
    expect(ids({ limit: 2, beforeId: "a" })).toEqual(["", false, null, null]);
  });

  test("an unknown cursor is a 400", () => {
    expect(() => pageOf(items, { limit: 2, afterId: "zz" })).toThrow(ApiError);
    expect(() => pageOf(items, { limit: 2, beforeId: "zz" })).toThrow("before_id");
  });

  test("parsePageQuery: defaults, bounds, and one cursor at a time", () => {
    expect(parsePageQuery(new URLSearchParams(""))).toEqual({ limit: 20, afterId: undefined, beforeId: undefined });
    expect(parsePageQuery(new URLSearchParams("limit=1000&after_id=x"))).toEqual({ limit: 1000, afterId: "x", beforeId: undefined });
    for (const bad of ["limit=0", "limit=1001", "limit=-1", "limit=2.5", "limit=", "after_id=a&before_id=b"]) {
      expect(() => parsePageQuery(new URLSearchParams(bad))).toThrow(ApiError);
    }
  });
});
