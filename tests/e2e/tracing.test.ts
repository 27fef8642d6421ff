/**
 * OpenTelemetry traces, received by a local OTLP/HTTP endpoint: one server span per request and
 * one client span per upstream attempt, the GenAI attributes, the virtual key's id (never the
 * key), the cost, retries and fallbacks as events; a client's `traceparent` is continued and each
 * attempt's goes upstream. Off unless an endpoint is configured.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, describe, expect, test } from "bun:test";
import { completion, sequence, usage, xaiError } from "../helpers/fake-upstream";
import { resilience } from "../helpers/gateway";
import { useFakeUpstream, useGateways } from "../helpers/setup";
import { createKey, teamsGateway, tempDir, UPSTREAM_KEY } from "../helpers/teams";

const fake = useFakeUpstream();
const start = useGateways(fake);

/** The OTLP/HTTP receiver: every span it was sent, flattened. */
const spans: any[] = [];
const otlp = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    if (req.method === "POST" && new URL(req.url).pathname === "/v1/traces") {
      const body = (await req.json()) as any;
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a: any) => a.key === "service.name")?.value?.stringValue;
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service, attrs: attrs(s.attributes) });
      }
      return Response.json({});
    }
    return new Response("not found", { status: 404 });
  },
});
afterAll(() => otlp.stop(true));

function attrs(list: any[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list) {
    const v = a.value ?? {};
    out[a.key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));
  }
  return out;
}

/** The spans of one trace once `n` of them have arrived (the exporter batches every second). */
async function trace(traceId: string, n: number): Promise<any[]> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const found = spans.filter((s) => s.traceId === traceId);
    if (found.length >= n) return found;
    await Bun.sleep(50);
  }
  return spans.filter((s) => s.traceId === traceId);
}

const telemetry = { tracesUrl: `http://127.0.0.1:${otlp.port}/v1/traces`, serviceName: "grok2api-test" };
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

describe("traces", () => {
  test("a request with a retry: the client's trace continued, a server span, a span per attempt, GenAI attributes, the retry as an event", async () => {
    const gw = start({ telemetry, resilience: resilience({ maxRetries: 2 }) });
    await gw.ready;
    fake.on(sequence(() => xaiError(503, "busy"), () => Response.json(completion({ content: "hi" }, "stop", usage(30, 5, { cached: 10 })))));
    const client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0, defaultHeaders: { traceparent: `00-${TRACE_ID}-${PARENT}-01` } });
    await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });

    const got = await trace(TRACE_ID, 3);
    const server = got.find((s) => s.kind === 2 || s.kind === "SPAN_KIND_SERVER")!;
    expect(server.parentSpanId).toBe(PARENT);
    expect(server.service).toBe("grok2api-test");
    expect(server.name).toBe("POST /v1/messages");
    expect(server.attrs).toMatchObject({
      "gen_ai.provider.name": "xai",
      "gen_ai.request.model": "claude-sonnet-4-6",
      "gen_ai.response.model": "grok-4.3",
      "gen_ai.usage.input_tokens": 30,
      "gen_ai.usage.output_tokens": 5,
      "http.response.status_code": 200,
    });
    expect(server.events.map((e: any) => e.name)).toContain("retry");
    const attempts = got.filter((s) => s.name === "upstream attempt");
    expect(attempts).toHaveLength(2);
    for (const a of attempts) expect(a.parentSpanId).toBe(server.spanId);
    expect(attempts.map((a) => a.attrs["http.response.status_code"]).sort()).toEqual([200, 503]);
    // Each attempt's trace context went upstream with it.
    for (const r of fake.requests) expect(r.headers.get("traceparent")).toStartWith(`00-${TRACE_ID}-`);
  });

  test("a virtual key's id is on the span, never the key; the cost too", async () => {
    const t = tempDir();
    try {
      const gw = await teamsGateway(fake.baseUrl, `sqlite://${t.dir}/ledger.db`, { telemetry, upstream: { baseUrl: fake.baseUrl, keys: [UPSTREAM_KEY] } });
      try {
        const k = await createKey(gw.url, { name: "traced" });
        fake.on(() => Response.json(completion({ content: "ok" }, "stop", usage(10, 2))));
        const id = "0af7651916cd43dd8448eb211c80319c";
        const client = new Anthropic({ baseURL: gw.url, apiKey: k.key, maxRetries: 0, defaultHeaders: { traceparent: `00-${id}-b7ad6b7169203331-01` } });
        await client.messages.create({ model: "grok-4.3", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
        const [server] = (await trace(id, 2)).filter((s) => s.name === "POST /v1/messages");
        expect(server.attrs["grok2api.virtual_key.id"]).toBe(k.id);
        expect(server.attrs["grok2api.cost_usd"]).toBeGreaterThan(0);
        expect(JSON.stringify(spans)).not.toContain(k.key);
        expect(JSON.stringify(spans)).not.toContain(UPSTREAM_KEY);
      } finally {
        await gw.stop();
      }
    } finally {
      t.cleanup();
    }
  });

  test("off without an endpoint: nothing is sent, no traceparent goes upstream", async () => {
    const before = spans.length;
    const gw = start({ resilience: resilience() });
    fake.on(() => Response.json(completion({ content: "ok" })));
    await new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 }).messages.create({ model: "grok-4.3", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    await Bun.sleep(1500); // longer than the exporter's batch delay
    expect(spans.length).toBe(before);
    expect(fake.last.headers.get("traceparent")).toBeNull();
  });
});
