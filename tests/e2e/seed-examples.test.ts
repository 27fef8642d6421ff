/**
 * The seed document's examples, done with @anthropic-ai/sdk against the real
 * server and a fake xAI. The examples pass base_url "http://localhost:9527/v1",
 * so the SDK posts to /v1/v1/messages: that must work as written.
 */
import Anthropic from "@anthropic-ai/sdk";
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { completion, streamOf, textChunks, usage, xaiError } from "../helpers/fake-upstream";
import { answer } from "../helpers/fake-responses";
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

/**
 * The same examples on today's Grok: the Responses API (what `auto` picks for api.x.ai), where
 * grok-4.3 reasons on every answer. The answer is still `content[0].text`: Anthropic sends no
 * thinking block unless the request enables thinking. Run as a user would run them: README's
 * TypeScript example and the guide's own (`content[0].text`) as scripts with the real SDK, and the
 * guide's Python example where the Python SDK is installed.
 */
describe("seed examples over xAI's Responses API (the default for api.x.ai)", () => {
  const xai = useFakeUpstream();
  const gw = useGateway({ upstream: { baseUrl: xai.baseUrl, keys: [], api: "responses" } }, xai);
  const ROOT = join(import.meta.dir, "..", "..");
  const GROK = { reasoning: { pieces: ["The user greets me."], encrypted: "ENC-HELLO" }, text: ["Hello! ", "I am Grok."] };

  /** A script run with Bun from the project (so `@anthropic-ai/sdk` resolves), its stdout. */
  async function runTs(code: string): Promise<string> {
    const p = Bun.spawn([process.execPath, "-e", code], { cwd: ROOT, env: { ...process.env, XAI_API_KEY: "xai-user-key" }, stdout: "pipe", stderr: "pipe" });
    const [out, err, code_] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code_ !== 0) throw new Error(`the example failed (${code_}): ${err}`);
    return out;
  }

  test("README's TypeScript example prints the answer, created and streamed", async () => {
    xai.on(answer(GROK));
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = /## Use it[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(block).toContain('baseURL: "http://localhost:9527/v1"');
    const out = await runTs(block.replaceAll("http://localhost:9527", gw.gw.url));
    expect(out).toBe("Hello! I am Grok.\nHello! I am Grok.\n(160 output tokens)\n");
    expect(xai.requests.map((r) => r.path)).toEqual(["/v1/responses", "/v1/responses"]);
    expect(xai.last.headers.get("authorization")).toBe("Bearer xai-user-key");
  });

  test("the guide's own form: message.content[0].text, and the stream's final message", async () => {
    xai.on(answer(GROK));
    const out = await runTs(`
      import Anthropic from "@anthropic-ai/sdk";
      const client = new Anthropic({ baseURL: "${gw.gw.url}/v1", apiKey: process.env.XAI_API_KEY });
      const message = await client.messages.create({ model: "grok-4", max_tokens: 1024, messages: [{ role: "user", content: "Hello, Grok!" }] });
      console.log(message.content[0].text);
      const final = await client.messages.stream({ model: "grok-4", max_tokens: 1024, messages: [{ role: "user", content: "Hi" }] }).finalMessage();
      console.log(final.content.map((b) => b.type).join(","), final.content[0].text);
    `);
    expect(out).toBe("Hello! I am Grok.\ntext Hello! I am Grok.\n");
    // The model name went upstream as written.
    expect(xai.requests.map((r) => r.body.model)).toEqual(["grok-4", "grok-4"]);
  });

  const python = Bun.spawnSync(["python3", "-c", "import anthropic"]).exitCode === 0;
  if (!python) console.warn("skipping the guide's Python example: the anthropic Python SDK is not installed (pip install anthropic)");
  test.skipIf(!python)("the guide's Python example: print(message.content[0].text) and text_stream", async () => {
    xai.on(answer(GROK));
    const script = `
import anthropic
client = anthropic.Anthropic(base_url="${gw.gw.url}/v1", api_key="xai-user-key")
message = client.messages.create(model="grok-4", max_tokens=1024, messages=[{"role": "user", "content": "Hello, Grok!"}])
print(message.content[0].text)
with client.messages.stream(model="grok-4", max_tokens=1024, messages=[{"role": "user", "content": "Hi"}]) as stream:
    for text in stream.text_stream:
        print(text, end="")
print()
`;
    const p = Bun.spawn(["python3", "-c", script], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    expect(out).toBe("Hello! I am Grok.\nHello! I am Grok.\n");
  });
});
