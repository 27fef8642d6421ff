/**
 * The configuration's shapes: the file's typebox schema (one source of truth for
 * what a file may say), the resolved Config the server runs on, and the defaults.
 * Durations in the file are in seconds; a few older names (`shutdown_grace_seconds`,
 * `documents.fetch_timeout_ms`) are still accepted as aliases.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { ModelCaps } from "../models/capabilities";
import type { RoutingConfig } from "../models/routing";
import { LogLevelSchema, type LogLevel } from "../http/log";

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 9527,
  logFile: "logs/app.log",
  logLevel: "info",
  logMaxBytes: 64 * 1024 * 1024,
  logKeep: 5,
  shutdownGraceSeconds: 30,
  baseUrl: "https://api.x.ai/v1",
  maxBodyBytes: 32 * 1024 * 1024,
  /** How long a client may take to send its request body. */
  bodyTimeoutSeconds: 30,
  /** Largest non-streamed answer read from the upstream. */
  maxResponseBytes: 64 * 1024 * 1024,
  /** Fetching a document given by URL (PDF): time and size bounds. */
  documentFetchTimeoutMs: 20_000,
  documentFetchMaxBytes: 32 * 1024 * 1024,
} as const;

/** `[capabilities."<glob>"]`: what a model accepts, laid over the built-in table. */
const CapabilityOverride = Type.Object(
  {
    /** Accepted `reasoning_effort` values; `[]` = never send one. */
    reasoning_effort: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    stop: Type.Optional(Type.Boolean()),
    penalties: Type.Optional(Type.Boolean()),
    vision: Type.Optional(Type.Boolean()),
    context_window: Type.Optional(Type.Integer({ minimum: 1 })),
    max_output: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** Seconds, fractions allowed; capped so every timer fits in a 32-bit millisecond delay. */
const Seconds = () => Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000 }));

const GraceSeconds = () => Type.Optional(Type.Number({ minimum: 0, maximum: 3600 }));

/** Timeouts, retries and keep-alive pings, under `[upstream]`; all in seconds. */
const ResilienceFileKeys = {
  connect_timeout: Seconds(),
  first_byte_timeout: Seconds(),
  idle_timeout: Seconds(),
  total_timeout: Seconds(),
  max_retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 20 })),
  retry_budget: Seconds(),
  backoff_initial: Seconds(),
  backoff_max: Seconds(),
  bad_key_quarantine: Seconds(),
  ping_interval: Seconds(),
};

/** `[upstream] api` / `[[fallback]] api` (env GROK2API_UPSTREAM_API): the upstream's API dialect. */
export const UPSTREAM_APIS = ["auto", "responses", "chat"] as const;
export type UpstreamApiSetting = (typeof UPSTREAM_APIS)[number];
const UpstreamApiKey = Type.Optional(Type.Union(UPSTREAM_APIS.map((a) => Type.Literal(a))));

/** One `[[fallback]]`: another upstream and/or model, tried in order when the primary is exhausted. */
const FallbackFileEntry = Type.Object(
  {
    api: UpstreamApiKey,
    base_url: Type.Optional(Type.String({ minLength: 1 })),
    api_keys: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    model: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const ConfigFileSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    api_keys: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** Host names a gateway without client keys also answers to (besides loopback), e.g. behind a reverse proxy. */
    allowed_hosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    log_file: Type.Optional(Type.String({ minLength: 1 })),
    max_body_bytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    body_timeout: Type.Optional(Type.Number({ minimum: 0.1, maximum: 3600 })),
    max_response_bytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    log_level: Type.Optional(LogLevelSchema),
    log_max_bytes: Type.Optional(Type.Integer({ minimum: 0 })),
    log_keep: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    /** Seconds open requests may take to finish on SIGTERM/SIGINT. */
    shutdown_grace: GraceSeconds(),
    /** Alias of shutdown_grace (its older name). */
    shutdown_grace_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 3600, deprecated: true })),
    metrics: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          token: Type.Optional(Type.String({ minLength: 16 })),
          require_client_key: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    upstream: Type.Optional(
      Type.Object(
        {
          base_url: Type.Optional(Type.String({ minLength: 1 })),
          api_keys: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          api: UpstreamApiKey,
          ...ResilienceFileKeys,
        },
        { additionalProperties: false },
      ),
    ),
    fallback: Type.Optional(Type.Array(FallbackFileEntry)),
    model_map: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
    routing: Type.Optional(
      Type.Object(
        {
          default: Type.Optional(Type.String({ minLength: 1 })),
          fast: Type.Optional(Type.String({ minLength: 1 })),
          reasoning: Type.Optional(Type.String({ minLength: 1 })),
          vision: Type.Optional(Type.String()), // "" = refuse images for a model without image input
          long_context: Type.Optional(Type.String({ minLength: 1 })),
          long_context_threshold: Type.Optional(Type.Integer({ minimum: 1 })),
          advertise: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
        },
        { additionalProperties: false },
      ),
    ),
    catalog: Type.Optional(Type.Object({ refresh: Seconds() }, { additionalProperties: false })),
    admin: Type.Optional(Type.Object({ token: Type.Optional(Type.String({ minLength: 16 })) }, { additionalProperties: false })),
    store: Type.Optional(
      Type.Object(
        { url: Type.Optional(Type.String({ minLength: 1 })), redis_url: Type.Optional(Type.String({ minLength: 1 })) },
        { additionalProperties: false },
      ),
    ),
    capabilities: Type.Optional(Type.Record(Type.String({ minLength: 1 }), CapabilityOverride)),
    /** Grok's server-side tools: `x_search` joins web_search when a client asks for web search. */
    server_tools: Type.Optional(Type.Object({ x_search: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
    documents: Type.Optional(
      Type.Object(
        {
          /** Let document URLs reach loopback, private and link-local addresses (off: SSRF guard). */
          allow_private_urls: Type.Optional(Type.Boolean()),
          /** Seconds a document URL may take to download. */
          fetch_timeout: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: "a number of seconds above 0" })),
          /** Alias of fetch_timeout, in milliseconds (its older name). */
          fetch_timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, deprecated: true })),
          fetch_max_bytes: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigFileSchema>;

