import { describe, expect, test } from "bun:test";
import { upstreamHost } from "../../src/faces/openai-responses/responses";

describe("/v1/responses errors", () => {
  test("the host named in errors has no credentials, path or query", () => {
    expect(upstreamHost("https://user:pass@llm.internal:8443/v1?key=secret")).toBe("llm.internal:8443");
    expect(upstreamHost("::")).toBe("the configured upstream");
  });
});
