/** RatioStore: the per-model correction learned from reported prompt_tokens. */
import { describe, expect, test } from "bun:test";
import { RatioStore } from "../../src/tokens/ratio";

describe("RatioStore", () => {
  test("starts at 1 and moves toward what the upstream reports", () => {
    const r = new RatioStore();
    expect(r.ratio("m")).toBe(1);
    r.observe("m", 5000, 6000);
    const once = r.ratio("m");
    expect(once).toBeGreaterThan(1);
    expect(once).toBeLessThan(1.2);
    for (let i = 0; i < 50; i++) r.observe("m", 5000, 6000);
    expect(r.ratio("m")).toBeCloseTo(1.2, 1);
  });

  test("a small request moves it less than a large one", () => {
    const small = new RatioStore();
    small.observe("m", 20, 60);
    const large = new RatioStore();
    large.observe("m", 20_000, 60_000);
    expect(small.ratio("m")).toBeLessThan(large.ratio("m"));
    expect(small.ratio("m")).toBeLessThan(1.1);
  });

  test("old observations fade", () => {
    const r = new RatioStore();
    for (let i = 0; i < 30; i++) r.observe("m", 4000, 8000);
    for (let i = 0; i < 60; i++) r.observe("m", 4000, 4000);
    expect(r.ratio("m")).toBeCloseTo(1, 1);
  });

  test("a model without observations borrows the pooled ratio; each model keeps its own", () => {
    const r = new RatioStore();
    for (let i = 0; i < 30; i++) r.observe("a", 4000, 2000);
    expect(r.ratio("a")).toBeLessThan(0.6);
    expect(r.ratio("unseen")).toBeLessThan(0.6);
    for (let i = 0; i < 30; i++) r.observe("b", 4000, 6000);
    expect(r.ratio("b")).toBeGreaterThan(1.4);
    expect(r.ratio("a")).toBeLessThan(0.6);
  });

  test("nonsense is ignored and the ratio stays within bounds", () => {
    const r = new RatioStore();
    for (const [local, reported] of [[0, 10], [10, 0], [NaN, 5], [5, Infinity], [-3, 4]] as const) r.observe("m", local, reported);
    expect(r.ratio("m")).toBe(1);
    for (let i = 0; i < 100; i++) r.observe("m", 100_000, 10_000_000);
    expect(r.ratio("m")).toBe(4);
  });
});
