/**
 * GET /metrics against the real server and a fake xAI: the text parses as
 * Prometheus exposition, and requests, tokens, time to first token, open
 * streams and upstream errors are counted. Counters are compared before and
 * after, since the registry lives as long as the process.
 */
import { RESILIENCE_DEFAULTS } from "../../src/config";
import { describe, expect, test } from "bun:test";
import { recordUpstreamRetry } from "../../src/metrics";
import { fingerprint } from "../../src/upstream/keys";
import { chunk, completion, usage, usageChunk, xaiError } from "../helpers/fake-upstream";
import { logText, type Gateway } from "../helpers/gateway";
import { useFakeUpstream, useGateways } from "../helpers/setup";
import { heldStream, SseClient } from "../helpers/held-stream";
import { gate } from "../helpers/process";
import { parsePrometheus, valueOf, type Family } from "../helpers/prometheus";

const UPSTREAM_KEY = "xai-metrics-upstream-key-0123456789";
const fake = useFakeUpstream();
const startGateway = useGateways(fake);

function gateway(overrides: Parameters<typeof startGateway>[0] = {}): Gateway {
  return startGateway({
    upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] },
    modelMap: { "claude-metrics": "grok-metrics" },
    ...overrides,
  });
}

async function scrape(g: Gateway, headers: Record<string, string> = {}): Promise<Map<string, Family>> {
  const res = await fetch(`${g.url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/plain");
  return parsePrometheus(await res.text());
}

const ask = (g: Gateway, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  fetch(`${g.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "claude-metrics", max_tokens: 32, messages: [{ role: "user", content: "Hi" }], ...body }),
  });

describe("the Prometheus parser used here", () => {
  test("accepts good text and rejects what a scraper would", () => {
    const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1",y="q\\"\\n"} 3\n';
    expect(valueOf(parsePrometheus(good), "a_total", { x: "1", y: 'q"\n' })).toBe(3);
    expect(() => parsePrometheus('# TYPE a counter\na{x=1} 3\n')).toThrow("unquoted");
    expect(() => parsePrometheus("# TYPE a counter\nb 3\n")).toThrow("outside its family");
    expect(() => parsePrometheus("# TYPE a counter\na three\n")).toThrow("bad value");
    expect(() =>
      parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'),
    ).toThrow("not cumulative");
    expect(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_count 3\n')).toThrow("!= _count");
  });
});

