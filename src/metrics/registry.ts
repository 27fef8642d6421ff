/**
 * The Prometheus registry and its metrics (prom-client). Loaded on first use by
 * record.ts — the first scrape, or a rare event (an upstream error, a reload, a
 * virtual key's request): prom-client and its default process metrics are the
 * largest single cost of starting up. What every request records (counts, tokens,
 * cost, durations, open streams) is kept in record.ts until a scrape.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { VERSION } from "../version";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

export const requests = new Counter({
  name: "grok2api_requests_total",
  help: "Requests answered, by route, method, status and model",
  labelNames: ["route", "method", "status", "model"] as const,
  registers,
});
export const tokens = new Counter({
  name: "grok2api_tokens_total",
  help: "Tokens billed, by model and direction (input or output)",
  labelNames: ["model", "direction"] as const,
  registers,
});
export const cost = new Counter({
  name: "grok2api_cost_usd_total",
  help: "What requests cost in USD, by upstream model (the upstream's cost_in_usd_ticks, else usage × the catalog's prices)",
  labelNames: ["model"] as const,
  registers,
});
export const keyRequests = new Counter({
  name: "grok2api_key_requests_total",
  help: "Requests made with a virtual key, by key name (never the key)",
  labelNames: ["key"] as const,
  registers,
});
export const keyTokens = new Counter({
  name: "grok2api_key_tokens_total",
  help: "Tokens used with a virtual key, by key name and direction (input includes cached)",
  labelNames: ["key", "direction"] as const,
  registers,
});
export const keyCost = new Counter({
  name: "grok2api_key_cost_usd_total",
  help: "What requests made with a virtual key cost in USD, by key name",
  labelNames: ["key"] as const,
  registers,
});
export const upstreamErrors = new Counter({
  name: "grok2api_upstream_errors_total",
  help: "Failed upstream calls, by key fingerprint and upstream status",
  labelNames: ["key", "status"] as const,
  registers,
});
export const upstreamRetries = new Counter({
  name: "grok2api_upstream_retries_total",
  help: "Upstream calls retried, by key fingerprint and reason",
  labelNames: ["key", "reason"] as const,
  registers,
});
export const reasoningStore = new Counter({
  name: "grok2api_reasoning_store_total",
  help: "Grok's reasoning kept for clients that do not carry it: turns found (hit) or not (miss) when they came back, entries pushed out by size or age (eviction), turns kept (stored)",
  labelNames: ["result"] as const,
  registers,
});
export const openStreams = new Gauge({
  name: "grok2api_open_streams",
  help: "SSE streams being sent to clients right now",
  registers,
});
export const redisUp = new Gauge({
  name: "grok2api_redis_up",
  help: "1 while the Redis of the rate-limit and budget counters answers, 0 while it is away (absent without Redis)",
  registers,
});
export const redisReconciled = new Counter({
  name: "grok2api_redis_reconciled_usd_ticks_total",
  help: "Spend (USD ticks, 10^10 = 1 USD) counted on this instance while Redis was away and added to Redis once it was back",
  registers,
});
export const keyLookups = new Counter({
  name: "grok2api_key_store_lookups_total",
  help: "Presented keys looked up in the store (not in memory yet), by result: found or not found",
  labelNames: ["result"] as const,
  registers,
});
export const reloads = new Counter({
  name: "grok2api_config_reloads_total",
  help: "Configuration reloads (SIGHUP), by result",
  labelNames: ["result"] as const,
  registers,
});
new Gauge({ name: "grok2api_build_info", help: "Always 1; the version is a label", labelNames: ["version"] as const, registers }).set(
  { version: VERSION },
  1,
);

