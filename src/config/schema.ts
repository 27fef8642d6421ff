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
import type { TelemetryConfig } from "../telemetry/tracing";

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
  /** The reasoning store: memory it may hold, and how long an entry lives after its last use. */
  reasoningStoreMaxBytes: 64 * 1024 * 1024,
  reasoningStoreTtlSeconds: 24 * 3600,
} as const;

/** `[batches]` unset: Anthropic's numbers where it has them (100,000 requests or 256 MB a batch, results kept 29 days). */
export const BATCHES_DEFAULTS: Readonly<BatchesConfig> = Object.freeze({
  upstream: "auto",
  concurrency: 4,
  retentionMs: 29 * 24 * 3600 * 1000,
  pollIntervalMs: 30_000,
  leaseMs: 60_000,
  maxRequests: 100_000,
  maxBytes: 256 * 1024 * 1024,
  priceFactor: 0.5,
});

/** `[files]` unset: Anthropic's 500 MB a file; 10 GiB on the local disk in all. */
export const FILES_DEFAULTS: Readonly<FilesConfig> = Object.freeze({
  upstream: "auto",
  dir: "data/files",
  maxBytes: 500 * 1024 * 1024,
  storeMaxBytes: 10 * 1024 * 1024 * 1024,
});

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
  /** Seconds the upstream is read on after the client went, for its usage (0: stop at once). */
  drain_on_disconnect: Type.Optional(Type.Number({ minimum: 0, maximum: 600 })),
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
        {
          url: Type.Optional(Type.String({ minLength: 1 })),
          redis_url: Type.Optional(Type.String({ minLength: 1 })),
          /** With Redis away: refuse ("closed"), count on each instance ("open"), or "auto" (closed for keys with a budget). */
          redis_down: Type.Optional(Type.Union([Type.Literal("auto"), Type.Literal("closed"), Type.Literal("open")])),
        },
        { additionalProperties: false },
      ),
    ),
    capabilities: Type.Optional(Type.Record(Type.String({ minLength: 1 }), CapabilityOverride)),
    /** Grok's encrypted reasoning kept for clients that do not carry it back (src/reasoning/store.ts). */
    reasoning_store: Type.Optional(
      Type.Object(
        {
          /** Bytes kept in memory (0 = off); Redis (store.redis_url) has its own memory policy. */
          max_bytes: Type.Optional(Type.Integer({ minimum: 0 })),
          /** Seconds an entry lives after it was stored or last used. */
          ttl: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000_000, description: "a number of seconds above 0" })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Message Batches (`/v1/messages/batches`): xAI's Batch API, or run here in the background. */
    batches: Type.Optional(
      Type.Object(
        {
          /** true: xAI's Batch API; false: run here; "auto": xAI's when the primary upstream is api.x.ai. */
          upstream: Type.Optional(Type.Union([Type.Boolean(), Type.Literal("auto")])),
          /** Requests of batches run here at once (all batches together). */
          concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
          /** Seconds a batch's results are kept after it was created. */
          retention: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000_000, description: "a number of seconds above 0" })),
          /** Seconds between two looks at xAI's batches (and at the store for work left by a stopped instance). */
          poll_interval: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: "a number of seconds above 0" })),
          /** Seconds a batch stays with an instance that stopped renewing its claim before another takes it over. */
          lease: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, description: "a number of seconds above 0" })),
          max_requests: Type.Optional(Type.Integer({ minimum: 1 })),
          max_bytes: Type.Optional(Type.Integer({ minimum: 1024 })),
          /** What xAI charges for a batched request, as a share of the usual price, when a result does not say. */
          price_factor: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Files (`/v1/files`): kept in xAI's Files API, or on this machine's disk. */
    files: Type.Optional(
      Type.Object(
        {
          /** true: xAI's Files API; false: the local directory; "auto": xAI's when the primary upstream is api.x.ai. */
          upstream: Type.Optional(Type.Union([Type.Boolean(), Type.Literal("auto")])),
          /** Where uploaded files are kept when not upstream. */
          dir: Type.Optional(Type.String({ minLength: 1 })),
          /** Largest upload, bytes (xAI itself takes at most 50 MB). */
          max_bytes: Type.Optional(Type.Integer({ minimum: 1 })),
          /** Bytes the local directory may hold in all. */
          store_max_bytes: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** OpenTelemetry traces (OTLP/HTTP); the OTEL_* environment variables win. */
    telemetry: Type.Optional(
      Type.Object(
        {
          /** The OTLP/HTTP endpoint (traces go to <endpoint>/v1/traces), as OTEL_EXPORTER_OTLP_ENDPOINT. */
          otlp_endpoint: Type.Optional(Type.String({ minLength: 1 })),
          /** service.name of the spans (default grok2api), as OTEL_SERVICE_NAME. */
          service_name: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
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
  /**
   * After the client went: how long (and how many bytes) the upstream is read on for its final
   * usage before it is stopped; 0 ms stops it at once (the request is then charged an estimate).
   */
  drain?: { ms: number; bytes: number };
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
  drain: Object.freeze({ ms: 500, bytes: 1024 * 1024 }),
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
  /**
   * `[store]`: the ledger and virtual keys (on with the admin API or an explicit URL); Redis for shared
   * counters, and what virtual keys' requests get while it is away (`redis_down`, default "auto").
   */
  store?: { url: string; redisUrl?: string; redisDown?: RedisDownMode };
  /**
   * `[reasoning_store]`: Grok's encrypted reasoning kept server-side for clients that do not carry it back;
   * in Redis (shared by instances) when `redisUrl` is set (GROK2API_REDIS_URL), else in memory. maxBytes 0 = off.
   */
  reasoningStore?: { maxBytes: number; ttlMs: number; redisUrl?: string };
  /** `[batches]`: Message Batches; BATCHES_DEFAULTS when unset. */
  batches?: BatchesConfig;
  /** `[files]`: the Files API; FILES_DEFAULTS when unset. */
  files?: FilesConfig;
  /** OpenTelemetry traces: on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or `[telemetry]`). */
  telemetry?: TelemetryConfig;
}

/** Where a batch or a file goes: xAI's own API (true), this gateway (false), or xAI's when the primary upstream is api.x.ai. */
export type UpstreamChoice = boolean | "auto";

export interface BatchesConfig {
  upstream: UpstreamChoice;
  concurrency: number;
  retentionMs: number;
  pollIntervalMs: number;
  leaseMs: number;
  maxRequests: number;
  maxBytes: number;
  priceFactor: number;
}

export interface FilesConfig {
  upstream: UpstreamChoice;
  dir: string;
  maxBytes: number;
  storeMaxBytes: number;
}

export const DEFAULT_STORE_URL = "sqlite://data/grok2api.db";

/** `[store] redis_down`: "closed" refuses virtual keys' requests while Redis is away, "open" counts them on each instance, "auto" is closed for keys with a budget. */
export const REDIS_DOWN_MODES = ["auto", "closed", "open"] as const;
export type RedisDownMode = (typeof REDIS_DOWN_MODES)[number];

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