/** A fallback target. Unset fields default to the primary's base URL and keys, and the routed model. */
export interface FallbackTarget {
  /** Its API dialect; default `auto` (judged by its own base URL). */
  api?: UpstreamApiSetting;
  baseUrl?: string;
  keys?: string[];
  model?: string;
}

/** How hard the gateway tries before giving up, in milliseconds. 0 disables a timeout (or pings). */
export interface Resilience {
  connectTimeoutMs: number;
  /** Until the upstream's response headers (for a non-streaming request: the whole answer). */
  firstByteTimeoutMs: number;
  /** Longest silence between two chunks of the upstream's body. */
  idleTimeoutMs: number;
  /** Whole request, retries included. */
  totalTimeoutMs: number;
  /** Retries per upstream target (moving to another key after a rejected key is not a retry). */
  maxRetries: number;
  /** Time one target may spend on failed attempts and backoff before the next target is tried. */
  retryBudgetMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** How long a key rejected by the upstream (401/403) stays out of rotation. */
  badKeyQuarantineMs: number;
  /** `event: ping` to the client after this much silence on an open stream. */
  pingIntervalMs: number;
  fallbacks: FallbackTarget[];
}

export const RESILIENCE_DEFAULTS: Readonly<Resilience> = Object.freeze({
  connectTimeoutMs: 10_000,
  firstByteTimeoutMs: 600_000,
  idleTimeoutMs: 300_000,
  totalTimeoutMs: 900_000,
  maxRetries: 3,
  retryBudgetMs: 60_000,
  backoffInitialMs: 500,
  backoffMaxMs: 8_000,
  badKeyQuarantineMs: 900_000,
  pingIntervalMs: 5_000,
  fallbacks: [],
});

export interface Config {
  host: string;
  port: number;
  /** Keys clients must present; empty = no client authentication. */
  clientKeys: string[];
  /**
   * Without client keys, the Host names served besides loopback ones (lower case, no port);
   * see http/local-only.ts. Absent = none.
   */
  allowedHosts?: string[];
  logFile: string;
  logLevel: LogLevel;
  /** Rotate the log file at this size; 0 = never (rotate with logrotate and SIGUSR1). */
  logMaxBytes: number;
  logKeep: number;
  /** On SIGTERM/SIGINT, how long open requests may take to finish. */
  shutdownGraceSeconds: number;
  /** GET /metrics. Credentials accepted: the token, and the client keys when requireClientKey; none needed if neither. */
  metrics: { enabled: boolean; token: string | undefined; requireClientKey: boolean };
  maxBodyBytes: number;
  /** How long a client may take to send its body (408 past it); default DEFAULTS.bodyTimeoutSeconds. */
  bodyTimeoutMs?: number;
  /** Largest non-streamed upstream answer (502 past it); default DEFAULTS.maxResponseBytes. */
  maxResponseBytes?: number;
  /** How long an idle connection is kept (seconds, at most 255); default 60. Tests shorten it. */
  keepAliveSeconds?: number;
  configFile: string | undefined;
  /** `api`: the dialect (`auto`: Responses for *.x.ai, chat completions elsewhere); absent = auto. */
  upstream: { baseUrl: string; keys: string[]; api?: UpstreamApiSetting };
  /** Overrides of the default model map, from the config file. */
  modelMap: Record<string, string>;
  /** Which upstream model serves Claude-style names the model map does not name. */
  routing: RoutingConfig;
  /** The `[routing]` keys the config file set (the rest are built-in), for --print-config. */
  routingFromFile?: string[];
  /** `[catalog]`: how often the upstream's model catalog is re-read in the background; 0 = never. */
  catalog?: { refreshMs: number; fromFile?: boolean };
  /** Capability overrides from the config file, in file order (glob, caps). */
  capabilities?: Array<[string, Partial<ModelCaps>]>;
  /** How document URLs (PDFs) are fetched. */
  documents?: DocumentFetchConfig;
  /** `[server_tools]`: extra xAI server-side tools given with web search. */
  serverTools?: { xSearch: boolean };
  /** Timeouts, retries, pings and fallbacks (`[upstream]` timing keys and `[[fallback]]`). */
  resilience: Resilience;
  /** `[admin]`: the admin API (and virtual keys) are on when a token is set. */
  admin?: { token: string };
  /** `[store]`: the ledger and virtual keys (on with the admin API or an explicit URL); Redis for shared counters. */
  store?: { url: string; redisUrl?: string };
}

export const DEFAULT_STORE_URL = "sqlite://data/grok2api.db";

export interface DocumentFetchConfig {
  allowPrivateUrls: boolean;
  timeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_DOCUMENT_FETCH: DocumentFetchConfig = {
  allowPrivateUrls: false,
  timeoutMs: DEFAULTS.documentFetchTimeoutMs,
  maxBytes: DEFAULTS.documentFetchMaxBytes,
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

