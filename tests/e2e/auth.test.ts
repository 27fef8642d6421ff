/** The three authentication modes, and the refusal rules at start-up. */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { presentedKey } from "../../src/http/auth";
import { completion } from "../helpers/fake-upstream";
import type { Gateway } from "../helpers/gateway";
import { useFakeUpstream, useGateway } from "../helpers/setup";

const body = JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
const post = (gw: Gateway, headers: Record<string, string>) =>
  fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

const fake = useFakeUpstream().on(() => Response.json(completion({ content: "ok" })));

test("presentedKey reads x-api-key or a Bearer token", () => {
  expect(presentedKey(new Headers({ "x-api-key": "k1" }))).toBe("k1");
  expect(presentedKey(new Headers({ authorization: "Bearer k2" }))).toBe("k2");
  expect(presentedKey(new Headers({ authorization: "bearer  k3 " }))).toBe("k3");
  expect(presentedKey(new Headers({ authorization: "Basic abc" }))).toBeNull();
  expect(presentedKey(new Headers())).toBeNull();
});

describe("zero configuration: the client's key is forwarded", () => {
  const rig = useGateway({ clientKeys: [], upstream: { baseUrl: fake.baseUrl, keys: [] } }, fake);

  test("x-api-key (SDK apiKey) goes upstream as Bearer", async () => {
    const client = new Anthropic({ baseURL: rig.gw.url, apiKey: "xai-from-x-api-key", maxRetries: 0 });
    await client.messages.create({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-from-x-api-key");
  });

  test("Authorization: Bearer (SDK authToken) goes upstream too", async () => {
    const client = new Anthropic({ baseURL: rig.gw.url, authToken: "xai-from-bearer", apiKey: null, maxRetries: 0 });
    await client.messages.create({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-from-bearer");
  });

  test("no key at all → 401 authentication_error, upstream not called", async () => {
    fake.reset();
    const res = await post(rig.gw, {});
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("client keys configured: the client must present one; the upstream key is ours", () => {
  const rig = useGateway({
    clientKeys: ["client-key-1", "client-key-2"],
    upstream: { baseUrl: fake.baseUrl, keys: ["xai-server-key"] },
  }, fake);

  test.each([
    [{ "x-api-key": "client-key-1" }],
    [{ authorization: "Bearer client-key-2" }],
  ])("accepted: %o", async (headers) => {
    const res = await post(rig.gw, headers);
    expect(res.status).toBe(200);
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-server-key");
  });

  test.each([
    ["missing", {}],
    ["wrong", { "x-api-key": "client-key-3" }],
    ["prefix of a real key", { "x-api-key": "client-key" }],
    ["wrong bearer", { authorization: "Bearer nope" }],
  ])("rejected (%s) with 401 in the Anthropic envelope", async (_label, headers) => {
    fake.reset();
    const res = await post(rig.gw, headers as Record<string, string>);
    expect(res.status).toBe(401);
    const json = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(json.type).toBe("error");
    expect(json.error.type).toBe("authentication_error");
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    expect(fake.requests).toHaveLength(0);
  });

  test("the SDK surfaces it as AuthenticationError", async () => {
    const client = new Anthropic({ baseURL: rig.gw.url, apiKey: "bad", maxRetries: 0 });
    const err = await client.messages
      .create({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
  });
});

describe("upstream key but no client keys: open, on loopback only", () => {
  const rig = useGateway({ clientKeys: [], upstream: { baseUrl: fake.baseUrl, keys: ["xai-server-key"] } }, fake);

  test("a client without a key is served with the upstream key; a client key is not forwarded", async () => {
    expect((await post(rig.gw, {})).status).toBe(200);
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-server-key");
    expect((await post(rig.gw, { "x-api-key": "whatever" })).status).toBe(200);
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-server-key");
  });
});
