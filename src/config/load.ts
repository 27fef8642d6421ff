/**
 * Loading: read a config file (TOML or JSON) or an environment file, and
 * resolve file, environment and flags into the Config the server runs on, with
 * the precedence flags > environment > config file > defaults. Every bad value
 * throws a ConfigError whose message is one line naming the culprit.
 */
import { Value } from "@sinclair/typebox/value";
import { DEFAULT_ROUTING } from "../models/routing";
import type { ModelCaps } from "../models/capabilities";
import { LogLevelSchema, type LogLevel } from "../http/log";
import { describeExpected, describeFileErrors } from "./describe";
import { checkSecurity } from "./security";
import { telemetryFromEnv } from "../telemetry/tracing";
import {
  BATCHES_DEFAULTS,
  ConfigError,
  DEFAULTS,
  FILES_DEFAULTS,
  DEFAULT_STORE_URL,
  REDIS_DOWN_MODES,
  type RedisDownMode,
  UPSTREAM_APIS,
  type UpstreamApiSetting,
  DEFAULT_DOCUMENT_FETCH,
  RESILIENCE_DEFAULTS,
  type Config,
  type ConfigFile,
  type Resilience,
} from "./schema";

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

/**
 * An environment file as systemd's `EnvironmentFile=` reads it: `KEY=value` lines,
 * `#` or `;` comments, blank lines, values optionally in single or double quotes.
 */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`${file}:${i + 1}: expected KEY=value`);
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["\\$`])/g, "$1");
    }
    out[m[1]!] = value;
  }
  return out;
}

export async function readEnvFile(file: string): Promise<Record<string, string>> {
  const f = Bun.file(file);
  if (!(await f.exists())) throw new ConfigError(`env file ${file} does not exist`);
  let text: string;
  try {
    text = await f.text();
  } catch (e) {
    throw new ConfigError(`env file ${file} cannot be read: ${(e as Error).message}`);
  }
  return parseEnvFile(text, file);
}

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

