/**
 * The seed document's examples, done with @anthropic-ai/sdk against the real
 * server and a fake xAI. The examples pass base_url "http://localhost:9527/v1",
 * so the SDK posts to /v1/v1/messages: that must work as written.
 */
import Anthropic from "@anthropic-ai/sdk";
import { beforeAll, describe, expect, test } from "bun:test";
import { completion, streamOf, textChunks, usage, xaiError } from "../helpers/fake-upstream";
import { useFakeUpstream, useGateway } from "../helpers/setup";
import { DEFAULT_ROUTING } from "../../src/models/routing";

const fake = useFakeUpstream();
const rig = useGateway({ upstream: { baseUrl: fake.baseUrl, keys: [] } }, fake);
let client: Anthropic;
beforeAll(() => {
  // As in the seed: base_url ends in /v1, the key is the user's xAI key.
  client = new Anthropic({ baseURL: `${rig.gw.url}/v1`, apiKey: "xai-user-key", maxRetries: 0 });
});

describe("seed examples", () => {
  test("hello: a plain message", async () => {
    fake.on(() => Response.json(completion({ content: "Hello! How can I help?" }, "stop", usage(10, 7))));
    const msg = await client.messages.create({
      model: "claude-3-5-sonnet-20241022",
      max_tokens: 1024,
      messages: [{ role: "user", content: "Hello, Grok!" }],
    });
    expect(msg.type).toBe("message");
    expect(msg.role).toBe("assistant");
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.model).toBe("claude-3-5-sonnet-20241022");
    expect<unknown>(msg.content).toEqual([{ type: "text", text: "Hello! How can I help?" }]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage.input_tokens).toBe(10);
    expect(msg.usage.output_tokens).toBe(7);
    // The upstream saw the mapped model, the user's key and OpenAI-style messages.
    expect(fake.last.path).toBe("/v1/chat/completions");
    // The guide's names now reach today's models (routed by role), not the retired grok-2 ids.
    expect(fake.last.body.model).toBe(DEFAULT_ROUTING.default);
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-user-key");
    expect(fake.last.body.messages).toEqual([{ role: "user", content: "Hello, Grok!" }]);
    expect(fake.last.body.max_completion_tokens).toBe(1024);
  });

  test("messages.stream: text arrives in pieces and the final message is whole", async () => {
    fake.on(() => streamOf(textChunks("The sky is blue because of Rayleigh scattering.", { usage: usage(20, 11) })));
    const pieces: string[] = [];
    const stream = client.messages.stream({
      model: "claude-3-5-sonnet-latest",
      max_tokens: 256,
      messages: [{ role: "user", content: "Why is the sky blue?" }],
    });
    stream.on("text", (t) => pieces.push(t));
    const final = await stream.finalMessage();
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join("")).toBe("The sky is blue because of Rayleigh scattering.");
    expect<unknown>(final.content).toEqual([{ type: "text", text: "The sky is blue because of Rayleigh scattering." }]);
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBe(11);
    expect(final.usage.input_tokens).toBe(20);
    expect(fake.last.body.stream).toBe(true);
    expect(fake.last.body.stream_options).toEqual({ include_usage: true });
  });

  test("system prompt goes first, as a system message", async () => {
    fake.on(() => Response.json(completion({ content: "Arr!" })));
    await client.messages.create({
      model: "grok-4",
      max_tokens: 100,
      system: "You are a pirate.",
      messages: [{ role: "user", content: "Greet me." }],
    });
    expect(fake.last.body.model).toBe("grok-4");
    expect(fake.last.body.messages).toEqual([
      { role: "system", content: "You are a pirate." },
      { role: "user", content: "Greet me." },
    ]);
  });

  test("a base64 image reaches the upstream as a data URI", async () => {
    fake.on(() => Response.json(completion({ content: "A red pixel." })));
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
    const msg = await client.messages.create({
      model: "grok-vision",
      max_tokens: 100,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: png } },
            { type: "text", text: "What is this?" },
          ],
        },
      ],
    });
    expect<unknown>(msg.content[0]).toEqual({ type: "text", text: "A red pixel." });
    expect(fake.last.body.messages[0].content).toEqual([
      { type: "image_url", image_url: { url: `data:image/png;base64,${png}` } },
      { type: "text", text: "What is this?" },
    ]);
  });

  test("curl with Bearer and anthropic-version", async () => {
    fake.on(() => Response.json(completion({ content: "pong" })));
    const res = await fetch(`${rig.gw.url}/v1/messages`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer xai-curl-key",
        "anthropic-version": "2023-06-01",
      },
      body: JSON.stringify({ model: "claude-3-haiku-20240307", max_tokens: 10, messages: [{ role: "user", content: "ping" }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    const msg = (await res.json()) as Anthropic.Message;
    expect<unknown>(msg.content).toEqual([{ type: "text", text: "pong" }]);
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-curl-key");
    expect(fake.last.body.model).toBe(DEFAULT_ROUTING.fast);
  });

  test("error handling via APIError keeps the upstream's message", async () => {
    fake.on(() => xaiError(400, "Invalid request content: max_tokens is too large"));
    const err = await client.messages
      .create({ model: "grok-4", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(err.message).toContain("max_tokens is too large");
    expect(err.requestID).toMatch(/^req_/);
  });
});
