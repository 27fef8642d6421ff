/** The command line: flags → what to do (serve, print or check the configuration, help, version). */
import { parseArgs } from "node:util";
import { NAME, VERSION } from "../version";
import { readConfigFile, readEnvFile, resolveConfig } from "./load";
import { ConfigError, DEFAULTS, DEFAULT_STORE_URL, type Config, type ConfigFile } from "./schema";

export type Command =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "serve"; config: Config }
  | { kind: "print-config"; config: Config }
  | { kind: "list-models"; config: Config }
  | { kind: "batches"; config: Config; id?: string }
  | { kind: "check-config"; file: string; config: Config };

export const HELP = `${NAME} ${VERSION} — Anthropic Messages API and OpenAI chat completions over xAI Grok

Usage: ${NAME} [--host ADDR] [--port N] [--config FILE] [--log-level LEVEL | --debug]
       ${NAME} --print-config [--config FILE] [--env-file FILE]
       ${NAME} --check-config FILE [--env-file FILE]
       ${NAME} models | --list-models [--config FILE]
       ${NAME} batches [BATCH_ID] [--config FILE]
       ${NAME} --help | --version

Options:
  --host ADDR          address to listen on (env GROK2API_HOST, default ${DEFAULTS.host})
  --port N             port to listen on (env GROK2API_PORT, default ${DEFAULTS.port})
  --config FILE        TOML or JSON config file (env GROK2API_CONFIG)
  --env-file FILE      read KEY=value lines (as systemd's EnvironmentFile=) over the environment
  --log-level LEVEL    debug, info, warn or error (env GROK2API_LOG_LEVEL, default ${DEFAULTS.logLevel})
  --debug              same as --log-level debug: also logs translated request bodies (keys masked)
  --print-config       print the effective configuration (secrets masked) and exit
  --list-models        list the upstream's models (vision, context, prices, which names route there) and exit
  --check-config FILE  validate FILE (with this environment) and that the log file can be
                       opened, and exit 0 if the server would start
  batches [BATCH_ID]   list the message batches in the store (or show one) and exit
  -h, --help           show this help
  -v, --version        print the version

Environment:
  GROK2API_API_KEYS  comma-separated keys clients must present (Bearer or x-api-key)
  GROK2API_ALLOWED_HOSTS  without client keys: comma-separated Host names served besides loopback
  GROK2API_LOG_FILE  access log file (default ${DEFAULTS.logFile})
  XAI_API_KEY        upstream key(s), comma-separated
  XAI_BASE_URL       upstream base URL (default ${DEFAULTS.baseUrl})
  GROK2API_UPSTREAM_API  auto, responses or chat (default auto: responses for *.x.ai)
  GROK2API_METRICS_TOKEN  bearer token accepted by GET /metrics
  GROK2API_ADMIN_TOKEN    turns on the admin API and virtual keys (at least 16 characters)
  GROK2API_STORE_URL      the ledger and keys (default ${DEFAULT_STORE_URL} with an admin token)
  GROK2API_REDIS_URL      Redis shared by several instances: rate-limit and budget counters, Grok's reasoning
  GROK2API_REDIS_DOWN     while Redis is away: auto (refuse keys with a budget), closed (refuse), open (count locally)
  GROK2API_REASONING_STORE_MAX_BYTES  memory for Grok's reasoning kept server-side (default 64 MiB; 0 = off)
  GROK2API_REASONING_STORE_TTL        seconds it is kept after its last use (default 86400)
  GROK2API_FILES_DIR      where uploaded files are kept when not in xAI's Files API (default data/files)

With no client keys and no upstream key, each client's own key is forwarded upstream.

Signals: SIGHUP reloads the config file, SIGUSR1 reopens the log file,
SIGTERM/SIGINT let open streams finish (shutdown_grace) and exit.`;

/** Parse the command line and environment into what to do. Throws ConfigError. */
export async function loadCommand(argv: string[], processEnv: Record<string, string | undefined>): Promise<Command> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        config: { type: "string" },
        "env-file": { type: "string" },
        "log-level": { type: "string" },
        debug: { type: "boolean" },
        "print-config": { type: "boolean" },
        "list-models": { type: "boolean" },
        "check-config": { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
      strict: true,
      // `grok2api models` (the same as --list-models), `grok2api batches [ID]`
      allowPositionals: argv[0] === "models" || argv[0] === "batches",
    });
  } catch (e) {
    throw new ConfigError(`${(e as Error).message.split("\n")[0]} (see --help)`);
  }
  const flags = parsed.values;
  const most = parsed.positionals[0] === "batches" ? 2 : 1;
  if (parsed.positionals.length > most) throw new ConfigError(`unexpected argument: ${parsed.positionals[most]} (see --help)`);
  if (flags.help) return { kind: "help" };
  if (flags.version) return { kind: "version" };

  // The env file's values win over the environment: they are what the service will see.
  const merged = flags["env-file"] !== undefined ? { ...processEnv, ...(await readEnvFile(flags["env-file"])) } : processEnv;
  // An empty (or blank) variable means "not set", for every variable alike: `GROK2API_API_KEYS=`
  // in an env file must not switch off the client keys of the config file.
  const env = Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const configFile = flags["check-config"] ?? flags.config ?? (env.GROK2API_CONFIG || undefined);
  const file: ConfigFile = configFile ? await readConfigFile(configFile) : {};
  const config = resolveConfig(file, configFile, env, {
    host: flags.host,
    port: flags.port,
    logLevel: flags["log-level"],
    debug: flags.debug,
  });
  if (flags["check-config"] !== undefined) return { kind: "check-config", file: flags["check-config"], config };
  if (flags["print-config"]) return { kind: "print-config", config };
  if (flags["list-models"] || parsed.positionals[0] === "models") return { kind: "list-models", config };
  if (parsed.positionals[0] === "batches") return { kind: "batches", config, ...(parsed.positionals[1] ? { id: parsed.positionals[1] } : {}) };
  return { kind: "serve", config };
}
