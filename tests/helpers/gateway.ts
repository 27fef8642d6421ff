/** Starts the real gateway in-process on a free loopback port, against a fake upstream. */
import { join } from "node:path";
import type { Config } from "../../src/config";
import { DEFAULTS, RESILIENCE_DEFAULTS, type Resilience } from "../../src/config";
import { createLogger } from "../../src/http/log";
import { DEFAULT_ROUTING } from "../../src/models/routing";
import { startServer, type RunningServer } from "../../src/server";
import { tempDir } from "./temp";

export interface Gateway extends RunningServer {
  logFile: string;
  config: Config;
}

/** A complete configuration for tests: loopback, a free port, a temp log file, quick backoffs. */
export function testConfig(upstreamBaseUrl: string, overrides: Partial<Config> = {}): Config {
  const dir = tempDir("grok2api-test-");
  return {
    host: "127.0.0.1",
    port: 0,
    clientKeys: [],
    logFile: join(dir, "app.log"),
    maxBodyBytes: DEFAULTS.maxBodyBytes,
    configFile: undefined,
    upstream: { baseUrl: upstreamBaseUrl, keys: ["xai-test-upstream-key"] },
    modelMap: {},
    routing: DEFAULT_ROUTING,
    // No background catalog reads: tests count the upstream's requests. Catalog tests turn it on.
    catalog: { refreshMs: 0 },
    logLevel: DEFAULTS.logLevel,
    logMaxBytes: DEFAULTS.logMaxBytes,
    logKeep: DEFAULTS.logKeep,
    shutdownGraceSeconds: DEFAULTS.shutdownGraceSeconds,
    metrics: { enabled: true, token: undefined, requireClientKey: false },
    // Retries on, but with millisecond backoffs so that tests of upstream errors stay quick.
    resilience: resilience(),
    ...overrides,
  };
}

export function startGateway(upstreamBaseUrl: string, overrides: Partial<Config> = {}): Gateway {
  const config = testConfig(upstreamBaseUrl, overrides);
  const logger = createLogger({ file: config.logFile, stdout: false, level: config.logLevel });
  const server = startServer(config, logger);
  return { ...server, logFile: config.logFile, config };
}

/** Resilience settings for tests: the defaults with short waits, plus overrides. */
export function resilience(overrides: Partial<Resilience> = {}): Resilience {
  return { ...RESILIENCE_DEFAULTS, backoffInitialMs: 5, backoffMaxMs: 20, fallbacks: [], ...overrides };
}

/** Raw SSE text → list of {event, data}. */
export function parseSSE(text: string): Array<{ event: string | null; data: any }> {
  const out: Array<{ event: string | null; data: any }> = [];
  for (const frame of text.split("\n\n")) {
    if (!frame.trim()) continue;
    let event: string | null = null;
    const data: string[] = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    out.push({ event, data: data.length ? JSON.parse(data.join("\n")) : null });
  }
  return out;
}

/**
 * The log file's text once `pred` holds for it (the log is written asynchronously);
 * polls for at most `maxMs`, then returns what is there.
 */
export async function logText(file: string, pred: (text: string) => boolean, maxMs = 2000): Promise<string> {
  let text = "";
  for (let waited = 0; waited <= maxMs; waited += 20) {
    text = await Bun.file(file)
      .text()
      .catch(() => "");
    if (pred(text)) return text;
    await Bun.sleep(20);
  }
  return text;
}
