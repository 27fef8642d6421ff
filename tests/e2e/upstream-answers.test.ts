/**
 * What the upstream answers is checked before it is passed on: a non-streamed answer is
 * read with a bound (max_response_bytes, 502 past it) on both faces; on the chat face a
 * 200 that is not a chat completion is a 502 in the OpenAI envelope; a relayed stream
 * that ends before a complete `data: [DONE]` line ends with an error event.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chunk, completion, sseResponse } from "../helpers/fake-upstream";
import { startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream } from "../helpers/setup";

const MAX = 64 * 1024;
const fake = useFakeUpstream();
let gw: Gateway;
let openai: OpenAI;
beforeAll(() => {
  gw = startGateway(fake.baseUrl, { maxResponseBytes: MAX });
  openai = new OpenAI({ baseURL: gw.url + "/v1", apiKey: "k", maxRetries: 0 });
});
afterAll(() => gw.stop());

const chatBody = { model: "grok-4", messages: [{ role: "user", content: "hi" }] };
const messagesBody = { model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] };
async function post(path: string, body: unknown) {
  const res = await fetch(gw.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() as any };
}

/** A body streamed in pieces with no content-length. */
function chunked(text: string, piece = 8192): Response {
  const bytes = new TextEncoder().encode(text);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += piece) parts.push(bytes.subarray(i, i + piece));
  return new Response(new ReadableStream({ start(c) { for (const p of parts) c.enqueue(p); c.close(); } }), { headers: { "content-type": "application/json" } });
}

describe("non-streamed answers are read with a bound", () => {
  const huge = () => JSON.stringify(completion({ content: "x".repeat(4 * MAX) }));

  test.each([
    ["with content-length", () => new Response(huge(), { headers: { "content-type": "application/json" } })],
    ["chunked", () => chunked(huge())],
  ])("/v1/messages, %s → 502", async (_name, make) => {
    fake.on(make);
    const { status, json } = await post("/v1/messages", messagesBody);
    expect(status).toBe(502);
    expect(json).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect(json.error.message).toContain("max_response_bytes");
  });

  test.each([
    ["with content-length", () => new Response(huge(), { headers: { "content-type": "application/json" } })],
    ["chunked", () => chunked(huge())],
  ])("/v1/chat/completions, %s → 502", async (_name, make) => {
    fake.on(make);
    const { status, json } = await post("/v1/chat/completions", chatBody);
    expect(status).toBe(502);
    expect(json.error.type).toBe("server_error");
    expect(json.error.message).toContain("max_response_bytes");
  });

  test("an answer under the bound passes", async () => {
    fake.on(() => Response.json(completion({ content: "y".repeat(MAX / 2) })));
    expect((await post("/v1/chat/completions", chatBody)).status).toBe(200);
    expect((await post("/v1/messages", messagesBody)).status).toBe(200);
  });
});

describe("chat face: a 200 that is not a chat completion is a 502", () => {
  test.each([
    ["an HTML page", () => new Response("<html><body>Bad gateway</body></html>", { headers: { "content-type": "text/html" } })],
    ["an SSE body", () => sseResponse(`data: ${JSON.stringify(chunk({ content: "hi" }))}\n\ndata: [DONE]\n\n`)],
    ["[DONE] only", () => new Response("data: [DONE]\n\n")],
    ["an error object", () => Response.json({ error: { message: "something broke upstream" } })],
    ["truncated JSON", () => new Response(JSON.stringify(completion({ content: "hi" })).slice(0, 40))],
    ["an empty body", () => new Response("")],
    ["null", () => new Response("null")],
  ])("%s", async (_name, make) => {
    fake.on(make);
    const err = await openai.chat.completions.create({ model: "grok-4", messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(502);
    expect(err.error.type).toBe("server_error");
    expect(err.error.message).toMatch(/^the upstream /);
  });
});

describe("chat face: a relayed stream that ends early ends with an error event", () => {
  test.each([
    ["[DONE] without its line end", `data: ${JSON.stringify(chunk({ content: "hi" }))}\n\ndata: [DONE]`],
    ["a chunk cut without a newline", `data: ${JSON.stringify(chunk({ content: "hi" }))}\n\ndata: {"id":"x","choi`],
    ["no [DONE]", `data: ${JSON.stringify(chunk({ content: "hi" }))}\n\n`],
  ])("%s", async (_name, wire) => {
    fake.on(() => sseResponse(wire));
    const { status, text } = await post("/v1/chat/completions", { ...chatBody, stream: true });
    expect(status).toBe(200);
    const last = text.trim().split("\n\n").pop()!;
    expect(last).toStartWith("data: ");
    expect(JSON.parse(last.slice(6)).error.message).toContain("closed the stream before it was complete");
  });

  test("a complete stream has no error event", async () => {
    fake.on(() => sseResponse(`data: ${JSON.stringify(chunk({ content: "hi" }))}\n\ndata: [DONE]\n\n`));
    const { text } = await post("/v1/chat/completions", { ...chatBody, stream: true });
    expect(text).not.toContain('"error"');
    expect(text.trim()).toEndWith("data: [DONE]");
  });
});
