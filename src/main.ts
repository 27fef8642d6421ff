#!/usr/bin/env bun
/** Command line entry: parse flags and environment, start the server. */
import { ConfigError, HELP, loadCommand } from "./config";
import { createLogger } from "./http/log";
import { startServer } from "./server";
import { NAME, VERSION } from "./version";

async function main(): Promise<number> {
  let cmd;
  try {
    cmd = await loadCommand(Bun.argv.slice(2), process.env);
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
  const { config } = cmd;
  const logger = createLogger({ file: config.logFile, stdout: true });
  let server;
  try {
    server = startServer(config, logger);
  } catch (e) {
    process.stderr.write(`${NAME}: cannot listen on ${config.host}:${config.port}: ${(e as Error).message}\n`);
    return 1;
  }
  const mode =
    config.clientKeys.length > 0 ? "client keys required" : config.upstream.keys.length > 0 ? "open on loopback" : "forwarding client keys";
  logger.info("listening", { url: server.url, version: VERSION, upstream: config.upstream.baseUrl, auth: mode });
  const shutdown = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  return -1;
}

void main().then((code) => {
  if (code >= 0) process.exit(code);
});
