/** A config reload keeps what the gateway learned: key health and the token counter. */
import { expect, test } from "bun:test";
import { createDeps } from "../../src/deps";
import { createLogger } from "../../src/http/log";
import { testConfig } from "../helpers/gateway";

test("same keys: the pool (with its rested and quarantined keys) and the token counter carry over", () => {
  const config = testConfig("http://127.0.0.1:1/v1", { upstream: { baseUrl: "http://127.0.0.1:1/v1", keys: ["k1", "k2"] } });
  const logger = createLogger({ file: null, stdout: false, level: "error" });
  const first = createDeps(config, logger);
  first.pool.coolDown("k1", 60_000);
  const reloaded = createDeps({ ...config, modelMap: { "claude-x": "grok-4.3" } }, logger, first);
  expect(reloaded.pool).toBe(first.pool);
  expect(reloaded.pool.pick()).toBe("k2"); // k1 still rests
  expect(reloaded.tokens).toBe(first.tokens);
  expect(reloaded.modelMap.resolve("claude-x")).toBe("grok-4.3");

  const rekeyed = createDeps({ ...config, upstream: { ...config.upstream, keys: ["k3"] } }, logger, reloaded);
  expect(rekeyed.pool).not.toBe(first.pool);
  expect(rekeyed.pool.pick()).toBe("k3");
  expect(rekeyed.tokens).toBe(first.tokens);
});
