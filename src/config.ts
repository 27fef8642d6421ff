/**
 * Configuration: typebox schema for the file, and loading with the precedence
 * flags > environment > config file > defaults. Every bad value throws a
 * ConfigError whose message is one line naming the culprit.
 */
import { parseArgs } from "node:util";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { ModelCaps } from "./models/capabilities";
import { DEFAULT_ROUTING, type RoutingConfig } from "./models/routing";
import { NAME, VERSION } from "./version";
import { ValueErrorType } from "@sinclair/typebox/errors";
import { LogLevelSchema, type LogLevel } from "./http/log";
import { isSecretName } from "./redact";

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

/** One `[[fallback]]`: another upstream and/or model, tried in order when the primary is exhausted. */
const FallbackFileEntry = Type.Object(
  {
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
    log_file: Type.Optional(Type.String({ minLength: 1 })),
    max_body_bytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    log_level: Type.Optional(LogLevelSchema),
    log_max_bytes: Type.Optional(Type.Integer({ minimum: 0 })),
    log_keep: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    shutdown_grace_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
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
    catalog: Type.Optional(Type.Object({ refresh: Type.Optional(Type.Number({ minimum: 0 })) }, { additionalProperties: false })),
    admin: Type.Optional(Type.Object({ token: Type.Optional(Type.String({ minLength: 16 })) }, { additionalProperties: false })),
    store: Type.Optional(
      Type.Object(
        { url: Type.Optional(Type.String({ minLength: 1 })), redis_url: Type.Optional(Type.String({ minLength: 1 })) },
        { additionalProperties: false },
      ),
    ),
    capabilities: Type.Optional(Type.Record(Type.String({ minLength: 1 }), CapabilityOverride)),
    documents: Type.Optional(
      Type.Object(
        {
          /** Let document URLs reach loopback, private and link-local addresses (off: SSRF guard). */
          allow_private_urls: Type.Optional(Type.Boolean()),
          fetch_timeout_ms: Type.Optional(Type.Integer({ minimum: 1 })),
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
  configFile: string | undefined;
  upstream: { baseUrl: string; keys: string[] };
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
  /** Timeouts, retries, pings and fallbacks (`[upstream]` timing keys and `[[fallback]]`). */
  resilience: Resilience;
  /** `[admin]`: the admin API (and virtual keys) are on when a token is set. */
  admin?: { token: string };
  /** `[store]`: the ledger and virtual keys (on with the admin API or an explicit URL); Redis for shared counters. */
  store?: { url: string; redisUrl?: string };
}

export const DEFAULT_STORE_URL = "sqlite://data/grok2api.db";

/** `[admin]` and `[store]`, from the environment first. The store is on when the admin API is, or when a URL is given. */
function resolveTeams(file: ConfigFile, env: Record<string, string | undefined>): Pick<Config, "admin" | "store"> {
  const token = env.GROK2API_ADMIN_TOKEN || file.admin?.token;
  if (token !== undefined && token.length < 16) throw new ConfigError("GROK2API_ADMIN_TOKEN is too short (expected a string of at least 16 characters)");
  const explicit = env.GROK2API_STORE_URL || file.store?.url;
  const url = explicit ?? (token ? DEFAULT_STORE_URL : undefined);
  if (url !== undefined && !/^(sqlite:\/\/.+|postgres(ql)?:\/\/.+)$/i.test(url)) {
    throw new ConfigError("store.url (GROK2API_STORE_URL) must be sqlite://relative/path.db, sqlite:///absolute/path.db or postgres://…");
  }
  const redisUrl = env.GROK2API_REDIS_URL || file.store?.redis_url;
  if (redisUrl !== undefined && !/^rediss?:\/\/.+/i.test(redisUrl)) throw new ConfigError("store.redis_url (GROK2API_REDIS_URL) must be redis://… or rediss://…");
  return {
    ...(token ? { admin: { token } } : {}),
    ...(url ? { store: { url, ...(redisUrl ? { redisUrl } : {}) } } : {}),
  };
}

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

/** `[capabilities]` of the config file → the capability table's shape. */
export function capabilityOverrides(file: ConfigFile["capabilities"]): Array<[string, Partial<ModelCaps>]> {
  return Object.entries(file ?? {}).map(([glob, c]) => {
    const caps: Partial<ModelCaps> = {};
    if (c.reasoning_effort !== undefined) caps.reasoningEffort = c.reasoning_effort.length ? c.reasoning_effort : null;
    if (c.stop !== undefined) caps.stop = c.stop;
    if (c.penalties !== undefined) caps.penalties = c.penalties;
    if (c.vision !== undefined) caps.vision = c.vision;
    if (c.context_window !== undefined) caps.contextWindow = c.context_window;
    if (c.max_output !== undefined) caps.maxOutput = c.max_output;
    return [glob, caps];
  });
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Command =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "serve"; config: Config }
  | { kind: "print-config"; config: Config }
  | { kind: "list-models"; config: Config }
  | { kind: "check-config"; file: string; config: Config };

export const HELP = `${NAME} ${VERSION} — Anthropic Messages API and OpenAI chat completions over xAI Grok

Usage: ${NAME} [--host ADDR] [--port N] [--config FILE] [--log-level LEVEL | --debug]
       ${NAME} --print-config [--config FILE]
       ${NAME} --check-config FILE
       ${NAME} models | --list-models [--config FILE]
       ${NAME} --help | --version

Options:
  --host ADDR          address to listen on (env GROK2API_HOST, default ${DEFAULTS.host})
  --port N             port to listen on (env GROK2API_PORT, default ${DEFAULTS.port})
  --config FILE        TOML or JSON config file (env GROK2API_CONFIG)
  --log-level LEVEL    debug, info, warn or error (env GROK2API_LOG_LEVEL, default ${DEFAULTS.logLevel})
  --debug              same as --log-level debug: also logs translated request bodies (keys masked)
  --print-config       print the effective configuration (secrets masked) and exit
  --list-models        list the upstream's models (vision, context, prices, which names route there) and exit
  --check-config FILE  validate FILE (with this environment) and exit 0 if the server would start
  -h, --help           show this help
  -v, --version        print the version

Environment:
  GROK2API_API_KEYS  comma-separated keys clients must present (Bearer or x-api-key)
  GROK2API_LOG_FILE  access log file (default ${DEFAULTS.logFile})
  XAI_API_KEY        upstream key(s), comma-separated
  XAI_BASE_URL       upstream base URL (default ${DEFAULTS.baseUrl})
  GROK2API_METRICS_TOKEN  bearer token accepted by GET /metrics
  GROK2API_ADMIN_TOKEN    turns on the admin API and virtual keys (at least 16 characters)
  GROK2API_STORE_URL      the ledger and keys (default ${DEFAULT_STORE_URL} with an admin token)
  GROK2API_REDIS_URL      Redis for rate-limit and budget counters shared by several instances

With no client keys and no upstream key, each client's own key is forwarded upstream.

Signals: SIGHUP reloads the config file, SIGUSR1 reopens the log file,
SIGTERM/SIGINT let open streams finish (shutdown_grace_seconds) and exit.`;

const splitList = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

function parsePort(raw: string, source: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n > 65535) {
    throw new ConfigError(`${source}=${JSON.stringify(raw)} is not a valid port (expected an integer from 0 to 65535; 0 picks a free port)`);
  }
  return n;
}

function checkBaseUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${source}=${JSON.stringify(raw)} is not a valid URL (expected e.g. https://api.x.ai/v1)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${source}=${JSON.stringify(raw)} must be an http:// or https:// URL`);
  }
  return raw.replace(/\/+$/, "");
}

type SchemaNode = Record<string, any>;

/** What a schema accepts, in words: "an integer from 0 to 65535", "one of \"debug\", \"info\"", … */
export function describeExpected(schema: SchemaNode): string {
  if (typeof schema.description === "string") return schema.description;
  if (Array.isArray(schema.anyOf)) {
    const options = schema.anyOf as SchemaNode[];
    if (options.every((o) => "const" in o)) return `one of ${options.map((o) => JSON.stringify(o.const)).join(", ")}`;
    return options.map(describeExpected).join(", or ");
  }
  if ("const" in schema) return JSON.stringify(schema.const);
  switch (schema.type) {
    case "integer":
    case "number": {
      const what = schema.type === "integer" ? "an integer" : "a number";
      const { minimum: lo, maximum: hi } = schema;
      if (lo !== undefined && hi !== undefined) return `${what} from ${lo} to ${hi}`;
      if (lo !== undefined) return `${what} of at least ${lo}`;
      if (hi !== undefined) return `${what} of at most ${hi}`;
      return what;
    }
    case "string":
      if (schema.minLength === 1) return "a non-empty string";
      if (schema.minLength > 1) return `a string of at least ${schema.minLength} characters`;
      return "a string";
    case "boolean":
      return "true or false";
    case "array":
      return `a list whose every item is ${describeExpected(schema.items ?? {})}`;
    case "object": {
      if (schema.patternProperties) {
        const [value] = Object.values(schema.patternProperties as Record<string, SchemaNode>);
        return `a table whose every value is ${describeExpected(value ?? {})}`;
      }
      const keys = Object.keys(schema.properties ?? {});
      return keys.length ? `a table with the keys ${keys.join(", ")}` : "a table";
    }
  }
  return "a valid value";
}

/** JSON pointer "/upstream/api_keys/0" → "upstream.api_keys[0]". */
function keyName(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += (out ? "." : "") + (/^[A-Za-z0-9_-]+$/.test(seg) ? seg : JSON.stringify(seg));
  }
  return out || "(top level)";
}

/** A value as shown in an error; a secret's value is never shown. */
function showValue(pointer: string, value: unknown): string {
  if (value === undefined) return "nothing";
  if (pointer.split("/").some(isSecretName)) {
    if (value === "") return '""';
    return typeof value === "string" ? `a secret of ${value.length} characters (not shown)` : `a ${Array.isArray(value) ? "list" : typeof value} (secret, not shown)`;
  }
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

/** Every problem of a config file, one line each: the key, its value, and what was expected. */
export function describeFileErrors(file: string, data: unknown, max = 10): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(ConfigFileSchema, data)) {
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    const key = keyName(e.path);
    if (e.type === ValueErrorType.ObjectAdditionalProperties) {
      const allowed = Object.keys((e.schema as SchemaNode).properties ?? {}).join(", ");
      lines.push(`${file}: unknown key "${key}" = ${showValue(e.path, e.value)} (expected one of the keys ${allowed})`);
    } else if (e.type === ValueErrorType.ObjectRequiredProperty) {
      lines.push(`${file}: ${key} is missing (expected ${describeExpected(e.schema as SchemaNode)})`);
    } else {
      lines.push(`${file}: ${key} = ${showValue(e.path, e.value)} is invalid (expected ${describeExpected(e.schema as SchemaNode)})`);
    }
    if (lines.length >= max) break;
  }
  return lines;
}

