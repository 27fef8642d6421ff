/**
 * The OpenAI face: the `openai` SDK against the real gateway and a fake xAI.
 */
import OpenAI from "openai";
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import {
  chunk,
  completion,
  sseResponse,
  sseText,
  streamOf,
  textChunks,
  usage,
  usageChunk,
  xaiError,
} from "../helpers/fake-upstream";
import { resilience, startGateway } from "../helpers/gateway";
import { openaiFor, useFakeUpstream, useGateway } from "../helpers/setup";

const fake = useFakeUpstream();
const rig = useGateway({ modelMap: { "gpt-4o": "grok-4.3" } }, fake);
let client: OpenAI;
beforeAll(() => {
  client = openaiFor(rig.gw, "sk-client-key");
});

const enc = new TextEncoder();

describe("chat.completions.create, non-streaming", () => {
  test("goes upstream with the mapped model and the upstream key; comes back as the upstream sent it", async () => {
    const answer = completion({ content: "Hello from Grok" }, "stop", usage(21, 4));
    fake.on(() => Response.json(answer));
    const params = {
      messages: [
        { role: "system" as const, content: "Be brief." },
        { role: "user" as const, content: "Hi" },
      ],
      temperature: 0.3,
      top_p: 0.9,
      max_tokens: 50,
      seed: 7,
      user: "u-1",
      response_format: { type: "text" as const },
      tools: [{ type: "function" as const, function: { name: "f", parameters: { type: "object", properties: {} } } }],
      tool_choice: "auto" as const,
    };
    const res = await client.chat.completions.create({ model: "claude-3-5-sonnet-20241022", ...params });
    expect(res as unknown).toEqual(answer);
    expect(fake.last.path).toBe("/v1/chat/completions");
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-test-upstream-key");
    // Everything but the model passes untouched.
    // (routed by role: no built-in model map sends it to a retired grok-2 id any more)
    expect(fake.last.body).toEqual({ model: "grok-4.3", ...params });
  });

  test("an unmapped model name goes upstream unchanged; /v1/v1 works too", async () => {
    fake.on(() => Response.json(completion({ content: "ok" })));
    const res = await fetch(`${rig.gw.url}/v1/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-x", "x-grok-conv-id": "conv-42" },
      body: JSON.stringify({ model: "grok-3", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).choices[0].message.content).toBe("ok");
    expect(fake.last.body.model).toBe("grok-3");
    expect(fake.last.headers.get("x-grok-conv-id")).toBe("conv-42");
  });
});

describe("chat.completions.create, streaming", () => {
  test("chunks reach the client as the upstream sends them, not after it ends", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = chunk({ role: "assistant", content: "Hel" }, null, "grok-4.3");
    const rest = [chunk({ content: "lo" }, null, "grok-4.3"), chunk({}, "stop", "grok-4.3")];
    fake.on(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            async start(controller) {
              controller.enqueue(enc.encode(sseText([first], { done: false })));
              await gate; // the rest only after the client has seen the first chunk
              controller.enqueue(enc.encode(sseText(rest)));
              controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
    );
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hello?" }],
      stream: true,
    });
    const texts: string[] = [];
    for await (const c of stream) {
      texts.push(c.choices[0]?.delta.content ?? "");
      release();
    }
    expect(texts.join("")).toBe("Hello");
    expect(fake.last.body.model).toBe("grok-4.3");
    expect(fake.last.body.stream).toBe(true);
    // The client did not ask for usage: the upstream is asked all the same (the request is charged what it reports).
    expect(fake.last.body.stream_options).toEqual({ include_usage: true });
  });

  test("the stream is passed through byte for byte", async () => {
    const wire = sseText(textChunks("Grok says hi", { usage: null }));
    fake.on(() => sseResponse(wire));
    const res = await fetch(`${rig.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-x" },
      body: JSON.stringify({ model: "grok-3", messages: [{ role: "user", content: "hi" }], stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(await res.text()).toBe(wire);
  });

  test("stream_options.include_usage is honoured: asked for, the usage chunk arrives", async () => {
    fake.on(() => streamOf(textChunks("Counted answer", { usage: usage(33, 2) })));
    const stream = await client.chat.completions.create({
      model: "grok-3",
      messages: [{ role: "user", content: "count me" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let seenUsage: OpenAI.CompletionUsage | null | undefined;
    let text = "";
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? "";
      if (c.usage) seenUsage = c.usage;
    }
    expect(text).toBe("Counted answer");
    expect(fake.last.body.stream_options).toEqual({ include_usage: true });
    expect(seenUsage?.prompt_tokens).toBe(33);
    expect(seenUsage?.completion_tokens).toBe(2);
  });

  test("a stream the upstream breaks off ends with an error the SDK throws", async () => {
    fake.on(() => streamOf([chunk({ role: "assistant", content: "partial" })], { done: false }));
    const stream = await client.chat.completions.create({
      model: "grok-3",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const texts: string[] = [];
    const err = await (async () => {
      for await (const c of stream) texts.push(c.choices[0]?.delta.content ?? "");
    })().catch((e) => e);
    expect(texts).toEqual(["partial"]);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.message).toContain("closed the stream before it was complete");
  });

  test("an error event from the upstream mid-stream reaches the client", async () => {
    fake.on(() =>
      sseResponse(sseText([chunk({ role: "assistant", content: "a" }), { code: "Internal", error: "model crashed" }], { done: false })),
    );
    const stream = await client.chat.completions.create({
      model: "grok-3",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const err = await (async () => {
      for await (const _ of stream);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
  });

  test("a client that goes away stops the upstream request", async () => {
    fake.on(() => sseResponse(sseText([chunk({ role: "assistant", content: "first" })], { done: false }), { hang: true }));
    const stream = await client.chat.completions.create({
      model: "grok-3",
      messages: [{ role: "user", content: "tell me a long story" }],
      stream: true,
    });
    for await (const c of stream) {
      expect(c.choices[0]?.delta.content).toBe("first");
      break; // leaving the loop aborts the SDK's request
    }
    await fake.last.closed;
    expect(fake.last.aborted()).toBe(true);
  });

  test("a silent upstream: keep-alive comments between events, then the stream completes", async () => {
    const pinging = startGateway(fake.baseUrl, { resilience: resilience({ pingIntervalMs: 40 }) });
    try {
      const pieces = [chunk({ role: "assistant", content: "thinking" }), chunk({ content: " done" }, "stop")].map((c) => enc.encode(`data: ${JSON.stringify(c)}\n\n`));
      pieces.push(enc.encode("data: [DONE]\n\n"));
      fake.on(() => sseResponse(pieces, { delayMs: 250 }));
      const res = await fetch(`${pinging.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer k" },
        body: JSON.stringify({ model: "grok-3", messages: [{ role: "user", content: "hi" }], stream: true }),
      });
      const text = await res.text();
      expect(text).toContain(": ping\n\n");
      // Pings sit between events, never inside one; the events themselves pass untouched.
      const events = text.split("\n\n").filter((e) => e && !e.startsWith(": ping"));
      expect(events.map((e) => e.slice(0, 6))).toEqual(["data: ", "data: ", "data: "]);
      expect(text.replaceAll(": ping\n\n", "")).toBe(new TextDecoder().decode(Buffer.concat(pieces)));
      // …and the SDK reads through them.
      fake.on(() => sseResponse(pieces, { delayMs: 150 }));
      const sdk = new OpenAI({ baseURL: `${pinging.url}/v1`, apiKey: "k", maxRetries: 0 });
      let content = "";
      for await (const c of await sdk.chat.completions.create({ model: "grok-3", messages: [{ role: "user", content: "hi" }], stream: true })) {
        content += c.choices[0]?.delta.content ?? "";
      }
      expect(content).toBe("thinking done");
    } finally {
      await pinging.stop();
    }
  });

  test("an upstream silent past the idle timeout: the stream ends with an error event", async () => {
    const strict = startGateway(fake.baseUrl, { resilience: resilience({ idleTimeoutMs: 100, pingIntervalMs: 0 }) });
    try {
      fake.on(() => sseResponse(sseText([chunk({ role: "assistant", content: "first" })], { done: false }), { hang: true }));
      const sdk = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: "k", maxRetries: 0 });
      const got: string[] = [];
      const err = await (async () => {
        for await (const c of await sdk.chat.completions.create({ model: "grok-3", messages: [{ role: "user", content: "hi" }], stream: true })) {
          got.push(c.choices[0]?.delta.content ?? "");
        }
      })().catch((e) => e);
      expect(got).toEqual(["first"]);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(String(err.message)).toMatch(/idle|timed out|silent/i);
      await fake.last.closed;
      expect(fake.last.aborted()).toBe(true);
    } finally {
      await strict.stop();
    }
  });
});

describe("parameters the target model rejects", () => {
  const sampling = {
    stop: ["END"],
    presence_penalty: 0.5,
    frequency_penalty: 0.2,
    temperature: 0.7,
    logprobs: false,
  };

  test("a reasoning model loses stop, penalties and reasoning_effort; the rest passes", async () => {
    fake.on(() => Response.json(completion({ content: "ok" })));
    const { response } = await client.chat.completions
      .create({
        model: "grok-4.20-0309-reasoning",
        messages: [{ role: "user", content: "hi" }],
        reasoning_effort: "high",
        ...sampling,
      })
      .withResponse();
    expect(fake.last.body).toEqual({
      model: "grok-4.20-0309-reasoning",
      messages: [{ role: "user", content: "hi" }],
      temperature: 0.7,
      logprobs: false,
    });
    expect(response.headers.get("grok2api-adjusted-params")).toBe(
      "reasoning_effort dropped, stop dropped, presence_penalty dropped, frequency_penalty dropped",
    );
  });

  test("an effort the model does not offer moves to the nearest one it does", async () => {
    fake.on(() => Response.json(completion({ content: "ok" })));
    await client.chat.completions.create({
      model: "gpt-4o", // → grok-4.3: none|low|medium|high
      messages: [{ role: "user", content: "hi" }],
      reasoning_effort: "minimal",
    });
    expect(fake.last.body.reasoning_effort).toBe("low");
    await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }], reasoning_effort: "medium" });
    expect(fake.last.body.reasoning_effort).toBe("medium");
  });

  test("a model that takes stop and penalties keeps them, untouched", async () => {
    fake.on(() => Response.json(completion({ content: "ok" })));
    const { response } = await client.chat.completions
      .create({ model: "llama-3.3-70b", messages: [{ role: "user", content: "hi" }], ...sampling })
      .withResponse();
    // A model the table does not know (another OpenAI-compatible upstream) gets everything.
    expect(fake.last.body).toEqual({ model: "llama-3.3-70b", messages: [{ role: "user", content: "hi" }], ...sampling });
    expect(response.headers.get("grok2api-adjusted-params")).toBeNull();
  });
});

describe("errors use the OpenAI envelope", () => {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${rig.gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-x", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  const expectEnvelope = async (res: Response, status: number, messagePart: string) => {
    expect(res.status).toBe(status);
    const body = (await res.json()) as any;
    expect(Object.keys(body)).toEqual(["error"]);
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(body.error.message).toContain(messagePart);
    return body.error;
  };

  test("the upstream's 400 keeps its message", async () => {
    fake.on(() => xaiError(400, "Invalid request content: temperature must be at most 2"));
    const err = await client.chat.completions
      .create({ model: "grok-3", messages: [{ role: "user", content: "hi" }], temperature: 5 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.status).toBe(400);
    expect(err.message).toContain("temperature must be at most 2");
    expect(err.type).toBe("invalid_request_error");
  });

  test("a model the upstream does not serve: 404 that names the mapping", async () => {
    fake.on(() => xaiError(404, "The model grok-2-latest does not exist or your team does not have access to it."));
    const err = await client.chat.completions
      .create({ model: "claude-3-opus-latest", messages: [{ role: "user", content: "hi" }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.message).toContain("does not exist");
    expect(err.message).toContain('mapped from "claude-3-opus-latest"');
    expect(err.message).toContain("model_map");
  });

  test("an upstream outage is a 5xx the SDK sees as a server error", async () => {
    fake.on(() => xaiError(503, "Service temporarily unavailable"));
    const err = await client.chat.completions.create({ model: "grok-3", messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err.message).toContain("Service temporarily unavailable");
  });

  test("a bad body is a 400 in the envelope, and nothing goes upstream", async () => {
    await expectEnvelope(await post("{not json"), 400, "not valid JSON");
    await expectEnvelope(await post({ model: "grok-3" }), 400, "messages");
    await expectEnvelope(await post({ model: "grok-3", messages: [] }), 400, "messages");
    await expectEnvelope(await post({ messages: [{ role: "user", content: "x" }] }), 400, "model");
    await expectEnvelope(await post([1, 2]), 400, "JSON object");
    expect(fake.requests.length).toBe(0);
  });

  test("an unknown method on the path answers in the envelope", async () => {
    const res = await fetch(`${rig.gw.url}/v1/chat/completions`);
    await expectEnvelope(res, 404, "no route");
  });

  test("client authentication: a wrong key is a 401 in the envelope", async () => {
    const locked = startGateway(fake.baseUrl, { clientKeys: ["gw-key-1"] });
    try {
      const bad = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: "wrong", maxRetries: 0 });
      const err = await bad.chat.completions.create({ model: "grok-3", messages: [{ role: "user", content: "hi" }] }).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(err.message).toContain("invalid API key");
      const res = await fetch(`${locked.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "grok-3", messages: [{ role: "user", content: "hi" }] }),
      });
      const e = await expectEnvelope(res, 401, "missing API key");
      expect(e.type).toBe("authentication_error");
      expect(fake.requests.length).toBe(0);

      fake.on(() => Response.json(completion({ content: "ok" })));
      const good = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: "gw-key-1", maxRetries: 0 });
      const ok = await good.chat.completions.create({ model: "grok-3", messages: [{ role: "user", content: "hi" }] });
      expect(ok.choices[0]?.message.content).toBe("ok");
      expect(fake.last.headers.get("authorization")).toBe("Bearer xai-test-upstream-key");
    } finally {
      await locked.stop();
    }
  });

  test("zero-configuration mode forwards the client's own key", async () => {
    const open = startGateway(fake.baseUrl, { upstream: { baseUrl: fake.baseUrl, keys: [] } });
    try {
      fake.on(() => Response.json(completion({ content: "ok" })));
      const own = new OpenAI({ baseURL: `${open.url}/v1`, apiKey: "xai-users-own-key", maxRetries: 0 });
      await own.chat.completions.create({ model: "grok-3", messages: [{ role: "user", content: "hi" }] });
      expect(fake.last.headers.get("authorization")).toBe("Bearer xai-users-own-key");
    } finally {
      await open.stop();
    }
  });
});

test("the access log has names and numbers, never prompt text or keys", async () => {
  fake.on((req) =>
    req.body.stream ? streamOf([...textChunks("reply words"), usageChunk()]) : Response.json(completion({ content: "reply words" })),
  );
  const secretPrompt = "my bank PIN is 99887766";
  await client.chat.completions.create({ model: "grok-3", messages: [{ role: "user", content: secretPrompt }] });
  const s = await client.chat.completions.create({ model: "grok-3", messages: [{ role: "user", content: secretPrompt }], stream: true });
  for await (const _ of s);
  const log = readFileSync(rig.gw.logFile, "utf8");
  expect(log).toContain('"path":"/v1/chat/completions"');
  expect(log).toContain('"upstream_model":"grok-3"');
  expect(log).not.toContain("99887766");
  expect(log).not.toContain("sk-client-key");
  expect(log).not.toContain("xai-test-upstream-key");
});
