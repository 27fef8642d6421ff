/** Everything the routes need, built once from the configuration. */
import { DEFAULT_DOCUMENT_FETCH, type Config } from "./config";
import { createAuthenticator, type Authenticator } from "./http/auth";
import type { Logger } from "./http/log";
import { createCapabilityTable, type CapabilityTable } from "./models/capabilities";
import { createModelMap, type ModelMap } from "./models/map";
import { createPricer, type Pricer } from "./models/pricing";
import { createRouter, resolveName, type Router } from "./models/routing";
import { configuredTargets, createUnservedWarner } from "./models/unserved";
import { TokenCounter } from "./tokens/counter";
import { TranslationThread } from "./workers/translation";
import { resolveApi } from "./dialects";
import { createDocumentResolver, type DocumentResolver } from "./documents/resolver";
import { UpstreamClient, type UpstreamTarget } from "./upstream/client";
import { KeyPool } from "./upstream/keys";
import { DEFAULT_CATALOG_OPTIONS, UpstreamCatalog } from "./upstream/models";
import type { RequestContext } from "./http/context";
import { LimitRefusal, type Admission, type Teams } from "./teams/teams";
import { costBound, type Bound, type Need } from "./teams/reservation";
import type { RateLimits } from "./teams/rate-headers";
import { allowsModel } from "./teams/keys";
import type { ReasoningStore } from "./reasoning/store";
import type { OpenStreams } from "./http/open-streams";
import type { FileService } from "./files/service";
import type { BatchService } from "./batches/service";
import { withBatchCallers } from "./batches/internal";
import { collectSecrets, Secrets } from "./redact";
import { DEFAULT_BODY_TIMEOUT_MS, readJsonBody, readJsonBodySized } from "./http/body";

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
  /** A request's JSON body, within this configuration's size and time limits (max_body_bytes, body_timeout). */
  readBody(request: Request): Promise<unknown>;
  /** The same, with the body's size (a large one is checked and translated in slices). */
  readBodySized(request: Request): Promise<{ value: unknown; bytes: number }>;
  /** What no text leaving the gateway may show: this configuration's keys, tokens and passwords. */
  secrets: Secrets;
  /** The streams this server is sending (kept by the server across reloads): cut at shutdown, listed by the admin API. */
  streams?: OpenStreams;
  /** Grok's encrypted reasoning kept for clients that do not carry it back (kept by the server across reloads). */
  reasoning?: ReasoningStore;
  /** Uploaded files (/v1/files), kept by the server across reloads. */
  files?: FileService;
  /** Message batches (/v1/messages/batches), kept by the server across reloads. */
  batches?: BatchService;
  /**
   * Before the upstream is called (src/route/route-and-admit.ts): a virtual key's limits (model
   * list, budget, rpm/tpm) for the upstream model the request is routed to, given what it may cost
   * (`need`: its input estimate and output cap, the cost bound held against the budget until it
   * ends; "count" for a token count, which reaches no model and holds nothing); then the request
   * counts as admitted (it goes in the ledger, and `rc.admission` is settled when it ends).
   */
  admit(rc: RequestContext, upstreamModel: string, need: AdmissionNeed): void | Promise<void>;
  /** Which upstream models the request's key may use (a virtual key's model list); undefined: any. */
  allowedModels(rc: RequestContext): ((upstreamModel: string) => boolean) | undefined | Promise<((upstreamModel: string) => boolean) | undefined>;
}

/** What a request may cost: its input estimate and the output it allows; "count": a token count. */
export type AdmissionNeed = { inputTokens: number; maxOutputTokens: number } | "count";

/**
 * A request admitted more than once (a batch's creation, once per model) holds each bound until it
 * ends: the last admission is settled with what it cost, the earlier ones given back.
 */
function both(earlier: Admission | undefined, later: Admission | undefined): Admission | undefined {
  if (!earlier || !later) return later ?? earlier;
  return {
    limits: later.limits,
    settle(cost, tokens) {
      earlier.settle(0, 0);
      later.settle(cost, tokens);
    },
  };
}

