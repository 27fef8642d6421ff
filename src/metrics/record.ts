/**
 * Prometheus metrics, served at GET /metrics. Other modules record through the
 * small functions below and never touch prom-client themselves:
 *
 *   recordRequest(…)            once per finished request (RequestContext.finish does it)
 *   streamOpened / streamClosed around an open SSE stream (RequestContext does it)
 *   recordUpstreamError(key, status)   an upstream call failed (status or "network"/"timeout")
 *   recordUpstreamRetry(key, reason)   an upstream call is being retried
 *   recordConfigReload(ok)      a SIGHUP reload was applied or rejected
 *   recordKeyLookup(found)      a presented key was looked up in the store
 *
 * What every request records (request, token and cost counts, durations, open streams)
 * is kept here and handed over when /metrics is read, so serving never loads prom-client.
 * The registry (registry.ts) is loaded on the first scrape or the first rare event, in a
 * later turn of the event loop; what is recorded meanwhile is queued and applied when it
 * arrives. A scrape waits for it.
 *
 * Label values are bounded: keys appear only as fingerprints, and only for the
 * configured upstream keys (a client's own forwarded key is "client"); model
 * names past the first MAX_MODELS distinct ones are counted as "other".
 */
import { fingerprint } from "../upstream/keys";
import { LocalHistogram } from "./histogram";

type Registry = typeof import("./registry");

let loaded: Registry | null = null;
let loading: Promise<Registry> | null = null;
let queue: Array<(m: Registry) => void> = [];
/** Records kept while the registry loads; past this, the oldest are dropped. */
const MAX_QUEUED = 10_000;

/**
 * Runs one record against the registry. Bookkeeping must never cost an answer: an
 * exception here (prom-client refuses a value, say) is reported once on stderr and
 * otherwise ignored — it would surface in a deferred callback and end the process.
 */
let complained = false;
function apply(f: (m: Registry) => void, m: Registry): void {
  try {
    f(m);
  } catch (err) {
    if (complained) return;
    complained = true;
    process.stderr.write(`grok2api: a metric could not be recorded (reported once): ${(err as Error).message}\n`);
  }
}

function load(): Promise<Registry> {
  loading ??= import("./registry").then((m) => {
    loaded = m;
    for (const f of queue) apply(f, m);
    queue = [];
    return m;
  });
  return loading;
}

function use(f: (m: Registry) => void): void {
  if (loaded) return apply(f, loaded);
  if (queue.length >= MAX_QUEUED) queue.shift();
  queue.push(f);
  if (queue.length === 1 && !loading) setImmediate(() => void load());
}

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
  /** What the request cost, USD (when known). */
  costUsd?: number;
}

/** A count from the upstream, which is not to be trusted: a finite whole number ≥ 0, else nothing. */
export function tokenCount(n: unknown): number | undefined {
  return typeof n === "number" && Number.isFinite(n) && n >= 0 && n <= MAX_TOKENS ? Math.floor(n) : undefined;
}
/** More tokens than any model reads or writes in one request: a broken count. */
const MAX_TOKENS = 1e9;

export function recordRequest(r: RequestRecord): void {
  const model = modelLabel(r.model);
  const inputTokens = tokenCount(r.inputTokens);
  const outputTokens = tokenCount(r.outputTokens);
  const seconds = (ms: number | undefined) => (typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined);
  const duration = seconds(r.durationMs);
  const ttft = seconds(r.ttftMs);
  const costUsd = typeof r.costUsd === "number" && Number.isFinite(r.costUsd) && r.costUsd > 0 ? r.costUsd : undefined;
  const key = `${r.route}\u0000${r.method}\u0000${r.status}\u0000${model}`;
  let t = requestTally.get(key);
  if (!t) requestTally.set(key, (t = { labels: { route: r.route, method: r.method, status: String(r.status), model }, n: 0 }));
  t.n++;
  if (inputTokens || outputTokens || costUsd) {
    let u = modelTally.get(model);
    if (!u) modelTally.set(model, (u = { model, input: 0, output: 0, cost: 0 }));
    if (inputTokens) u.input += inputTokens;
    if (outputTokens) u.output += outputTokens;
    if (costUsd) u.cost += costUsd;
  }
  if (duration !== undefined) durationHistogram.observe({ route: r.route, stream: r.stream ? "true" : "false" }, duration);
  if (ttft !== undefined) ttftHistogram.observe({ model }, ttft);
}

