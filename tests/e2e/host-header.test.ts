/**
 * The router sees the request's real path whatever the Host header says (a short Host once shifted it).
 * The gateway has no client keys, so it serves only loopback names and those of allowed_hosts
 * (http/local-only.ts, tests/e2e/local-only.test.ts): the short names tested here are allowed.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream } from "../helpers/setup";

const fake = useFakeUpstream();
let gw: Gateway;
beforeAll(() => {
  gw = startGateway(fake.baseUrl, { allowedHosts: ["a", "ab", "abc", "example.com"] });
});
afterAll(() => gw.stop());

const get = (path: string, host: string) => fetch(gw.url + path, { headers: { host } });

test.each(["a", "ab", "abc", "a:1", "localhost", "example.com:9527"])("Host %j: paths route as sent", async (host) => {
  const shifted = await get("/v1/metrics", host);
  expect(shifted.status).toBe(404);
  expect(((await shifted.json()) as any).error.message).toContain("/v1/metrics");
  expect((await get("/zz/health", host)).status).toBe(404);
  expect((await get("/health", host)).status).toBe(200);
  const metrics = await get("/metrics", host);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toContain("grok2api_");
});

test("a short Host still reaches POST routes with their body", async () => {
  const res = await fetch(gw.url + "/v1/messages?beta=true", {
    method: "POST",
    headers: { host: "ab", "content-type": "application/json" },
    body: JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as any).content[0].text).toBe("Hello from fake Grok!");
});