function admitter(teams: TeamsHandle | undefined, boundOf: (model: string, need: Need) => Bound): AppDeps["admit"] {
  return (rc, upstreamModel, need) => {
    // A token count reaches no model: it is checked against the key's model list, not recorded.
    const admitted = (a?: Admission) => {
      rc.admitted = need !== "count";
      rc.admission = both(rc.admission, a);
      rc.rateLimits = a?.limits;
    };
    if (!teams || !rc.key) return admitted();
    const id = rc.key.id;
    const refused = (e: unknown): never => {
      if (e instanceof LimitRefusal) rc.rateLimits = e.limits;
      throw e;
    };
    const check = (t: Teams) => {
      const k = t.keys.get(id);
      if (!k) return admitted();
      if (need === "count") {
        t.allowModel(k, upstreamModel);
        // Its headers show the key's limits as they stand; it counts against none of them.
        const limits = t.limitsOf(k);
        const show = (l: RateLimits | undefined) => {
          admitted();
          rc.rateLimits = l;
        };
        return limits instanceof Promise ? limits.then(show) : show(limits);
      }
      let r: Admission | Promise<Admission>;
      try {
        r = t.admit(k, upstreamModel, boundOf(upstreamModel, need), rc.id);
      } catch (e) {
        return refused(e);
      }
      return r instanceof Promise ? r.then(admitted, refused) : admitted(r);
    };
    return teams.current ? check(teams.current) : teams.ready.then(check);
  };
}

function modelFilter(teams: TeamsHandle | undefined): AppDeps["allowedModels"] {
  return (rc) => {
    if (!teams || !rc.key) return undefined;
    const id = rc.key.id;
    const of = (t: Teams) => {
      const k = t.keys.get(id);
      return k?.models ? (model: string) => allowsModel(k, model) : undefined;
    };
    return teams.current ? of(teams.current) : teams.ready.then(of);
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

/** What the server keeps across reloads besides the store: uploaded files and message batches. */
export interface Services {
  files?: FileService;
  batches?: BatchService;
}

/**
 * Built once at start and again on each config reload. State worth keeping carries over
 * from `previous`: what the token counter learned (and its tokenizer thread), and the key
 * pool's health when the keys are the same.
 */
export function createDeps(
  config: Config,
  logger: Logger,
  previous?: AppDeps,
  teams?: TeamsHandle,
  reasoning?: ReasoningStore,
  services: Services = {},
): AppDeps {
  const pool =
    previous && sameKeys(previous.config.upstream.keys, config.upstream.keys) ? previous.pool : new KeyPool(config.upstream.keys);
  const upstream = new UpstreamClient({ targets: upstreamTargets(config, pool), policy: config.resilience, logger });
  const modelMap = createModelMap(config.modelMap);
  previous?.catalog.stop();
  // Configured models the catalog does not list still go upstream; the log says so once per catalog state.
  const warnUnserved = createUnservedWarner(configuredTargets(config.routing, config.modelMap), (message, t) =>
    logger.warn(message, { model: t.model, settings: t.settings }),
  );
  const catalog = new UpstreamCatalog(
    upstream,
    logger,
    { ...DEFAULT_CATALOG_OPTIONS, refreshMs: config.catalog?.refreshMs ?? DEFAULT_CATALOG_OPTIONS.refreshMs },
    config.upstream.keys.length > 0,
    previous?.catalog,
    warnUnserved,
  );
  warnUnserved(catalog.current); // a reload: the catalog already known, against the new settings
  const lineup = () => catalog.current;
  const caps = createCapabilityTable(config.capabilities, undefined, lineup);
  const route = createRouter(modelMap, caps, config.routing);
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
    authenticate: withBatchCallers(
      learningWith(createAuthenticator(config.clientKeys, pool, teams && config.admin ? () => teams.current ?? teams.ready : undefined), catalog),
      services.batches,
      teams && config.admin ? teams : undefined,
    ),
    startedAt: Date.now(),
    tokens: previous?.tokens ?? new TokenCounter(logger),
    translation: previous?.translation ?? new TranslationThread((err) => logger.warn("translation thread failed; large requests translated in place meanwhile", { error: err.message })),
    catalog,
    price: createPricer(lineup),
    ...(teams ? { teams } : {}),
    ...(reasoning ? { reasoning } : {}),
    ...(services.files ? { files: services.files } : {}),
    ...(services.batches ? { batches: services.batches } : {}),
    secrets: new Secrets(collectSecrets(config)),
    readBody: (request) => readJsonBody(request, config.maxBodyBytes, config.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS),
    readBodySized: (request) => readJsonBodySized(request, config.maxBodyBytes, config.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS),
    admit: admitter(teams, (model, need) => costBound(need, caps.get(model).maxOutput, lineup()?.model(model)?.prices)),
    allowedModels: modelFilter(teams),
  };
}
