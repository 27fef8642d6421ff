/** Where traces go: the OTEL_* variables over `[telemetry]`, off unless an endpoint is set, headers kept secret. */
import { describe, expect, test } from "bun:test";
import { collectSecrets, redactSecrets } from "../../src/redact";
import { telemetryFromEnv } from "../../src/telemetry/tracing";

describe("telemetryFromEnv", () => {
  test("off without an endpoint, or when the SDK or the traces exporter is turned off", () => {
    expect(telemetryFromEnv({})).toBeUndefined();
    expect(telemetryFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" })).toBeUndefined();
    expect(telemetryFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_TRACES_EXPORTER: "none" })).toBeUndefined();
  });

  test("the base endpoint gets /v1/traces; the traces endpoint is taken as it is; the environment wins over the file", () => {
    expect(telemetryFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" })).toEqual({ tracesUrl: "http://c:4318/v1/traces", serviceName: "grok2api" });
    expect(telemetryFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/custom" })?.tracesUrl).toBe("http://c:4318/custom");
    expect(telemetryFromEnv({}, "http://file:4318", "gw")).toEqual({ tracesUrl: "http://file:4318/v1/traces", serviceName: "gw" });
    expect(telemetryFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://env:4318", OTEL_SERVICE_NAME: "svc" }, "http://file:4318", "gw")).toEqual({
      tracesUrl: "http://env:4318/v1/traces",
      serviceName: "svc",
    });
  });

  test("its headers (an API key) are secrets: masked when shown, scrubbed from what leaves", () => {
    const t = telemetryFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=sekret-0123456789, x-team=alpha" })!;
    expect(t.secretHeaders).toEqual(["x-api-key=sekret-0123456789", "x-team=alpha"]);
    expect(JSON.stringify(redactSecrets({ telemetry: t }))).not.toContain("sekret-0123456789");
    expect(collectSecrets({ telemetry: t })).toContain("x-api-key=sekret-0123456789");
  });
});
