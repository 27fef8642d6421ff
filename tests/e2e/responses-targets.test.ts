/**
 * The dialect is per target: a chat completions primary that fails falls back to a Responses
 * target, which gets a Responses body; and with no upstream key (the client's own key
 * forwarded), xAI's 400 "Incorrect API key" is a 401 authentication_error.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config";
import { answer, fixture } from "../helpers/fake-responses";
import { resilience, startGateway, type Gateway } from "../helpers/gateway";
import { clientFor, useFakeUpstream, useGateways } from "../helpers/setup";

const chat = useFakeUpstream();
const responses = useFakeUpstream();
let gw: Gateway;
let open: Gateway;
let client: Anthropic;

beforeAll(() => {
  gw = startGateway(chat.baseUrl, {
    upstream: { baseUrl: chat.baseUrl, keys: ["k1"], api: "chat" },
    resilience: resilience({ maxRetries: 0, fallbacks: [{ baseUrl: responses.baseUrl, api: "responses", model: "grok-4.3" }] }),
  });
  open = startGateway(responses.baseUrl, { upstream: { baseUrl: responses.baseUrl, keys: [], api: "responses" } });
  client = clientFor(gw);
});
afterAll(async () => {
  await gw.stop();
  await open.stop();
});

const ask = { model: "grok-4.20-0309-reasoning", max_tokens: 64, messages: [{ role: "user" as const, content: "hi" }] };

test("a failing chat completions primary falls back to a Responses target, which gets a Responses body", async () => {
  chat.on(() => Response.json({ error: { message: "down" } }, { status: 503 }));
  responses.on(answer({ text: ["from the fallback"] }));
  for (const stream of [false, true]) {
    chat.reset();
    responses.reset();
    const msg = stream ? await client.messages.stream(ask).finalMessage() : await client.messages.create(ask);
    expect((msg.content[0] as Anthropic.TextBlock).text).toBe("from the fallback");
    expect(chat.last.path).toBe("/v1/chat/completions");
    expect(chat.last.body.messages).toBeArray();
    expect(responses.last.path).toBe("/v1/responses");
    expect(responses.last.body).toMatchObject({ model: "grok-4.3", store: false, input: [{ role: "user", content: "hi" }] });
    expect("messages" in responses.last.body).toBe(false);
  }
});

test("with the client's own key forwarded, xAI's 400 'Incorrect API key' is a 401 authentication_error with xAI's words", async () => {
  responses.on(() => new Response(fixture("rubyllm-grok-4.3-error-invalid-api-key.json"), { status: 400, headers: { "content-type": "application/json" } }));
  const res = await fetch(`${open.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "xai-wrong" },
    body: JSON.stringify(ask),
  });
  expect(res.status).toBe(401);
  const body = (await res.json()) as { error: { type: string; message: string } };
  expect(body.error.type).toBe("authentication_error");
  expect(body.error.message).toContain("Incorrect API key provided");
  expect(body.error.message).not.toContain("xai-wrong");
});

describe("a fallback whose dialect cannot serve the request is skipped", () => {
  const primary = useFakeUpstream();
  const chatFallback = useFakeUpstream();
  const responsesFallback = useFakeUpstream();
  const search = {
    model: "grok-4.3",
    max_tokens: 64,
    messages: [{ role: "user" as const, content: "what is new?" }],
    tools: [{ type: "web_search_20250305" as const, name: "web_search" as const }],
  };
  const start = useGateways(primary);
  const gatewayWith = (fallbacks: NonNullable<Config["resilience"]["fallbacks"]>) =>
    start({ upstream: { baseUrl: primary.baseUrl, keys: ["k1"], api: "responses" }, resilience: resilience({ maxRetries: 1, fallbacks }) });

  test("web search with a chat-completions fallback: the client sees the primary's 529 after its retries, never a 400", async () => {
    primary.on(() => Response.json({ error: { message: "primary is down" } }, { status: 503 }));
    const gw = gatewayWith([{ baseUrl: chatFallback.baseUrl, api: "chat" }]);
    for (const stream of [false, true]) {
      primary.reset();
      const ask = stream ? clientFor(gw).messages.stream(search).finalMessage() : clientFor(gw).messages.create(search);
      const err = await ask.catch((e) => e);
      expect(err).toBeInstanceOf(Anthropic.InternalServerError);
      expect(err.status).toBe(529);
      expect(err.error.error).toMatchObject({ type: "overloaded_error", message: "primary is down" });
      expect(primary.requests).toHaveLength(2); // the first try and one retry
      expect(chatFallback.requests).toHaveLength(0);
    }
  });

  test("a chat fallback is skipped, the next fallback that speaks Responses serves", async () => {
    primary.on(() => Response.json({ error: { message: "primary is down" } }, { status: 503 }));
    responsesFallback.on(answer({ text: ["searched by the fallback"] }));
    const gw = gatewayWith([
      { baseUrl: chatFallback.baseUrl, api: "chat" },
      { baseUrl: responsesFallback.baseUrl, api: "responses" },
    ]);
    const msg = await clientFor(gw).messages.create(search);
    expect((msg.content[0] as Anthropic.TextBlock).text).toBe("searched by the fallback");
    expect(chatFallback.requests).toHaveLength(0);
    expect(responsesFallback.last.body.tools).toEqual([expect.objectContaining({ type: "web_search" })]);
  });

  test("no target can serve it (a chat primary): the 400 that says so, before anything is sent", async () => {
    const gw = start({ upstream: { baseUrl: primary.baseUrl, keys: ["k1"], api: "chat" }, resilience: resilience({ fallbacks: [{ baseUrl: chatFallback.baseUrl, api: "chat" }] }) });
    const err = await clientFor(gw).messages.create(search).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error.error.message).toContain("needs the upstream's Responses API");
    expect(primary.requests).toHaveLength(0);
    expect(chatFallback.requests).toHaveLength(0);
  });
});