describe("GET /metrics", () => {
  test("counts requests, tokens, latency, time to first token and open streams", async () => {
    const g = gateway();
    const held = gate();
    fake.on((req) =>
      req.body?.stream
        ? heldStream(
            [chunk({ role: "assistant", content: "Hel" })],
            [chunk({ content: "lo" }), chunk({}, "stop"), usageChunk(usage(21, 4))],
            held.promise,
          )
        : Response.json(completion({ content: "ok" }, "stop", usage(10, 7))),
    );
    const ok = { route: "/v1/messages", method: "POST", status: "200", model: "grok-metrics" };
    const before = await scrape(g);

    expect((await ask(g)).status).toBe(200);

    const sse = new SseClient(await ask(g, { stream: true }));
    expect(await sse.readUntil('"text":"Hel"')).toBe(true);
    const during = await scrape(g);
    expect(valueOf(during, "grok2api_open_streams") - valueOf(before, "grok2api_open_streams")).toBe(1);
    held.open();
    expect(await sse.readAll()).toContain("message_stop");
    // The stream is accounted for once its last byte is sent; the next scrape sees it.
    const after = await scrape(g);

    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta("grok2api_requests_total", ok)).toBe(2);
    expect(delta("grok2api_tokens_total", { model: "grok-metrics", direction: "input" })).toBe(10 + 21);
    expect(delta("grok2api_tokens_total", { model: "grok-metrics", direction: "output" })).toBe(7 + 4);
    expect(delta("grok2api_time_to_first_token_seconds_count", { model: "grok-metrics" })).toBe(1);
    expect(delta("grok2api_request_duration_seconds_count", { route: "/v1/messages", stream: "true" })).toBe(1);
    expect(delta("grok2api_request_duration_seconds_count", { route: "/v1/messages", stream: "false" })).toBe(1);
    expect(valueOf(after, "grok2api_open_streams")).toBe(valueOf(before, "grok2api_open_streams"));
    expect(valueOf(after, "grok2api_build_info")).toBe(1);
    expect(valueOf(after, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });

  test("labels requests by route, and a path that matches none as unmatched", async () => {
    const g = gateway();
    const before = await scrape(g);
    expect((await fetch(`${g.url}/no/such/path`)).status).toBe(404);
    expect((await ask(g, { max_tokens: "many" })).status).toBe(400);
    const after = await scrape(g);
    const unmatched = { route: "unmatched", method: "GET", status: "404" };
    const invalid = { route: "/v1/messages", method: "POST", status: "400", model: "" }; // invalid: no model known
    expect(valueOf(after, "grok2api_requests_total", unmatched) - valueOf(before, "grok2api_requests_total", unmatched)).toBe(1);
    expect(valueOf(after, "grok2api_requests_total", invalid) - valueOf(before, "grok2api_requests_total", invalid)).toBe(1);
    const paths = [...after.get("grok2api_requests_total")!.samples].map((s) => s.labels.route);
    expect(paths).not.toContain("/no/such/path");
  });

  test("counts upstream errors by key fingerprint, a forwarded client key as client, and retries", async () => {
    fake.on(() => xaiError(500, "upstream exploded"));
    const pooled = gateway();
    const forwarding = gateway({ upstream: { baseUrl: fake.baseUrl, keys: [] } });
    const fp = fingerprint(UPSTREAM_KEY);
    const before = await scrape(pooled);

    expect((await ask(pooled)).status).toBe(529);
    expect((await ask(forwarding, {}, { "x-api-key": "xai-some-client-key-0123456789" })).status).toBe(529);
    recordUpstreamRetry(UPSTREAM_KEY, "429");

    const after = await scrape(pooled);
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    // Every attempt counts: the first and each of the retries (max_retries = 3).
    const attempts = 1 + RESILIENCE_DEFAULTS.maxRetries;
    expect(delta("grok2api_upstream_errors_total", { key: fp, status: "500" })).toBe(attempts);
    expect(delta("grok2api_upstream_errors_total", { key: "client", status: "500" })).toBe(attempts);
    expect(delta("grok2api_upstream_retries_total", { key: fp, reason: "5xx" })).toBe(attempts - 1);
    expect(delta("grok2api_upstream_retries_total", { key: "client", reason: "5xx" })).toBe(attempts - 1);
    expect(delta("grok2api_upstream_retries_total", { key: fp, reason: "429" })).toBe(1);
    const text = await (await fetch(`${pooled.url}/metrics`)).text();
    expect(text).not.toContain(UPSTREAM_KEY);
    expect(text).not.toContain("xai-some-client-key");
  });
});

describe("GET /metrics itself", () => {
  test("is logged and counted like any request, refused scrapes included", async () => {
    const g = gateway({ metrics: { enabled: true, token: "metrics-token-0123456789", requireClientKey: false } });
    const auth = { authorization: "Bearer metrics-token-0123456789" };
    const before = await scrape(g, auth);
    expect((await fetch(`${g.url}/metrics`)).status).toBe(401);
    const after = await scrape(g, auth);
    const delta = (status: string) =>
      valueOf(after, "grok2api_requests_total", { route: "/metrics", method: "GET", status, model: "" }) -
      valueOf(before, "grok2api_requests_total", { route: "/metrics", method: "GET", status, model: "" });
    expect(delta("200")).toBe(1); // the first scrape (the second counts once it has been answered)
    expect(delta("401")).toBe(1);
    const log = await logText(g.logFile, (t) => (t.match(/"path":"\/metrics"/g) ?? []).length >= 3);
    const lines = log.trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.msg === "request" && l.path === "/metrics");
    expect(lines.map((l) => l.status)).toEqual([200, 401, 200]);
  });

  test("is plain exposition text with no blank lines, and open streams read 0 once streams have ended", async () => {
    const g = gateway();
    fake.on((req) => (req.body?.stream ? heldStream([chunk({ role: "assistant", content: "Hi" })], [chunk({}, "stop")], Promise.resolve()) : Response.json(completion({ content: "ok" }))));
    // A stream read to its end, one the client drops half-way, and one the upstream refuses.
    expect(await new SseClient(await ask(g, { stream: true })).readAll()).toContain("message_stop");
    const dropped = new AbortController();
    const res = await fetch(`${g.url}/v1/messages`, {
      method: "POST",
      signal: dropped.signal,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-metrics", max_tokens: 8, stream: true, messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(res.status).toBe(200);
    dropped.abort();
    fake.on(() => xaiError(500, "boom"));
    expect((await ask(g, { stream: true })).status).toBeGreaterThanOrEqual(500);
    // Bounded wait for the dropped stream to be accounted for.
    let text = "";
    for (let i = 0; i < 100; i++) {
      text = await (await fetch(`${g.url}/metrics`)).text();
      if (valueOf(parsePrometheus(text), "grok2api_open_streams") === 0) break;
      await Bun.sleep(20);
    }
    expect(valueOf(parsePrometheus(text), "grok2api_open_streams")).toBe(0);
    expect(text).not.toContain("\n\n");
    expect(text.startsWith("# HELP")).toBe(true);
    expect(text.endsWith("\n")).toBe(true);
  });
});

describe("GET /metrics auth", () => {
  const TOKEN = "metrics-token-0123456789abcdef";
  const CLIENT_KEY = "client-key-0123456789abcdef";

  test("with a token: none or a wrong one is 401, the token is 200", async () => {
    const g = gateway({ metrics: { enabled: true, token: TOKEN, requireClientKey: false } });
    expect((await fetch(`${g.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${g.url}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789" } })).status).toBe(401);
    await scrape(g, { authorization: `Bearer ${TOKEN}` });
  });

  test("requiring the client keys: a client key is accepted, as is the token", async () => {
    const g = gateway({ clientKeys: [CLIENT_KEY], metrics: { enabled: true, token: TOKEN, requireClientKey: true } });
    expect((await fetch(`${g.url}/metrics`)).status).toBe(401);
    await scrape(g, { "x-api-key": CLIENT_KEY });
    await scrape(g, { authorization: `Bearer ${TOKEN}` });
  });

  test("client keys are not accepted unless required", async () => {
    const g = gateway({ clientKeys: [CLIENT_KEY], metrics: { enabled: true, token: TOKEN, requireClientKey: false } });
    expect((await fetch(`${g.url}/metrics`, { headers: { "x-api-key": CLIENT_KEY } })).status).toBe(401);
  });

  test("disabled: 404", async () => {
    const g = gateway({ metrics: { enabled: false, token: undefined, requireClientKey: false } });
    expect((await fetch(`${g.url}/metrics`)).status).toBe(404);
  });
});
