/**
 * Prometheus metrics, served at GET /metrics. Other modules record through the
 * small functions below and never touch prom-client themselves:
 *
 *   recordRequest(…)            once per finished request (RequestContext.finish does it)
 *   streamOpened / streamClosed around an open SSE stream (RequestContext does it)
 *   recordUpstreamError(key, status)   an upstream call failed (status or "network"/"timeout")
 *   recordUpstreamRetry(key, reason)   an upstream call is being retried
 *   recordConfigReload(ok)      a SIGHUP reload was applied or rejected
 *
 * Label values are bounded: keys appear only as fingerprints, and only for the
 * configured upstream keys (a client's own forwarded key is "client"); model
 * names past the first MAX_MODELS distinct ones are counted as "other".
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { fingerprint } from "./upstream/keys";
import { VERSION } from "./version";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

const requests = new Counter({
  name: "grok2api_requests_total",
  help: "Requests answered, by route, method, status and model",
  labelNames: ["route", "method", "status", "model"] as const,
  registers,
});
const duration = new Histogram({
  name: "grok2api_request_duration_seconds",
  help: "Time from request to the end of the response (a stream's last byte)",
  labelNames: ["route", "stream"] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  registers,
});
const ttft = new Histogram({
  name: "grok2api_time_to_first_token_seconds",
  help: "Time from request to the first streamed token",
  labelNames: ["model"] as const,
  buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128],
  registers,
});
const tokens = new Counter({
  name: "grok2api_tokens_total",
  help: "Tokens billed, by model and direction (input or output)",
  labelNames: ["model", "direction"] as const,
  registers,
});
const upstreamErrors = new Counter({
  name: "grok2api_upstream_errors_total",
  help: "Failed upstream calls, by key fingerprint and upstream status",
  labelNames: ["key", "status"] as const,
  registers,
});
const upstreamRetries = new Counter({
  name: "grok2api_upstream_retries_total",
  help: "Upstream calls retried, by key fingerprint and reason",
  labelNames: ["key", "reason"] as const,
  registers,
});
const openStreams = new Gauge({
  name: "grok2api_open_streams",
  help: "SSE streams being sent to clients right now",
  registers,
});
const reloads = new Counter({
  name: "grok2api_config_reloads_total",
  help: "Configuration reloads (SIGHUP), by result",
  labelNames: ["result"] as const,
  registers,
});
new Gauge({ name: "grok2api_build_info", help: "Always 1; the version is a label", labelNames: ["version"] as const, registers }).set(
  { version: VERSION },
  1,
);

export const MAX_MODELS = 100;
const models = new Set<string>();
/** A model name as a label: bounded, since clients choose it. */
function modelLabel(name: string | undefined): string {
  if (!name) return "";
  if (models.has(name)) return name;
  if (models.size >= MAX_MODELS) return "other";
  models.add(name);
  return name;
}

const knownKeys = new Map<string, string>();
/** The configured upstream keys, so they can be labelled by fingerprint (called on start and reload). */
export function registerUpstreamKeys(keys: readonly string[]): void {
  for (const k of keys) if (!knownKeys.has(k)) knownKeys.set(k, fingerprint(k));
}
const keyLabel = (key: string): string => knownKeys.get(key) ?? "client";

export interface RequestRecord {
  route: string;
  method: string;
  status: number;
  durationMs: number;
  /** The model served (upstream name when known). */
  model?: string;
  stream?: boolean;
  ttftMs?: number;
  inputTokens?: number;
  outputTokens?: number;
}

export function recordRequest(r: RequestRecord): void {
  const model = modelLabel(r.model);
  requests.inc({ route: r.route, method: r.method, status: String(r.status), model });
  duration.observe({ route: r.route, stream: r.stream ? "true" : "false" }, r.durationMs / 1000);
  if (r.ttftMs !== undefined) ttft.observe({ model }, r.ttftMs / 1000);
  if (r.inputTokens) tokens.inc({ model, direction: "input" }, r.inputTokens);
  if (r.outputTokens) tokens.inc({ model, direction: "output" }, r.outputTokens);
}

export const streamOpened = (): void => openStreams.inc();
export const streamClosed = (): void => openStreams.dec();

/** `status`: the upstream's HTTP status, or "network" / "timeout" when there was none. */
export function recordUpstreamError(key: string, status: number | "network" | "timeout"): void {
  upstreamErrors.inc({ key: keyLabel(key), status: String(status) });
}

/** `reason`: a short fixed word such as "429", "5xx", "network", "timeout". */
export function recordUpstreamRetry(key: string, reason: string): void {
  upstreamRetries.inc({ key: keyLabel(key), reason });
}

export const recordConfigReload = (ok: boolean): void => reloads.inc({ result: ok ? "ok" : "error" });

/** The exposition text and its content type. */
export async function metricsText(): Promise<{ body: string; contentType: string }> {
  return { body: await registry.metrics(), contentType: registry.contentType };
}
