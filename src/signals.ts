/**
 * Process signals, for running as a service:
 *   SIGHUP          reload the config file; a bad file is rejected with a log line and the old config kept
 *   SIGTERM/SIGINT  stop accepting, let open streams finish (shutdown_grace_seconds), exit 0;
 *                   a second signal closes what is still open at once
 *   SIGUSR1         reopen the log file (after logrotate moved it)
 */
import { ConfigError, type Config } from "./config";
import type { Logger } from "./http/log";
import { recordConfigReload } from "./metrics";
import { collectSecrets } from "./redact";
import type { RunningServer } from "./server";

export interface SignalOptions {
  server: RunningServer;
  logger: Logger;
  /** The configuration the server started with. */
  config: Config;
  /** Reads flags, environment and config file anew; throws ConfigError. */
  loadConfig: () => Promise<Config>;
  exit: (code: number) => void;
}

/** Settings fixed when the server started; a reload that changes them says so. */
const NEEDS_RESTART: Array<[string, (started: Config, next: Config) => boolean]> = [
  ["host", (a, b) => a.host !== b.host],
  ["port", (a, b) => a.port !== b.port],
  ["log_file", (a, b) => a.logFile !== b.logFile],
  ["log_max_bytes", (a, b) => a.logMaxBytes !== b.logMaxBytes],
  ["log_keep", (a, b) => a.logKeep !== b.logKeep],
  // The HTTP server's own limit was set from it at start; lowering it works at once.
  ["a larger max_body_bytes", (a, b) => b.maxBodyBytes > a.maxBodyBytes],
  // The store is opened once, at start (an admin token set on reload needs it too).
  ["store.url and store.redis_url", (a, b) => a.store?.url !== b.store?.url || a.store?.redisUrl !== b.store?.redisUrl],
];

/** What the log must never show: the config's keys and tokens, and its URLs' passwords (collectSecrets). */
export const secretsOf = (config: Config): string[] => collectSecrets(config);

export function handleSignals({ server, logger, config, loadConfig, exit }: SignalOptions): void {
  let current = config;

  const reload = async () => {
    let next: Config;
    const rejected = (e: ConfigError) => {
      recordConfigReload(false);
      logger.error("config reload rejected, keeping the running configuration", { file: current.configFile, error: e.message });
    };
    try {
      next = await loadConfig();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return rejected(e);
    }
    for (const [name, changed] of NEEDS_RESTART) {
      if (changed(config, next)) logger.warn(`config reload: ${name} takes effect after a restart`);
    }
    try {
      server.reload(next); // throws before changing anything if the new deps cannot be built, or would expose the key
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return rejected(e);
    }
    logger.setSecrets(secretsOf(next));
    logger.setLevel(next.logLevel);
    current = next;
    recordConfigReload(true);
    logger.info("config reloaded", {
      file: next.configFile,
      model_map_entries: Object.keys(next.modelMap).length,
      client_keys: next.clientKeys.length,
      upstream_keys: next.upstream.keys.length,
      log_level: next.logLevel,
    });
  };
  let reloads = Promise.resolve();
  process.on("SIGHUP", () => {
    reloads = reloads.then(reload).catch((e) => {
      recordConfigReload(false);
      logger.error("config reload failed, keeping the running configuration", { error: String(e) });
    });
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn(`${signal} again: closing open requests now`);
      void server.stop(0);
      return;
    }
    stopping = true;
    const grace = current.shutdownGraceSeconds;
    const open = server.inFlight;
    const stopped = server.stop(grace * 1000); // stops accepting before it returns
    logger.info("shutting down", { signal, open_requests: open, grace_seconds: grace });
    stopped.then(
      () => exit(0),
      (e) => {
        process.stderr.write(`grok2api: error while shutting down: ${String(e)}\n`);
        exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  if (process.platform !== "win32") {
    process.on("SIGUSR1", () => {
      logger.reopen();
      logger.info("log file reopened", { file: current.logFile });
    });
  }
}
