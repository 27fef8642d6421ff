/**
 * Configuration: typebox schema for the file, and loading with the precedence
 * flags > environment > config file > defaults. Every bad value throws a
 * ConfigError whose message is one line naming the culprit.
 */
import { parseArgs } from "node:util";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { NAME, VERSION } from "./version";

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 9527,
  logFile: "logs/app.log",
  baseUrl: "https://api.x.ai/v1",
  maxBodyBytes: 32 * 1024 * 1024,
} as const;

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
  maxBodyBytes: number;
  configFile: string | undefined;
  upstream: { baseUrl: string; keys: string[] };
  /** Overrides of the default model map, from the config file. */
  modelMap: Record<string, string>;
  /** Timeouts, retries, pings and fallbacks (`[upstream]` timing keys and `[[fallback]]`). */
  resilience: Resilience;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Command = { kind: "help" } | { kind: "version" } | { kind: "serve"; config: Config };

export const HELP = `${NAME} ${VERSION} — Anthropic Messages API and OpenAI chat completions over xAI Grok

Usage: ${NAME} [--host ADDR] [--port N] [--config FILE]
       ${NAME} --help | --version

Options:
  --host ADDR      address to listen on (env GROK2API_HOST, default ${DEFAULTS.host})
  --port N         port to listen on (env GROK2API_PORT, default ${DEFAULTS.port})
  --config FILE    TOML or JSON config file (env GROK2API_CONFIG)
  -h, --help       show this help
  -v, --version    print the version

Environment:
  GROK2API_API_KEYS  comma-separated keys clients must present (Bearer or x-api-key)
  GROK2API_LOG_FILE  access log file (default ${DEFAULTS.logFile})
  XAI_API_KEY        upstream key(s), comma-separated
  XAI_BASE_URL       upstream base URL (default ${DEFAULTS.baseUrl})

With no client keys and no upstream key, each client's own key is forwarded upstream.`;

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

function describeFileError(file: string, data: unknown): string | undefined {
  const first = Value.Errors(ConfigFileSchema, data).First();
  if (!first) return undefined;
  const key = first.path.replace(/^\//, "").replace(/\//g, ".") || "(top level)";
  if (first.schema && (first.schema as { additionalProperties?: unknown }).additionalProperties === false && first.message.includes("Unexpected property")) {
    return `${file}: unknown key "${key}"`;
  }
  return `${file}: ${key} = ${JSON.stringify(first.value)} is invalid: ${first.message.toLowerCase()}`;
}

export async function readConfigFile(file: string): Promise<ConfigFile> {
  const f = Bun.file(file);
  if (!(await f.exists())) throw new ConfigError(`config file ${file} does not exist`);
  const text = await f.text();
  let data: unknown;
  try {
    data = file.endsWith(".json") ? JSON.parse(text) : Bun.TOML.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${file} cannot be parsed: ${(e as Error).message.split("\n")[0]}`);
  }
  const problem = describeFileError(file, data);
  if (problem) throw new ConfigError(problem);
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
  const anyUpstreamKey = c.upstream.keys.length > 0 || (c.resilience?.fallbacks ?? []).some((f) => (f.keys?.length ?? 0) > 0);
  if (anyUpstreamKey && c.clientKeys.length === 0 && !isLoopback(c.host)) {
    throw new ConfigError(
      `refusing to listen on ${c.host} with an upstream key and no client keys: set GROK2API_API_KEYS, or listen on 127.0.0.1`,
    );
  }
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
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new ConfigError(`${(e as Error).message.split("\n")[0]} (see --help)`);
  }
  const flags = parsed.values;
  if (flags.help) return { kind: "help" };
  if (flags.version) return { kind: "version" };

  const configFile = flags.config ?? (env.GROK2API_CONFIG || undefined);
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
    maxBodyBytes: file.max_body_bytes ?? DEFAULTS.maxBodyBytes,
    configFile,
    upstream: {
      baseUrl,
      keys: env.XAI_API_KEY !== undefined ? splitList(env.XAI_API_KEY) : (file.upstream?.api_keys ?? []),
    },
    modelMap: file.model_map ?? {},
    resilience: resilienceFromFile(file, configFile),
  };
  checkSecurity(config);
  return { kind: "serve", config };
}
