/** Everything the routes need, built once from the configuration. */
import { DEFAULT_DOCUMENT_FETCH, type Config } from "./config";
import { createAuthenticator, type Authenticator } from "./http/auth";
import type { Logger } from "./http/log";
import { createCapabilityTable, type CapabilityTable } from "./models/capabilities";
import { createModelMap, type ModelMap } from "./models/map";
import { createRouter, resolveName, type Router } from "./models/routing";
import { TokenCounter } from "./tokens/counter";
import { createDocumentResolver, type DocumentResolver } from "./translate/documents";
import { UpstreamClient } from "./upstream/client";
import { KeyPool } from "./upstream/keys";
import { UpstreamModels } from "./upstream/models";

export interface AppDeps {
  config: Config;
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

export function createDeps(config: Config, logger: Logger): AppDeps {
  const upstream = new UpstreamClient(config.upstream.baseUrl);
  const modelMap = createModelMap(config.modelMap);
  const caps = createCapabilityTable(config.capabilities);
  const route = createRouter(modelMap, caps, config.routing);
  return {
    config,
    logger,
    modelMap,
    caps,
    route,
    resolveModel: (name) => resolveName(route, name),
    documents: createDocumentResolver(config.documents ?? DEFAULT_DOCUMENT_FETCH),
    upstream,
    authenticate: createAuthenticator(config.clientKeys, new KeyPool(config.upstream.keys)),
    startedAt: Date.now(),
    tokens: new TokenCounter(upstream, logger),
    upstreamModels: new UpstreamModels(upstream, logger),
  };
}
