/** Rate-limit headers (src/teams/rate-headers.ts): a key's own figures first, the upstream's where it has none; nothing odd passed on. */
import { describe, expect, test } from "bun:test";
import { rateLimitHeaders, upstreamLimits } from "../../src/teams/rate-headers";

const now = Date.parse("2026-02-28T13:45:10.250Z");
const reset = Date.parse("2026-02-28T13:46:00Z");

describe("rate-limit headers", () => {
  test("a key's own limits, in each face's words", () => {
    const own = { requests: { limit: 10, remaining: 9, resetMs: reset }, tokens: { limit: 1000, remaining: -5, resetMs: reset } };
    expect(Object.fromEntries(rateLimitHeaders(own, undefined, "anthropic", now))).toEqual({
      "anthropic-ratelimit-requests-limit": "10",
      "anthropic-ratelimit-requests-remaining": "9",
      "anthropic-ratelimit-requests-reset": "2026-02-28T13:46:00Z",
      "anthropic-ratelimit-tokens-limit": "1000",
      "anthropic-ratelimit-tokens-remaining": "0",
      "anthropic-ratelimit-tokens-reset": "2026-02-28T13:46:00Z",
    });
    expect(Object.fromEntries(rateLimitHeaders(own, undefined, "openai", now))).toEqual({
      "x-ratelimit-limit-requests": "10",
      "x-ratelimit-remaining-requests": "9",
      "x-ratelimit-reset-requests": "50s",
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "50s",
    });
    expect(rateLimitHeaders({ requests: { limit: 1, remaining: 0, resetMs: now + 60_000 } }, undefined, "openai", now)).toContainEqual(["x-ratelimit-reset-requests", "1m0s"]);
  });

  test("the upstream's figures fill in per kind; garbage from it is not passed on", () => {
    const up = upstreamLimits(
      new Headers({
        "X-Ratelimit-Limit-Requests": "800",
        "X-Ratelimit-Remaining-Requests": "799",
        "X-Ratelimit-Reset-Requests": "1s",
        "X-Ratelimit-Limit-Tokens": "4000000",
        "X-Ratelimit-Remaining-Tokens": "many; x-evil=1",
      }),
    );
    expect(up).toEqual({ requests: { limit: 800, remaining: 799, resetText: "1s" } });
    const own = { tokens: { limit: 50, remaining: 20, resetMs: reset } };
    expect(rateLimitHeaders(own, up, "openai", now)).toEqual([
      ["x-ratelimit-limit-requests", "800"],
      ["x-ratelimit-remaining-requests", "799"],
      ["x-ratelimit-reset-requests", "1s"],
      ["x-ratelimit-limit-tokens", "50"],
      ["x-ratelimit-remaining-tokens", "20"],
      ["x-ratelimit-reset-tokens", "50s"],
    ]);
    // On /v1/messages the upstream's reset (its format undocumented) is left out.
    expect(rateLimitHeaders(undefined, up, "anthropic", now)).toEqual([
      ["anthropic-ratelimit-requests-limit", "800"],
      ["anthropic-ratelimit-requests-remaining", "799"],
    ]);
    expect(upstreamLimits(new Headers())).toBeUndefined();
    expect(rateLimitHeaders(undefined, undefined, "anthropic", now)).toEqual([]);
  });
});
