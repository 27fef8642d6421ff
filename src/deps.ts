/** Everything the routes need, built once from the configuration. */
import type { Config } from "./config";
import { createAuthenticator, type Authenticator } from "./http/auth";
import type { Logger } from "./http/log";
import { createCapabilityTable, type CapabilityTable } from "./models/capabilities";
import { createModelMap, type ModelMap } from "./models/map";
import { UpstreamClient, type UpstreamTarget } from "./upstream/client";
import { KeyPool } from "./upstream/keys";

export interface AppDeps {
  config: Config;
  logger: Logger;
  modelMap: ModelMap;
  caps: CapabilityTable;
  upstream: UpstreamClient;
  authenticate: Authenticator;
  startedAt: number;
}

/** The primary upstream, then each `[[fallback]]`; a fallback without keys of its own shares the primary's pool. */
export function upstreamTargets(config: Config, primaryPool: KeyPool): UpstreamTarget[] {
  const primary: UpstreamTarget = { label: "primary", baseUrl: config.upstream.baseUrl, pool: primaryPool };
  const fallbacks = (config.resilience.fallbacks ?? []).map((f, i): UpstreamTarget => {
    const baseUrl = f.baseUrl ?? config.upstream.baseUrl;
    const pool = f.keys ? new KeyPool(f.keys) : baseUrl === config.upstream.baseUrl ? primaryPool : new KeyPool(config.upstream.keys);
    return { label: `fallback ${i + 1}`, baseUrl, pool, ...(f.model ? { model: f.model } : {}) };
  });
  return [primary, ...fallbacks];
}

export function createDeps(config: Config, logger: Logger): AppDeps {
  const pool = new KeyPool(config.upstream.keys);
  return {
    config,
    logger,
    modelMap: createModelMap(config.modelMap),
    caps: createCapabilityTable(),
    upstream: new UpstreamClient({ targets: upstreamTargets(config, pool), policy: config.resilience, logger }),
    authenticate: createAuthenticator(config.clientKeys, pool),
    startedAt: Date.now(),
  };
}
