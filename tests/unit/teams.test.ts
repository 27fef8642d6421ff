/** The pure parts of teams: periods and windows, key secrets and model globs, admin schemas, memory counters. */
import { describe, expect, test } from "bun:test";
import { check, CreateKeySchema, isIsoDate, UpdateKeySchema } from "../../src/teams/admin/schema";
import { MemoryCounters, type Reserved, type ReserveRequest } from "../../src/teams/counters";
import { maskUrlPassword, parseStoreUrl } from "../../src/store/db";
import { collectSecrets, urlPasswords } from "../../src/redact";
import { allowsModel, hashKey, newSecret, type VirtualKey } from "../../src/teams/keys";
import { periodEnd, periodId, periodStart, periodTtlSeconds, secondsLeftInWindow } from "../../src/teams/periods";

const at = new Date("2026-02-28T13:45:10.500Z");

describe("periods", () => {
  test("start, end, id and expiry of a day, a month and all time, in UTC", () => {
    expect(periodStart("day", at)).toBe("2026-02-28T00:00:00.000Z");
    expect(periodEnd("day", at)).toBe("2026-03-01T00:00:00.000Z");
    expect(periodStart("month", at)).toBe("2026-02-01T00:00:00.000Z");
    expect(periodEnd("month", new Date("2026-12-31T23:59:59Z"))).toBe("2027-01-01T00:00:00.000Z");
    expect(periodStart("total", at)).toBeUndefined();
    expect(periodEnd("total", at)).toBeNull();
    expect(periodId("day", at)).toBe("d2026-02-28");
    expect(periodId("month", at)).toBe("m2026-02");
    expect(periodId("day", new Date("2026-03-01T00:00:00Z"))).toBe("d2026-03-01");
    expect(periodId("total", at)).toBe("total");
    expect(periodTtlSeconds("day", at)).toBe(10 * 3600 + 14 * 60 + 50);
    expect(periodTtlSeconds("total", at)).toBeUndefined();
  });

  test("retry-after is the rest of the minute window, at least 1 s", () => {
    expect(secondsLeftInWindow(Date.parse("2026-02-28T13:45:10.500Z"))).toBe(50);
    expect(secondsLeftInWindow(Date.parse("2026-02-28T13:45:59.999Z"))).toBe(1);
    expect(secondsLeftInWindow(Date.parse("2026-02-28T13:45:00.000Z"))).toBe(60);
  });
});

