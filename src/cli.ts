/** The command line: parse flags and environment, then serve, or print or check the configuration. */
import { ConfigError, HELP, loadCommand, logFileProblem, type Config } from "./config";
import { createLogger } from "./http/log";
import { effectiveModels } from "./models/effective";
import { listModelsCommand } from "./models/list-command";
import { batchesCommand } from "./batches/cli";
import { redactSecrets } from "./redact";
import { startServer } from "./server";
import { maskUrlPassword } from "./store/db";
import { handleSignals, secretsOf } from "./signals";
import { NAME, VERSION } from "./version";

async function main(fetchLimit: string): Promise<number> {
  const argv = Bun.argv.slice(2);
  let cmd;
  try {
    cmd = await loadCommand(argv, process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${NAME}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (cmd.kind === "help") {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  if (cmd.kind === "version") {
    process.stdout.write(`${NAME} ${VERSION}\n`);
    return 0;
  }
  if (cmd.kind === "print-config") {
    // Unset options show as null rather than disappearing.
    // `models`: the effective model map, routing and catalog in the config file's words, with sources.
    const store = cmd.config.store && {
      url: maskUrlPassword(cmd.config.store.url),
      ...(cmd.config.store.redisUrl ? { redisUrl: maskUrlPassword(cmd.config.store.redisUrl), redisDown: cmd.config.store.redisDown ?? "auto" } : {}),
    };
    const rs = cmd.config.reasoningStore;
    // The reasoning store in the file's words: where it lives, its size and time to live.
    const reasoningStore = rs && {
      backend: rs.maxBytes === 0 && !rs.redisUrl ? "off" : rs.redisUrl ? "redis" : "memory",
      max_bytes: rs.maxBytes,
      ttl: { value: rs.ttlMs / 1000, unit: "seconds" },
      ...(rs.redisUrl ? { redis_url: maskUrlPassword(rs.redisUrl) } : {}),
    };
    const shown = JSON.stringify(
      {
        ...(redactSecrets(cmd.config) as object),
        ...(store ? { store } : {}),
        ...(reasoningStore ? { reasoningStore } : {}),
        models: effectiveModels(cmd.config),
      },
      (_k, v: unknown) => (v === undefined ? null : v),
      2,
    );
    process.stdout.write(shown + "\n");
    return 0;
  }
  if (cmd.kind === "list-models") {
    return listModelsCommand(cmd.config, (s) => process.stdout.write(s), (s) => process.stderr.write(`${NAME}: ${s}`));
  }
  if (cmd.kind === "batches") {
    return batchesCommand(cmd.config, cmd.id, (s) => process.stdout.write(s), (s) => process.stderr.write(`${NAME}: ${s}`));
  }
  if (cmd.kind === "check-config") {
    const problem = logFileProblem(cmd.config.logFile);
    if (problem) {
      process.stderr.write(`${NAME}: ${problem}\n`);
      return 2;
    }
    process.stdout.write(`${cmd.file}: ok\n`);
    return 0;
  }
  const { config } = cmd;
  let logger;
  try {
    logger = createLogger({
      file: config.logFile,
      stdout: true,
      level: config.logLevel,
      maxBytes: config.logMaxBytes,
      keep: config.logKeep,
    });
  } catch (e) {
    process.stderr.write(`${NAME}: cannot open log file ${config.logFile}: ${(e as Error).message}\n`);
    return 1;
  }
  logger.setSecrets(secretsOf(config));
  let server;
  try {
    server = startServer(config, logger);
  } catch (e) {
    const why = (e as { code?: unknown }).code === "EADDRINUSE" ? `port ${config.port} is in use` : (e as Error).message;
    process.stderr.write(`${NAME}: cannot listen on ${config.host}:${config.port}: ${why}\n`);
    await logger.close();
    return 1;
  }
  try {
    await server.ready;
  } catch (e) {
    process.stderr.write(`${NAME}: cannot open the store: ${(e as Error).message}\n`);
    await server.stop();
    return 1;
  }
  const mode = config.admin
    ? "client or virtual keys required"
    : config.clientKeys.length > 0
      ? "client keys required"
      : config.upstream.keys.length > 0
        ? "open on loopback"
        : "forwarding client keys";
  logger.info("listening", { url: server.url, version: VERSION, upstream: config.upstream.baseUrl, auth: mode, pid: process.pid });
  if (fetchLimit !== "set") {
    // Read by Bun only at start-up, and this platform could not restart with it set.
    logger.info("at most 256 upstream requests run at once (Bun's fetch limit); start with BUN_CONFIG_MAX_HTTP_REQUESTS=4096 to raise it");
  }
  handleSignals({
    server,
    logger,
    config,
    loadConfig: async (): Promise<Config> => {
      const next = await loadCommand(argv, process.env);
      if (next.kind !== "serve") throw new ConfigError(`unexpected command on reload: ${next.kind}`);
      return next.config;
    },
    exit: (code) => process.exit(code),
  });
  return -1;
}

/** Runs the command line; `fetchLimit` says whether Bun's fetch limit was raised at start (fetch-limit.ts). */
export function run(fetchLimit: string): void {
  void main(fetchLimit).then((code) => {
    if (code >= 0) process.exit(code);
  });
}
