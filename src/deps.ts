/** Everything the routes need, built once from the configuration. */
import { DEFAULT_DOCUMENT_FETCH, type Config } from "./config";
import { createAuthenticator, type Authenticator } from "./http/auth";
import type { Logger } from "./http/log";
import { createCapabilityTable, type CapabilityTable } from "./models/capabilities";
import { setServedLineup } from "./models/errors";
import { createModelMap, type ModelMap } from "./models/map";
import { createPricer, type Pricer } from "./models/pricing";
import { createRouter, resolveName, type Router } from "./models/routing";
import { TokenCounter } from "./tokens/counter";
import { TranslationThread } from "./workers/translation";
import { resolveApi } from "./translate/dialect";
import { createDocumentResolver, type DocumentResolver } from "./documents/resolver";
import { UpstreamClient, type UpstreamTarget } from "./upstream/client";
import { KeyPool } from "./upstream/keys";
import { DEFAULT_CATALOG_OPTIONS, UpstreamCatalog } from "./upstream/models";
import type { RequestContext } from "./http/context";
import type { Teams } from "./store/teams";

/** The store (opened at start-up, asynchronously) and what it is once open. */
export interface TeamsHandle {
  current: Teams | undefined;
  ready: Promise<Teams>;
}

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
  /** Large Messages requests are translated on this thread, off the event loop. */
  translation: TranslationThread;
  /** The upstream's catalog (models, aliases, image input, prices), learned from it and kept fresh. */
  catalog: UpstreamCatalog;
  /** A request's cost in USD ticks, from its usage and the catalog's prices. */
  price: Pricer;
  /** Virtual keys and the ledger, when the store is on. */
  teams?: TeamsHandle;
  /**
   * Before the upstream is called: a virtual key's limits (model list, budget, rpm/tpm) for the
   * upstream model the request is routed to; then the request counts as admitted (it goes in the ledger).
   */
  admit(rc: RequestContext, upstreamModel: string): void | Promise<void>;
}

function admitter(teams: TeamsHandle | undefined): AppDeps["admit"] {
  return (rc, upstreamModel) => {
    const admitted = () => void (rc.admitted = true);
    if (!teams || !rc.key) return admitted();
    const id = rc.key.id;
    const check = (t: Teams) => {
      const k = t.keys.get(id);
      const r = k ? t.admit(k, upstreamModel) : undefined;
      return r instanceof Promise ? r.then(admitted) : admitted();
    };
    return teams.current ? check(teams.current) : teams.ready.then(check);
  };
}

/** The primary upstream, then each `[[fallback]]`; a fallback without keys of its own shares the primary's pool. */
export function upstreamTargets(config: Config, primaryPool: KeyPool): UpstreamTarget[] {
  const primary: UpstreamTarget = {
    label: "primary",
    baseUrl: config.upstream.baseUrl,
    pool: primaryPool,
    api: resolveApi(config.upstream.api, config.upstream.baseUrl),
  };
  const fallbacks = (config.resilience.fallbacks ?? []).map((f, i): UpstreamTarget => {
    const baseUrl = f.baseUrl ?? config.upstream.baseUrl;
    const pool = f.keys ? new KeyPool(f.keys) : baseUrl === config.upstream.baseUrl ? primaryPool : new KeyPool(config.upstream.keys);
    // Unset: `auto` for its own base URL; the primary's setting when it shares the primary's.
    const api = resolveApi(f.api ?? (f.baseUrl ? "auto" : config.upstream.api), baseUrl);
    return { label: `fallback ${i + 1}`, baseUrl, pool, api, ...(f.model ? { model: f.model } : {}) };
  });
  return [primary, ...fallbacks];
}

/** In forwarding mode (no upstream keys) the first client's key also teaches the gateway the upstream's catalog. */
const learningWith =
  (auth: Authenticator, catalog: UpstreamCatalog): Authenticator =>
  (headers, rc) => {
    const key = auth(headers, rc);
    if (typeof key === "string") catalog.learnWith(key);
    return key;
  };

const sameKeys = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((k, i) => k === b[i]);

/**
 * Built once at start and again on each config reload. State worth keeping carries over
 * from `previous`: what the token counter learned (and its tokenizer thread), and the key
 * pool's health when the keys are the same.
 */
export function createDeps(config: Config, logger: Logger, previous?: AppDeps, teams?: TeamsHandle): AppDeps {
  const pool =
    previous && sameKeys(previous.config.upstream.keys, config.upstream.keys) ? previous.pool : new KeyPool(config.upstream.keys);
  const upstream = new UpstreamClient({ targets: upstreamTargets(config, pool), policy: config.resilience, logger });
  const modelMap = createModelMap(config.modelMap);
  previous?.catalog.stop();
  const catalog = new UpstreamCatalog(
    upstream,
    logger,
    { ...DEFAULT_CATALOG_OPTIONS, refreshMs: config.catalog?.refreshMs ?? DEFAULT_CATALOG_OPTIONS.refreshMs },
    config.upstream.keys.length > 0,
    previous?.catalog,
  );
  const lineup = () => catalog.current;
  const caps = createCapabilityTable(config.capabilities, undefined, lineup);
  const route = createRouter(modelMap, caps, config.routing, lineup);
  setServedLineup(lineup);
  // At start-up and on each reload: read now (never waited for), then every few minutes.
  catalog.start();
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
    authenticate: learningWith(
      createAuthenticator(config.clientKeys, pool, teams && config.admin ? () => teams.current ?? teams.ready : undefined),
      catalog,
    ),
    startedAt: Date.now(),
    tokens: previous?.tokens ?? new TokenCounter(logger),
    translation: previous?.translation ?? new TranslationThread((err) => logger.warn("translation thread failed; large requests translated in place meanwhile", { error: err.message })),
    catalog,
    price: createPricer(lineup),
    ...(teams ? { teams } : {}),
    admit: admitter(teams),
  };
}