/** A `.json` file, or any file whose text starts with `{` (which TOML never does), is JSON. */
const isJson = (file: string, text: string) => file.endsWith(".json") || text.trimStart().startsWith("{");

export async function readConfigFile(file: string): Promise<ConfigFile> {
  const f = Bun.file(file);
  if (!(await f.exists())) throw new ConfigError(`config file ${file} does not exist`);
  const text = await f.text();
  let data: unknown;
  try {
    data = isJson(file, text) ? JSON.parse(text) : Bun.TOML.parse(text);
  } catch (e) {
    const format = isJson(file, text) ? "JSON" : "TOML";
    throw new ConfigError(`config file ${file} cannot be parsed as ${format}: ${(e as Error).message.split("\n")[0]}`);
  }
  const problems = describeFileErrors(file, data);
  if (problems.length) throw new ConfigError(problems.join("\n"));
  return data as ConfigFile;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Cross-field rules that keep keys from being exposed by accident. */
export function checkSecurity(c: Config): void {
  if (c.clientKeys.length > 0 && c.upstream.keys.length === 0) {
    throw new ConfigError(
      "client keys are configured (GROK2API_API_KEYS) but no upstream key: set XAI_API_KEY so authenticated clients can be served",
    );
  }
  if (c.admin && c.upstream.keys.length === 0) {
    throw new ConfigError("the admin API is on (GROK2API_ADMIN_TOKEN) but no upstream key: virtual keys need XAI_API_KEY to serve their clients");
  }
  const anyUpstreamKey = c.upstream.keys.length > 0 || (c.resilience?.fallbacks ?? []).some((f) => (f.keys?.length ?? 0) > 0);
  // With virtual keys on, every request must present a key (static or virtual).
  if (anyUpstreamKey && c.clientKeys.length === 0 && !c.admin && !isLoopback(c.host)) {
    throw new ConfigError(
      `refusing to listen on ${c.host} with an upstream key and no client keys: set GROK2API_API_KEYS, or listen on 127.0.0.1`,
    );
  }
  if (c.metrics.requireClientKey && c.clientKeys.length === 0) {
    throw new ConfigError("metrics.require_client_key = true but no client keys are configured (expected api_keys or GROK2API_API_KEYS)");
  }
}

function parseLogLevel(raw: string, source: string): LogLevel {
  if (!Value.Check(LogLevelSchema, raw)) {
    throw new ConfigError(`${source}=${JSON.stringify(raw)} is invalid (expected ${describeExpected(LogLevelSchema)})`);
  }
  return raw;
}

function resolveMetrics(file: ConfigFile, env: Record<string, string | undefined>): Config["metrics"] {
  const token = env.GROK2API_METRICS_TOKEN || file.metrics?.token;
  if (token !== undefined && token.length < 16) {
    throw new ConfigError(`GROK2API_METRICS_TOKEN is too short (expected a string of at least 16 characters)`);
  }
  // requireClientKey is settled once the client keys are known.
  return { enabled: file.metrics?.enabled ?? true, token, requireClientKey: false };
}

const ms = (seconds: number | undefined, fallback: number) => (seconds === undefined ? fallback : Math.round(seconds * 1000));

export function resilienceFromFile(file: ConfigFile, configFile: string | undefined): Resilience {
  const u = file.upstream ?? {};
  const d = RESILIENCE_DEFAULTS;
  return {
    connectTimeoutMs: ms(u.connect_timeout, d.connectTimeoutMs),
    firstByteTimeoutMs: ms(u.first_byte_timeout, d.firstByteTimeoutMs),
    idleTimeoutMs: ms(u.idle_timeout, d.idleTimeoutMs),
    totalTimeoutMs: ms(u.total_timeout, d.totalTimeoutMs),
    maxRetries: u.max_retries ?? d.maxRetries,
    retryBudgetMs: ms(u.retry_budget, d.retryBudgetMs),
    backoffInitialMs: ms(u.backoff_initial, d.backoffInitialMs),
    backoffMaxMs: ms(u.backoff_max, d.backoffMaxMs),
    badKeyQuarantineMs: ms(u.bad_key_quarantine, d.badKeyQuarantineMs),
    pingIntervalMs: ms(u.ping_interval, d.pingIntervalMs),
    fallbacks: (file.fallback ?? []).map((f, i) => ({
      ...(f.base_url ? { baseUrl: checkBaseUrl(f.base_url, `${configFile}: fallback[${i}].base_url`) } : {}),
      ...(f.api_keys ? { keys: f.api_keys } : {}),
      ...(f.model ? { model: f.model } : {}),
    })),
  };
}

/** Parse the command line and environment into what to do. Throws ConfigError. */
export async function loadCommand(argv: string[], env: Record<string, string | undefined>): Promise<Command> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        config: { type: "string" },
        "log-level": { type: "string" },
        debug: { type: "boolean" },
        "print-config": { type: "boolean" },
        "list-models": { type: "boolean" },
        "check-config": { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
      strict: true,
      allowPositionals: argv[0] === "models", // `grok2api models`: the same as --list-models
    });
  } catch (e) {
    throw new ConfigError(`${(e as Error).message.split("\n")[0]} (see --help)`);
  }
  const flags = parsed.values;
  if (parsed.positionals.length > 1) throw new ConfigError(`unexpected argument: ${parsed.positionals[1]} (see --help)`);
  if (flags.help) return { kind: "help" };
  if (flags.version) return { kind: "version" };

  const configFile = flags["check-config"] ?? flags.config ?? (env.GROK2API_CONFIG || undefined);
  const file: ConfigFile = configFile ? await readConfigFile(configFile) : {};

  const host = flags.host ?? (env.GROK2API_HOST || undefined) ?? file.host ?? DEFAULTS.host;
  if (!host.trim()) throw new ConfigError("--host must not be empty");
  const port =
    flags.port !== undefined
      ? parsePort(flags.port, "--port")
      : env.GROK2API_PORT
        ? parsePort(env.GROK2API_PORT, "GROK2API_PORT")
        : (file.port ?? DEFAULTS.port);

  const baseUrl = env.XAI_BASE_URL
    ? checkBaseUrl(env.XAI_BASE_URL, "XAI_BASE_URL")
    : file.upstream?.base_url
      ? checkBaseUrl(file.upstream.base_url, `${configFile}: upstream.base_url`)
      : DEFAULTS.baseUrl;

  const config: Config = {
    host,
    port,
    clientKeys: env.GROK2API_API_KEYS !== undefined ? splitList(env.GROK2API_API_KEYS) : (file.api_keys ?? []),
    logFile: env.GROK2API_LOG_FILE || file.log_file || DEFAULTS.logFile,
    logLevel: flags.debug
      ? "debug"
      : flags["log-level"] !== undefined
        ? parseLogLevel(flags["log-level"], "--log-level")
        : env.GROK2API_LOG_LEVEL
          ? parseLogLevel(env.GROK2API_LOG_LEVEL, "GROK2API_LOG_LEVEL")
          : (file.log_level ?? DEFAULTS.logLevel),
    logMaxBytes: file.log_max_bytes ?? DEFAULTS.logMaxBytes,
    logKeep: file.log_keep ?? DEFAULTS.logKeep,
    shutdownGraceSeconds: file.shutdown_grace_seconds ?? DEFAULTS.shutdownGraceSeconds,
    metrics: resolveMetrics(file, env),
    maxBodyBytes: file.max_body_bytes ?? DEFAULTS.maxBodyBytes,
    configFile,
    upstream: {
      baseUrl,
      keys: env.XAI_API_KEY !== undefined ? splitList(env.XAI_API_KEY) : (file.upstream?.api_keys ?? []),
    },
    modelMap: file.model_map ?? {},
    routing: { ...DEFAULT_ROUTING, ...file.routing },
    routingFromFile: Object.keys(file.routing ?? {}),
    catalog: { refreshMs: ms(file.catalog?.refresh, 5 * 60_000), fromFile: file.catalog?.refresh !== undefined },
    capabilities: capabilityOverrides(file.capabilities),
    documents: {
      allowPrivateUrls: file.documents?.allow_private_urls ?? DEFAULT_DOCUMENT_FETCH.allowPrivateUrls,
      timeoutMs: file.documents?.fetch_timeout_ms ?? DEFAULT_DOCUMENT_FETCH.timeoutMs,
      maxBytes: file.documents?.fetch_max_bytes ?? DEFAULT_DOCUMENT_FETCH.maxBytes,
    },
    resilience: resilienceFromFile(file, configFile),
    ...resolveTeams(file, env),
  };
  config.metrics.requireClientKey = file.metrics?.require_client_key ?? config.clientKeys.length > 0;
  checkSecurity(config);
  if (flags["check-config"] !== undefined) return { kind: "check-config", file: flags["check-config"], config };
  if (flags["print-config"]) return { kind: "print-config", config };
  if (flags["list-models"] || parsed.positionals[0] === "models") return { kind: "list-models", config };
  return { kind: "serve", config };
}
