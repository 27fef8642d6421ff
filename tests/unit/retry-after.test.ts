/** The rest the upstream can impose on a key is capped: `retry-after: 1e308` must not bench the only key for ever. */
import { expect, test } from "bun:test";
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from "../../src/upstream/errors";
import { KeyPool, MAX_REST_MS } from "../../src/upstream/keys";

test.each([
  [{ "retry-after": "1e308" }],
  [{ "retry-after": "Infinity" }],
  [{ "retry-after-ms": "1e308" }],
  [{ "retry-after": "Fri, 01 Jan 9999 00:00:00 GMT" }],
  [{ "retry-after": "86400" }],
])("%j is read as at most the cap", (h) => {
  const ms = parseRetryAfter(new Headers(h as Record<string, string>));
  expect(ms === undefined || ms <= MAX_RETRY_AFTER_MS).toBe(true);
});

test("ordinary values pass as they are", () => {
  expect(parseRetryAfter(new Headers({ "retry-after": "2" }))).toBe(2000);
  expect(parseRetryAfter(new Headers({ "retry-after-ms": "250" }))).toBe(250);
});

test("a key told to rest for ever comes back after the cap", () => {
  let now = 0;
  const pool = new KeyPool(["only-key"], () => now);
  pool.coolDown("only-key", 1e308);
  pool.coolDown("only-key", Infinity);
  expect(pool.pick()).toBeNull();
  expect(pool.msUntilCooled()).toBe(MAX_REST_MS);
  now = MAX_REST_MS;
  expect(pool.pick()).toBe("only-key");
});
