/** A redirect from the upstream is never followed: the prompt and the key stay where they were sent. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream } from "../helpers/setup";

const fake = useFakeUpstream();
const elsewhere = useFakeUpstream();
let gw: Gateway;
beforeAll(() => {
  gw = startGateway(fake.baseUrl);
});
afterAll(() => gw.stop());

test.each([301, 302, 307, 308])("an upstream %d is answered 502 and not followed", async (status) => {
  fake.on(() => new Response(null, { status, headers: { location: `${elsewhere.baseUrl}/chat/completions` } }));
  const messages = await fetch(gw.url + "/v1/messages", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "secret prompt" }] }),
  });
  expect(messages.status).toBe(502);
  const body = (await messages.json()) as any;
  expect(body.error.type).toBe("api_error");
  expect(body.error.message).toContain("redirect");
  const chat = await fetch(gw.url + "/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "grok-4", messages: [{ role: "user", content: "secret prompt" }] }),
  });
  expect(chat.status).toBe(502);
  expect(((await chat.json()) as any).error.message).toContain("redirect");
  expect(elsewhere.requests.length).toBe(0);
  expect(fake.requests.length).toBe(2); // one each, no retry
});