/** A host name or IP address as a Host header names it (no scheme, port or path), lower case. */
const HOST_NAME = /^(\[[0-9a-f:.]+\]|[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*)\.?$/;

function parseAllowedHosts(list: string[], source: string): string[] {
  return list.map((raw) => {
    const name = raw.trim().toLowerCase();
    if (!HOST_NAME.test(name)) {
      throw new ConfigError(`${source}: ${JSON.stringify(raw)} is not a host name (expected a name or an IP address without scheme, port or path, e.g. gw.example)`);
    }
    return name.replace(/\.$/, "");
  });
}

const ms = (seconds: number | undefined, fallback: number) => (seconds === undefined ? fallback : Math.round(seconds * 1000));

function parseUpstreamApi(v: string, where: string): UpstreamApiSetting {
  const a = v.trim().toLowerCase();
  if ((UPSTREAM_APIS as readonly string[]).includes(a)) return a as UpstreamApiSetting;
  throw new ConfigError(`${where}: expected one of ${UPSTREAM_APIS.join(", ")} (got "${v}")`);
}

/** `[admin]` and `[store]`, from the environment first. The store is on when the admin API is, or when a URL is given. */
function resolveTeams(file: ConfigFile, env: Record<string, string | undefined>): Pick<Config, "admin" | "store"> {
  const token = env.GROK2API_ADMIN_TOKEN || file.admin?.token;
  if (token !== undefined && token.length < 16) throw new ConfigError("GROK2API_ADMIN_TOKEN is too short (expected a string of at least 16 characters)");
  const explicit = env.GROK2API_STORE_URL || file.store?.url;
  const url = explicit ?? (token ? DEFAULT_STORE_URL : undefined);
  if (url !== undefined && !/^(sqlite:\/\/.+|postgres(ql)?:\/\/.+)$/i.test(url)) {
    throw new ConfigError("store.url (GROK2API_STORE_URL) must be sqlite://relative/path.db, sqlite:///absolute/path.db or postgres://…");
  }
  const redisUrl = redisUrlOf(file, env);
  const redisDown = redisDownOf(file, env);
  return {
    ...(token ? { admin: { token } } : {}),
    ...(url ? { store: { url, ...(redisUrl ? { redisUrl, redisDown } : {}) } } : {}),
  };
}

/** `[store] redis_down` (GROK2API_REDIS_DOWN): what virtual keys' requests get while Redis is away; default "auto". */
function redisDownOf(file: ConfigFile, env: Record<string, string | undefined>): RedisDownMode {
  const raw = env.GROK2API_REDIS_DOWN;
  if (raw === undefined || raw.trim() === "") return file.store?.redis_down ?? "auto";
  const v = raw.trim().toLowerCase();
  if ((REDIS_DOWN_MODES as readonly string[]).includes(v)) return v as RedisDownMode;
  throw new ConfigError(`GROK2API_REDIS_DOWN: expected one of ${REDIS_DOWN_MODES.join(", ")} (got "${raw}")`);
}

/** The Redis URL (GROK2API_REDIS_URL, else `[store] redis_url`), checked. */
function redisUrlOf(file: ConfigFile, env: Record<string, string | undefined>): string | undefined {
  const redisUrl = env.GROK2API_REDIS_URL || file.store?.redis_url;
  if (redisUrl !== undefined && !/^rediss?:\/\/.+/i.test(redisUrl)) throw new ConfigError("store.redis_url (GROK2API_REDIS_URL) must be redis://… or rediss://…");
  return redisUrl;
}

/** A whole number of bytes from the environment. */
function parseBytes(raw: string, source: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${source}=${JSON.stringify(raw)} is invalid (expected a whole number of bytes, 0 or more)`);
  return Number(raw.trim());
}

/** A number of seconds above 0 from the environment. */
function parseSeconds(raw: string, source: string): number {
  const n = Number(raw.trim());
  if (!raw.trim() || !Number.isFinite(n) || n <= 0 || n > 1_000_000_000) {
    throw new ConfigError(`${source}=${JSON.stringify(raw)} is invalid (expected a number of seconds above 0)`);
  }
  return n;
}

/** `[telemetry]` and the OTEL_* variables: traces on when an endpoint is set (checked as a URL). */
function resolveTelemetry(file: ConfigFile, env: Record<string, string | undefined>): Pick<Config, "telemetry"> {
  const t = telemetryFromEnv(env, file.telemetry?.otlp_endpoint, file.telemetry?.service_name);
  if (!t) return {};
  checkBaseUrl(t.tracesUrl, "OTEL_EXPORTER_OTLP_ENDPOINT ([telemetry] otlp_endpoint)");
  return { telemetry: t };
}

/** `[reasoning_store]` (env GROK2API_REASONING_STORE_MAX_BYTES / _TTL), shared through Redis when one is configured. */
function resolveReasoningStore(file: ConfigFile, env: Record<string, string | undefined>): NonNullable<Config["reasoningStore"]> {
  const f = file.reasoning_store ?? {};
  const maxBytes = env.GROK2API_REASONING_STORE_MAX_BYTES
    ? parseBytes(env.GROK2API_REASONING_STORE_MAX_BYTES, "GROK2API_REASONING_STORE_MAX_BYTES")
    : (f.max_bytes ?? DEFAULTS.reasoningStoreMaxBytes);
  const ttlSeconds = env.GROK2API_REASONING_STORE_TTL ? parseSeconds(env.GROK2API_REASONING_STORE_TTL, "GROK2API_REASONING_STORE_TTL") : f.ttl;
  const redisUrl = redisUrlOf(file, env);
  return { maxBytes, ttlMs: ms(ttlSeconds, DEFAULTS.reasoningStoreTtlSeconds * 1000), ...(redisUrl ? { redisUrl } : {}) };
}

/** `[batches]`, the defaults filled in. */
function resolveBatches(file: ConfigFile): NonNullable<Config["batches"]> {
  const b = file.batches ?? {};
  const d = BATCHES_DEFAULTS;
  return {
    upstream: b.upstream ?? d.upstream,
    concurrency: b.concurrency ?? d.concurrency,
    retentionMs: ms(b.retention, d.retentionMs),
    pollIntervalMs: ms(b.poll_interval, d.pollIntervalMs),
    leaseMs: ms(b.lease, d.leaseMs),
    maxRequests: b.max_requests ?? d.maxRequests,
    maxBytes: b.max_bytes ?? d.maxBytes,
    priceFactor: b.price_factor ?? d.priceFactor,
  };
}

/** `[files]` (env GROK2API_FILES_DIR), the defaults filled in. */
function resolveFiles(file: ConfigFile, env: Record<string, string | undefined>): NonNullable<Config["files"]> {
  const f = file.files ?? {};
  const d = FILES_DEFAULTS;
  return {
    upstream: f.upstream ?? d.upstream,
    dir: env.GROK2API_FILES_DIR || f.dir || d.dir,
    maxBytes: f.max_bytes ?? d.maxBytes,
    storeMaxBytes: f.store_max_bytes ?? d.storeMaxBytes,
  };
}

/** A duration given under its name in seconds or under an older alias; both at once is a mistake. */
function duration<T>(where: string, name: string, value: T | undefined, alias: string, aliasValue: T | undefined): T | undefined {
  if (value !== undefined && aliasValue !== undefined) {
    throw new ConfigError(`${where}: set ${name} or ${alias} (an older name for it), not both`);
  }
  return value ?? aliasValue;
}

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
    drain: { ms: ms(u.drain_on_disconnect, d.drain!.ms), bytes: d.drain!.bytes },
    fallbacks: (file.fallback ?? []).map((f, i) => ({
      ...(f.api ? { api: f.api } : {}),
      ...(f.base_url ? { baseUrl: checkBaseUrl(f.base_url, `${configFile}: fallback[${i}].base_url`) } : {}),
      ...(f.api_keys ? { keys: f.api_keys } : {}),
      ...(f.model ? { model: f.model } : {}),
    })),
  };
}

/** The command-line flags that settle configuration (see cli.ts). */
export interface ConfigFlags {
  host?: string;
  port?: string;
  logLevel?: string;
  debug?: boolean;
}

/** File, environment and flags → the Config the server runs on, checked against the security rules. */
export function resolveConfig(
  file: ConfigFile,
  configFile: string | undefined,
  env: Record<string, string | undefined>,
  flags: ConfigFlags,
): Config {
  const where = configFile ?? "config";
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

  const grace = duration(where, "shutdown_grace", file.shutdown_grace, "shutdown_grace_seconds", file.shutdown_grace_seconds);
  const fetchTimeout = duration(
    where,
    "documents.fetch_timeout",
    file.documents?.fetch_timeout,
    "documents.fetch_timeout_ms",
    file.documents?.fetch_timeout_ms === undefined ? undefined : file.documents.fetch_timeout_ms / 1000,
  );

  const config: Config = {
    host,
    port,
    clientKeys: env.GROK2API_API_KEYS !== undefined ? splitList(env.GROK2API_API_KEYS) : (file.api_keys ?? []),
    allowedHosts:
      env.GROK2API_ALLOWED_HOSTS !== undefined
        ? parseAllowedHosts(splitList(env.GROK2API_ALLOWED_HOSTS), "GROK2API_ALLOWED_HOSTS")
        : parseAllowedHosts(file.allowed_hosts ?? [], `${where}: allowed_hosts`),
    logFile: env.GROK2API_LOG_FILE || file.log_file || DEFAULTS.logFile,
    logLevel: flags.debug
      ? "debug"
      : flags.logLevel !== undefined
        ? parseLogLevel(flags.logLevel, "--log-level")
        : env.GROK2API_LOG_LEVEL
          ? parseLogLevel(env.GROK2API_LOG_LEVEL, "GROK2API_LOG_LEVEL")
          : (file.log_level ?? DEFAULTS.logLevel),
    logMaxBytes: file.log_max_bytes ?? DEFAULTS.logMaxBytes,
    logKeep: file.log_keep ?? DEFAULTS.logKeep,
    shutdownGraceSeconds: grace ?? DEFAULTS.shutdownGraceSeconds,
    metrics: resolveMetrics(file, env),
    maxBodyBytes: file.max_body_bytes ?? DEFAULTS.maxBodyBytes,
    bodyTimeoutMs: Math.round((file.body_timeout ?? DEFAULTS.bodyTimeoutSeconds) * 1000),
    maxResponseBytes: file.max_response_bytes ?? DEFAULTS.maxResponseBytes,
    configFile,
    upstream: {
      baseUrl,
      keys: env.XAI_API_KEY !== undefined ? splitList(env.XAI_API_KEY) : (file.upstream?.api_keys ?? []),
      api: env.GROK2API_UPSTREAM_API ? parseUpstreamApi(env.GROK2API_UPSTREAM_API, "GROK2API_UPSTREAM_API") : (file.upstream?.api ?? "auto"),
    },
    modelMap: file.model_map ?? {},
    routing: { ...DEFAULT_ROUTING, ...file.routing },
    routingFromFile: Object.keys(file.routing ?? {}),
    catalog: { refreshMs: ms(file.catalog?.refresh, 5 * 60_000), fromFile: file.catalog?.refresh !== undefined },
    capabilities: capabilityOverrides(file.capabilities),
    documents: {
      allowPrivateUrls: file.documents?.allow_private_urls ?? DEFAULT_DOCUMENT_FETCH.allowPrivateUrls,
      timeoutMs: ms(fetchTimeout, DEFAULT_DOCUMENT_FETCH.timeoutMs),
      maxBytes: file.documents?.fetch_max_bytes ?? DEFAULT_DOCUMENT_FETCH.maxBytes,
    },
    resilience: resilienceFromFile(file, configFile),
    serverTools: { xSearch: file.server_tools?.x_search ?? false },
    reasoningStore: resolveReasoningStore(file, env),
    batches: resolveBatches(file),
    files: resolveFiles(file, env),
    ...resolveTelemetry(file, env),
    ...resolveTeams(file, env),
  };
  config.metrics.requireClientKey = file.metrics?.require_client_key ?? config.clientKeys.length > 0;
  checkSecurity(config);
  return config;
}
