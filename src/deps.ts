/** Everything the routes need, built once from the configuration. */
import { DEFAULT_DOCUMENT_FETCH, type Config } from "./config";
import { createAuthenticator, type Authenticator } from "./http/auth";
import type { Logger } from "./http/log";
import { createCapabilityTable, type CapabilityTable } from "./models/capabilities";
import { createModelMap, type ModelMap } from "./models/map";
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
  return {
    config,
    logger,
    modelMap: createModelMap(config.modelMap),
    caps: createCapabilityTable(config.capabilities),
    documents: createDocumentResolver(config.documents ?? DEFAULT_DOCUMENT_FETCH),
    upstream,
    authenticate: createAuthenticator(config.clientKeys, new KeyPool(config.upstream.keys)),
    startedAt: Date.now(),
    tokens: new TokenCounter(upstream, logger),
    upstreamModels: new UpstreamModels(upstream, logger),
  };
}