const durationHistogram = new LocalHistogram(
  "grok2api_request_duration_seconds",
  "Time from request to the end of the response (a stream's last byte)",
  [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
);
const ttftHistogram = new LocalHistogram(
  "grok2api_time_to_first_token_seconds",
  "Time from request to the first streamed token",
  [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128],
);
/** SSE streams open now (a gauge, handed to prom-client at each scrape). */
let streamsOpen = 0;
/** Whether the counters' Redis answers (undefined: no Redis), and the spend reconciled into it since the last scrape. */
let redisUp: boolean | undefined;
let redisReconciledTicks = 0;

/**
 * The request, token and cost counters, summed here per label set and handed to prom-client
 * when it is read (metricsText): a Map update per request instead of prom-client's hashed and
 * validated increment per counter (~4 % of the CPU of a small request). Label sets are bounded
 * as the labels are (routes, statuses, MAX_MODELS models), and kept between scrapes.
 */
const requestTally = new Map<string, { labels: { route: string; method: string; status: string; model: string }; n: number }>();
const modelTally = new Map<string, { model: string; input: number; output: number; cost: number }>();

function flushTallies(m: Registry): void {
  apply((r) => r.openStreams.set(streamsOpen), m);
  if (redisUp !== undefined) apply((r) => r.redisUp.set(redisUp ? 1 : 0), m);
  if (redisReconciledTicks > 0) {
    const n = redisReconciledTicks;
    redisReconciledTicks = 0;
    apply((r) => r.redisReconciled.inc(n), m);
  }
  for (const [t, counter] of [
    [upstreamErrorTally, m.upstreamErrors],
    [upstreamRetryTally, m.upstreamRetries],
    [reasoningTally, m.reasoningStore],
    [keyLookupTally, m.keyLookups],
  ] as const) {
    for (const e of t.values()) {
      if (e.n === 0) continue;
      const n = e.n;
      e.n = 0;
      apply(() => (counter as { inc(labels: Record<string, string>, n: number): void }).inc(e.labels, n), m);
    }
  }
  for (const t of requestTally.values()) {
    if (t.n === 0) continue;
    const n = t.n;
    t.n = 0;
    apply((r) => r.requests.inc(t.labels, n), m);
  }
  for (const u of modelTally.values()) {
    const { model, input, output, cost } = u;
    u.input = u.output = u.cost = 0;
    apply((r) => {
      if (input) r.tokens.inc({ model, direction: "input" }, input);
      if (output) r.tokens.inc({ model, direction: "output" }, output);
      if (cost) r.cost.inc({ model }, cost);
    }, m);
  }
}

type KeyCounters = { requests: { inc(n?: number): void }; input: { inc(n?: number): void }; output: { inc(n?: number): void }; cost: { inc(n?: number): void } };
const keyCounters = new Map<string, KeyCounters>();
/** One request made with a virtual key, labelled by the key's name (admin-chosen, bounded by the number of keys). */
export function recordKeyUsage(name: string, r: { inputTokens: number; outputTokens: number; costUsd: number }): void {
  use((m) => {
    let c = keyCounters.get(name);
    if (!c) {
      c = {
        requests: m.keyRequests.labels({ key: name }),
        input: m.keyTokens.labels({ key: name, direction: "input" }),
        output: m.keyTokens.labels({ key: name, direction: "output" }),
        cost: m.keyCost.labels({ key: name }),
      };
      keyCounters.set(name, c);
    }
    c.requests.inc();
    if (r.inputTokens) c.input.inc(r.inputTokens);
    if (r.outputTokens) c.output.inc(r.outputTokens);
    if (r.costUsd) c.cost.inc(r.costUsd);
  });
}

export const streamOpened = (): void => {
  streamsOpen++;
};
export const streamClosed = (): void => {
  streamsOpen = Math.max(0, streamsOpen - 1);
};

/** `status`: the upstream's HTTP status, or "network" / "timeout" when there was none. */
export function recordUpstreamError(key: string, status: number | "network" | "timeout"): void {
  tally(upstreamErrorTally, { key: keyLabel(key), status: String(status) });
}

/** `reason`: a short fixed word such as "429", "5xx", "network", "timeout". */
export function recordUpstreamRetry(key: string, reason: string): void {
  tally(upstreamRetryTally, { key: keyLabel(key), reason });
}

/** Upstream errors and retries, counted per label set until a scrape (bounded: key fingerprints × statuses or reasons). */
type Tally = Map<string, { labels: Record<string, string>; n: number }>;
const upstreamErrorTally: Tally = new Map();
const upstreamRetryTally: Tally = new Map();
function tally(t: Tally, labels: Record<string, string>): void {
  const key = Object.values(labels).join("\u0000");
  const e = t.get(key);
  if (e) e.n++;
  else t.set(key, { labels, n: 1 });
}

/** The reasoning store (src/reasoning/store.ts): a turn found, not found, an entry pushed out (bytes or age), a turn kept. */
export function recordReasoningStore(result: "hit" | "miss" | "eviction" | "stored", n = 1): void {
  if (n <= 0) return;
  const e = reasoningTally.get(result);
  if (e) e.n += n;
  else reasoningTally.set(result, { labels: { result }, n });
}
const reasoningTally: Tally = new Map();

/** The counters' Redis answers again (true) or went away (false). */
export const recordRedisUp = (up: boolean): void => {
  redisUp = up;
};
/** Spend counted locally while Redis was away, now added to it. */
export const recordRedisReconciled = (ticks: number): void => {
  if (ticks > 0) redisReconciledTicks += ticks;
};
/** A presented key looked up in the store (keys.ts): each is a query. */
export const recordKeyLookup = (found: boolean): void => tally(keyLookupTally, { result: found ? "found" : "not_found" });
const keyLookupTally: Tally = new Map();

export const recordConfigReload = (ok: boolean): void => use((m) => m.reloads.inc({ result: ok ? "ok" : "error" }));

/**
 * The exposition text and its content type (everything recorded so far included).
 * One line per sample or comment, no blank lines between families: plain
 * Prometheus text, which nothing could take for an SSE stream.
 */
export async function metricsText(): Promise<{ body: string; contentType: string }> {
  const m = await load();
  flushTallies(m);
  const text = (await m.registry.metrics()) + "\n" + durationHistogram.text() + ttftHistogram.text();
  return { body: text.replace(/\n{2,}/g, "\n").replace(/^\n+/, ""), contentType: m.registry.contentType };
}