describe("keys", () => {
  test("secrets are g2a- and 40 base62 characters, all different; the hash is SHA-256 hex", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = newSecret();
      expect(s).toMatch(/^g2a-[0-9A-Za-z]{40}$/);
      seen.add(s);
    }
    expect(seen.size).toBe(200);
    expect(hashKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("model globs match the upstream model; no list allows all", () => {
    const k = { models: ["grok-4*", "grok-code-fast-1"] } as VirtualKey;
    expect(allowsModel(k, "grok-4.3")).toBe(true);
    expect(allowsModel(k, "grok-code-fast-1")).toBe(true);
    expect(allowsModel(k, "grok-code-fast-10")).toBe(false);
    expect(allowsModel(k, "grok-3-mini")).toBe(false);
    expect(allowsModel({ models: null } as VirtualKey, "anything")).toBe(true);
    expect(allowsModel({ models: [] as string[] } as VirtualKey, "grok-4")).toBe(false);
  });
});

describe("store URLs", () => {
  test("sqlite relative and absolute, postgres; anything else refused", () => {
    expect(parseStoreUrl("sqlite:///var/lib/g/ledger.db")).toEqual({ dialect: "sqlite", file: "/var/lib/g/ledger.db" });
    expect(parseStoreUrl("sqlite://data/g.db").file).toBe(`${process.cwd()}/data/g.db`);
    expect(parseStoreUrl("postgres://u:p@h/db").dialect).toBe("postgres");
    expect(() => parseStoreUrl("mysql://h/db")).toThrow("sqlite:// or postgres://");
  });

  test("passwords are found and masked", () => {
    expect(urlPasswords("postgres://u:s3cr%40t@h:5432/db")).toEqual(["s3cr%40t", "s3cr@t"]);
    expect(urlPasswords("redis://h:6379")).toEqual([]);
    expect(maskUrlPassword("postgres://u:s3cr%40t@h:5432/db")).toBe("postgres://u:***@h:5432/db");
    // A password written with an escape its decoded form would not need is masked too.
    expect(maskUrlPassword("postgres://u:pa%21ss@h/db")).toBe("postgres://u:***@h/db");
    expect(maskUrlPassword("sqlite://data/g.db")).toBe("sqlite://data/g.db");
  });

  test("the store and Redis URLs' passwords are secrets like the keys: the log and outgoing text scrub them", () => {
    const config = { store: { url: "postgres://u:pa%21ss@h/db", redisUrl: "redis://:r3dis-pass@h:6379" }, upstream: { baseUrl: "https://api.x.ai/v1" } };
    expect(collectSecrets(config).sort()).toEqual(["pa!ss", "pa%21ss", "r3dis-pass"]);
  });
});

describe("admin schemas", () => {
  test("ISO 8601 dates and date-times with a zone", () => {
    for (const ok of ["2026-12-31", "2026-12-31T23:59:00Z", "2026-12-31T23:59:00.123+02:00", "2026-12-31T23:59Z"]) expect(isIsoDate(ok)).toBe(true);
    for (const bad of ["tomorrow", "2026-13-01", "2026-12-31T23:59:00", "31/12/2026", ""]) expect(isIsoDate(bad)).toBe(false);
  });

  test("create needs a name; unknown fields and bad limits are refused, naming the field", () => {
    expect(check(CreateKeySchema, { name: "a", rpm: 5, models: ["grok-*"], budget_usd: 1.5 }).ok).toBe(true);
    const r = check(CreateKeySchema, { name: "a", rpm: 0 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toStartWith("rpm:");
    expect(check(CreateKeySchema, { rpm: 5 }).ok).toBe(false);
    expect(check(CreateKeySchema, { name: "a", extra: 1 }).ok).toBe(false);
    expect(check(UpdateKeySchema, { rpm: null, budget_usd: null }).ok).toBe(true);
    expect(check(UpdateKeySchema, { name: null }).ok).toBe(false);
  });
});

describe("memory counters", () => {
  const base = { keyId: "k", holdId: "req", boundTicks: 0, tokens: 0, closedWhenDown: false };
  const reserve = (c: MemoryCounters, r: Partial<ReserveRequest> & { now: Date }) => c.reserve({ ...base, ...r }) as Reserved;

  test("requests and tokens per minute window; spend seeded once, then added to by what requests settle", async () => {
    let seeds = 0;
    const c = new MemoryCounters(async () => (seeds++, 500));
    const t = Date.parse("2026-02-28T13:45:10Z");
    const one = reserve(c, { now: new Date(t), rpm: 10, tokens: 30 });
    expect(one.ok && one.seen).toMatchObject({ requests: 1, tokens: 30, windowEndMs: Date.parse("2026-02-28T13:46:00Z") });
    expect(reserve(c, { now: new Date(t + 1000), rpm: 10 }).seen.requests).toBe(2);
    expect(reserve(c, { now: new Date(t), keyId: "other", rpm: 10 }).seen.requests).toBe(1);
    // The estimate held gives way to the real count, in the minute it was held in.
    if (one.ok) one.settle(0, 12, new Date(t + 2000));
    expect(reserve(c, { now: new Date(t + 3000), tpm: 100 }).seen.tokens).toBe(12);
    expect(reserve(c, { now: new Date(t + 60_000), rpm: 10 }).seen).toMatchObject({ requests: 1, tokens: 0 }); // next window

    const now = new Date(t);
    const [a, b] = await Promise.all([c.spent("k", "month", now), c.spent("k", "month", now)]);
    expect([a, b]).toEqual([500, 500]);
    expect(seeds).toBe(1);
    const r = await reserve(c, { now, budget: { ticks: 10_000, period: "month" } });
    if (r.ok) r.settle(250, 0, now);
    if (r.ok) r.settle(250, 0, now); // once only
    expect(c.spent("k", "month", now)).toBe(750);
    // A period not seeded yet is seeded when first asked (the ledger has the spend).
    expect(await c.spent("k", "day", now)).toBe(500);
    expect(seeds).toBe(2);
    // A new day is a new period: seeded anew, and it takes the old day's place (memory does not grow with time).
    const tomorrow = new Date(t + 86_400_000);
    expect(await c.spent("k", "day", tomorrow)).toBe(500);
    expect(seeds).toBe(3);
    c.addSpend("k", 10, tomorrow);
    expect(c.spent("k", "day", tomorrow)).toBe(510);
    expect((c as unknown as { spend: Map<string, unknown> }).spend.size).toBe(2); // k:month and k:day
  });

  test("a bound is held until the request settles: concurrent requests pass only as far as the budget covers them", async () => {
    const c = new MemoryCounters(async () => 1000);
    const now = new Date("2026-02-28T13:45:10Z");
    const budget = { ticks: 10_000, period: "day" as const };
    // Twenty at once while the spend is still being seeded: 1000 spent + 3 × 3000 held fit, a fourth does not.
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => c.reserve({ ...base, holdId: `r${i}`, now, budget, boundTicks: 3000 })));
    const passed = all.filter((r) => r.ok);
    expect(passed).toHaveLength(3);
    const refused = all.find((r) => !r.ok)!;
    expect(refused).toMatchObject({ ok: false, refusal: "budget", seen: { spentTicks: 1000, heldTicks: 9000 } });
    // One fails having cost nothing: its hold is released, and another fits.
    if (passed[0]!.ok) passed[0]!.settle(0, 0, now);
    const next = await c.reserve({ ...base, holdId: "again", now, budget, boundTicks: 3000 });
    expect(next).toMatchObject({ ok: true, seen: { spentTicks: 1000, heldTicks: 9000 } });
    // One ends having cost less than its bound (1000): the rest of its hold is free again.
    if (passed[1]!.ok) passed[1]!.settle(1000, 20, now);
    expect(await c.reserve({ ...base, holdId: "more", now, budget, boundTicks: 2000 })).toMatchObject({ ok: true, seen: { spentTicks: 2000, heldTicks: 8000 } });
    // Unknown prices (no bound): refused only once spend and holds reach the budget.
    expect((await c.reserve({ ...base, now, budget })).ok).toBe(false);
    expect((await c.reserve({ ...base, now, budget: { ticks: 10_001, period: "day" } })).ok).toBe(true);
  });

  test("budget before tpm before rpm; a refused request counts nothing", () => {
    const c = new MemoryCounters(async () => 0);
    const now = new Date("2026-02-28T13:45:10Z");
    expect(reserve(c, { now, rpm: 1, tpm: 10, tokens: 10 }).ok).toBe(true);
    expect(reserve(c, { now, rpm: 1, tpm: 10 })).toMatchObject({ ok: false, refusal: "tpm", seen: { requests: 1, tokens: 10 } });
    expect(reserve(c, { now, rpm: 1 })).toMatchObject({ ok: false, refusal: "rpm", seen: { requests: 1 } });
    expect(reserve(c, { now, rpm: 2 }).seen.requests).toBe(2);
  });
});
