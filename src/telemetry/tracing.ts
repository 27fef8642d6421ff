/**
 * OpenTelemetry traces over OTLP/HTTP, when an endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT
 * or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or `[telemetry] otlp_endpoint`): one server span per API
 * request and one client span per upstream attempt, with the GenAI semantic conventions
 * (`gen_ai.request.model`, `gen_ai.response.model`, `gen_ai.usage.*`, `gen_ai.provider.name`),
 * the virtual key's id (never the key), the cost, and retries and fallbacks as events. A client's
 * `traceparent` is continued, and each attempt's goes upstream.
 *
 * Off, nothing of OpenTelemetry is even loaded: a request costs one `undefined` check. On, spans
 * are batched and exported in the background (BatchSpanProcessor).
 */
import type { Span, Tracer } from "@opentelemetry/api";
import type { AccessEntry } from "../http/log";

export interface TelemetryConfig {
  /** The OTLP/HTTP traces URL (…/v1/traces). */
  tracesUrl: string;
  serviceName: string;
  /** OTEL_EXPORTER_OTLP_HEADERS as `name=value` (an API key, usually): secret-named, so never shown or logged. */
  secretHeaders?: string[];
}

/** One upstream attempt, while it runs; `end` once it answered or failed. */
export interface AttemptSpan {
  /** The W3C trace context to send upstream with this attempt. */
  readonly traceparent: string | undefined;
  end(outcome: { status?: number; error?: string }): void;
}

/** What the request path tells the trace of one request. */
export interface RequestTrace {
  attempt(a: { target: string; url: string; model: string | undefined; n: number }): AttemptSpan;
  /** A retry or a fallback, as an event on the request's span. */
  event(name: "retry" | "fallback", attributes: Record<string, string | number>): void;
  /** The request is over: its access-log entry says the rest (`keyId`: the virtual key's id, never the key). */
  end(entry: Partial<AccessEntry>, status: number, error: string | undefined, keyId: string | undefined): void;
}

export interface Tracing {
  /** A trace for an API request (undefined when tracing is off). */
  start(method: string, path: string, headers: Headers): RequestTrace | undefined;
  /** Exports what is left (shutdown). */
  shutdown(): Promise<void>;
}

export const TRACING_OFF: Tracing = { start: () => undefined, shutdown: async () => {} };

/** `[telemetry]` and the OTEL_* variables, resolved: the traces URL, or undefined (off). */
export function telemetryFromEnv(env: Record<string, string | undefined>, fileEndpoint?: string, fileService?: string): TelemetryConfig | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? fileEndpoint;
  const tracesUrl = traces || (base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (!tracesUrl || env.OTEL_TRACES_EXPORTER === "none" || env.OTEL_SDK_DISABLED === "true") return undefined;
  const headers = (env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.indexOf("=") > 0);
  return { tracesUrl, serviceName: env.OTEL_SERVICE_NAME || fileService || "grok2api", ...(headers.length ? { secretHeaders: headers } : {}) };
}

/** The tracing of a server (kept across reloads): the SDK loaded only when it is on. */
export async function createTracing(config: TelemetryConfig | undefined, version: string): Promise<Tracing> {
  if (!config) return TRACING_OFF;
  const [api, sdk, exporter, resources, core] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/core"),
  ]);
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ "service.name": config.serviceName, "service.version": version }),
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter: new exporter.OTLPTraceExporter({ url: config.tracesUrl, ...(config.secretHeaders ? { headers: headerMap(config.secretHeaders) } : {}) }),
        scheduledDelayMillis: 1000,
      }),
    ],
  });
  const tracer: Tracer = provider.getTracer("grok2api", version);
  const propagator = new core.W3CTraceContextPropagator();
  const headerGetter = { get: (h: Headers, k: string) => h.get(k) ?? undefined, keys: (h: Headers) => [...h.keys()] };
  const recordSetter = { set: (r: Record<string, string>, k: string, v: string) => void (r[k] = v) };

  const requestTrace = (method: string, path: string, headers: Headers): RequestTrace => {
    const parent = propagator.extract(api.ROOT_CONTEXT, headers, headerGetter);
    const span: Span = tracer.startSpan(
      `${method} ${path}`,
      {
        kind: api.SpanKind.SERVER,
        attributes: { "http.request.method": method, "url.path": path, "gen_ai.provider.name": "xai", "gen_ai.operation.name": "chat" },
      },
      parent,
    );
    const ctx = api.trace.setSpan(parent, span);
    return {
      attempt({ target, url, model, n }) {
        const a = tracer.startSpan(
          "upstream attempt",
          {
            kind: api.SpanKind.CLIENT,
            attributes: {
              "gen_ai.provider.name": "xai",
              "server.address": hostOf(url),
              "grok2api.upstream.target": target,
              "grok2api.upstream.attempt": n,
              ...(model ? { "gen_ai.request.model": model } : {}),
            },
          },
          ctx,
        );
        const carrier: Record<string, string> = {};
        propagator.inject(api.trace.setSpan(ctx, a), carrier, recordSetter);
        return {
          traceparent: carrier.traceparent,
          end({ status, error }) {
            if (status !== undefined) a.setAttribute("http.response.status_code", status);
            if (error) {
              a.setAttribute("error.type", error);
              a.setStatus({ code: api.SpanStatusCode.ERROR });
            }
            a.end();
          },
        };
      },
      event(name, attributes) {
        span.addEvent(name, attributes);
      },
      end(entry, status, error, keyId) {
        const attrs: Record<string, string | number | boolean> = { "http.response.status_code": status };
        if (entry.model) attrs["gen_ai.request.model"] = entry.model;
        if (entry.upstream_model) attrs["gen_ai.response.model"] = entry.upstream_model;
        if (entry.input_tokens !== undefined) attrs["gen_ai.usage.input_tokens"] = entry.input_tokens + (entry.cached_tokens ?? 0);
        if (entry.output_tokens !== undefined) attrs["gen_ai.usage.output_tokens"] = entry.output_tokens;
        if (entry.cached_tokens !== undefined) attrs["gen_ai.usage.cache_read.input_tokens"] = entry.cached_tokens;
        if (entry.cost_usd !== undefined) attrs["grok2api.cost_usd"] = entry.cost_usd;
        if (entry.estimated) attrs["grok2api.usage.estimated"] = true;
        if (entry.stream !== undefined) attrs["grok2api.stream"] = entry.stream;
        if (entry.route) attrs["grok2api.route"] = entry.route;
        if (entry.upstream_target) attrs["grok2api.upstream.target"] = entry.upstream_target;
        if (keyId) attrs["grok2api.virtual_key.id"] = keyId;
        if (entry.key_name) attrs["grok2api.virtual_key.name"] = entry.key_name;
        span.setAttributes(attrs);
        if (error || status >= 500) {
          span.setAttribute("error.type", error ?? String(status));
          span.setStatus({ code: api.SpanStatusCode.ERROR });
        }
        span.end();
      },
    };
  };
  return {
    start: requestTrace,
    shutdown: () => provider.shutdown().catch(() => {}),
  };
}

/** `name=value` pairs (percent-encoded, as the OTLP specification has them) → headers. */
function headerMap(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const at = p.indexOf("=");
    try {
      out[decodeURIComponent(p.slice(0, at).trim())] = decodeURIComponent(p.slice(at + 1).trim());
    } catch {
      out[p.slice(0, at).trim()] = p.slice(at + 1).trim();
    }
  }
  return out;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}
