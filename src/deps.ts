/** Everything the routes need, built once from the configuration. */
import { DEFAULT_DOCUMENT_FETCH, type Config } from "./config";
import { createAuthenticator, type Authenticator } from "./http/auth";
import type { Logger } from "./http/log";
import { createCapabilityTable, type CapabilityTable } from "./models/capabilities";
import { createModelMap, type ModelMap } from "./models/map";
import { createRouter, resolveName, type Router } from "./models/routing";
import { TokenCounter } from "./tokens/counter";
import { createDocumentResolver, type DocumentResolver } from "./documents/resolver";
import { UpstreamClient, type UpstreamTarget } from "./upstream/client";
import { KeyPool } from "./upstream/keys";
import { UpstreamModels } from "./upstream/models";

export interface AppDeps {
  config: Config;
  /** The primary upstream's keys and their health (rested, quarantined). */
  pool: KeyPool;
  logger: Logger;
  modelMap: ModelMap;
  caps: CapabilityTable;
  /** Which upstream model serves a request: the model map, then routing by role. */
  route: Router;
  /** The upstream model for a bare name (no prompt to judge by). */
  resolveModel: (name: string) => string;
  /** Turns PDF / URL documents into text before translation. */
  documents: DocumentResolver;
  upstream: UpstreamClient;
  authenticate: Authenticator;
  startedAt: number;
  /** Input-token counts: count_tokens, message_start estimates, the learned per-model ratio. */
  tokens: TokenCounter;
  /** The upstream's own model list, cached. */
  upstreamModels: UpstreamModels;
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

const sameKeys = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((k, i) => k === b[i]);

/**
 * Built once at start and again on each config reload. State worth keeping carries over
 * from `previous`: what the token counter learned (and its tokenizer thread), and the key
 * pool's health when the keys are the same.
 */
export function createDeps(config: Config, logger: Logger, previous?: AppDeps): AppDeps {
  const pool =
    previous && sameKeys(previous.config.upstream.keys, config.upstream.keys) ? previous.pool : new KeyPool(config.upstream.keys);
  const upstream = new UpstreamClient({ targets: upstreamTargets(config, pool), policy: config.resilience, logger });
  const modelMap = createModelMap(config.modelMap);
  const caps = createCapabilityTable(config.capabilities);
  const route = createRouter(modelMap, caps, config.routing);
  return {
    config,
    pool,
    logger,
    modelMap,
    caps,
    route,
    resolveModel: (name) => resolveName(route, name),
    documents: createDocumentResolver(config.documents ?? DEFAULT_DOCUMENT_FETCH),
    upstream,
    authenticate: createAuthenticator(config.clientKeys, pool),
    startedAt: Date.now(),
    tokens: previous?.tokens ?? new TokenCounter(logger),
    upstreamModels: new UpstreamModels(upstream, logger),
  };
}
