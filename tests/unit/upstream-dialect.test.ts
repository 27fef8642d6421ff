/** Which upstreams are taken to speak the Responses API. */
import { describe, expect, test } from "bun:test";
import { isXaiHost, upstreamHost, upstreamSpeaksResponses } from "../../src/upstream/dialect";

const at = (baseUrl: string) => ({ upstream: { baseUrl } });

describe("upstreamSpeaksResponses", () => {
  test("xAI's hosts do, other hosts do not, unless told", () => {
    expect(upstreamSpeaksResponses(at("https://api.x.ai/v1"), {})).toBe(true);
    expect(upstreamSpeaksResponses(at("https://us-east-1.api.x.ai/v1"), {})).toBe(true);
    expect(upstreamSpeaksResponses(at("https://API.X.AI/v1"), {})).toBe(true);
    expect(upstreamSpeaksResponses(at("http://127.0.0.1:8000/v1"), {})).toBe(false);
    expect(upstreamSpeaksResponses(at("https://notx.ai/v1"), {})).toBe(false);
    expect(upstreamSpeaksResponses(at("https://api.x.ai.evil.example/v1"), {})).toBe(false);
  });

  test("GROK2API_UPSTREAM_API decides when it names a dialect; auto or junk leaves it to the host", () => {
    expect(upstreamSpeaksResponses(at("http://127.0.0.1:8000/v1"), { GROK2API_UPSTREAM_API: "responses" })).toBe(true);
    expect(upstreamSpeaksResponses(at("http://127.0.0.1:8000/v1"), { GROK2API_UPSTREAM_API: " Responses " })).toBe(true);
    expect(upstreamSpeaksResponses(at("https://api.x.ai/v1"), { GROK2API_UPSTREAM_API: "chat" })).toBe(false);
    expect(upstreamSpeaksResponses(at("https://api.x.ai/v1"), { GROK2API_UPSTREAM_API: "auto" })).toBe(true);
    expect(upstreamSpeaksResponses(at("http://127.0.0.1:8000/v1"), { GROK2API_UPSTREAM_API: "yes" })).toBe(false);
  });

  test("helpers: a bad URL is no xAI host; the host named in errors has no credentials or path", () => {
    expect(isXaiHost("not a url")).toBe(false);
    expect(upstreamHost("https://user:pass@llm.internal:8443/v1?key=secret")).toBe("llm.internal:8443");
    expect(upstreamHost("::")).toBe("the configured upstream");
  });
});
