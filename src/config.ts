/**
 * Configuration: typebox schema for the file, and loading with the precedence
 * flags > environment > config file > defaults. Every bad value throws a
 * ConfigError whose message is one line naming the culprit.
 */
import { parseArgs } from "node:util";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { ModelCaps } from "./models/capabilities";
import { NAME, VERSION } from "./version";

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 9527,
  logFile: "logs/app.log",
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
        },
        { additionalProperties: false },
      ),
    ),
    model_map: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
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
  /** Capability overrides from the config file, in file order (glob, caps). */
  capabilities?: Array<[string, Partial<ModelCaps>]>;
  /** How document URLs (PDFs) are fetched. */
  documents?: DocumentFetchConfig;
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
  if (c.upstream.keys.length > 0 && c.clientKeys.length === 0 && !isLoopback(c.host)) {
    throw new ConfigError(
      `refusing to listen on ${c.host} with an upstream key and no client keys: set GROK2API_API_KEYS, or listen on 127.0.0.1`,
    );
  }
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
    capabilities: capabilityOverrides(file.capabilities),
    documents: {
      allowPrivateUrls: file.documents?.allow_private_urls ?? DEFAULT_DOCUMENT_FETCH.allowPrivateUrls,
      timeoutMs: file.documents?.fetch_timeout_ms ?? DEFAULT_DOCUMENT_FETCH.timeoutMs,
      maxBytes: file.documents?.fetch_max_bytes ?? DEFAULT_DOCUMENT_FETCH.maxBytes,
    },
  };
  checkSecurity(config);
  return { kind: "serve", config };
}
