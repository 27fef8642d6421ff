/**
 * The Responses face (`POST /v1/responses`): the `openai` SDK's `responses.*`
 * against the real gateway and a fake xAI that replays recorded Responses traffic.
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { controlledStream, hang, sseResponse } from "../helpers/fake-upstream";
import {
  BAD_KEY,
  GENERATE_TEXT,
  PARALLEL_CALLS,
  RECORDED_CALL_ID,
  STREAM_TEXT,
  STREAM_TOOL_CALL,
  events,
  fixture,
  fixtureJson,
  frames,
  replay,
  xaiResponsesError,
} from "../helpers/fake-responses-replay";
import type { Config } from "../../src/config";
import { DEFAULT_ROUTING } from "../../src/models/routing";
import { logText, resilience, startGateway, type Gateway } from "../helpers/gateway";
import { useFakeUpstream, useFakeUpstreams, useGateways } from "../helpers/setup";

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

const fake = useFakeUpstream();
let gw: Gateway;
let client: OpenAI;
/** The fake listens on 127.0.0.1, not an xAI host: say that it speaks the Responses API. */
const responsesGateway = (overrides: Partial<Config> = {}, api: "responses" | "chat" = "responses"): Gateway =>
  startGateway(fake.baseUrl, { upstream: { baseUrl: fake.baseUrl, keys: ["xai-test-upstream-key"], api }, ...overrides });

beforeAll(() => {
  gw = responsesGateway({ modelMap: { "gpt-5": "grok-4.3" } });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "sk-client-key", maxRetries: 0 });
});
afterAll(() => gw.stop());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-client-key", ...headers },
    body: JSON.stringify(body),
  });

describe("responses.create, non-streaming", () => {
  test("goes to the upstream's /responses with the mapped model and the upstream key; comes back as sent", async () => {
    const recorded = fixtureJson(GENERATE_TEXT);
    fake.on(() => Response.json(recorded));
    const params = {
      input: "Reply with exactly: hello",
      instructions: "Be brief.",
      max_output_tokens: 16,
      temperature: 0.2,
      store: false,
      include: ["reasoning.encrypted_content" as const],
      reasoning: { effort: "low" as const, summary: "detailed" as const },
    };
    const { data: res, response } = await client.responses.create({ model: "gpt-5", ...params }).withResponse();
    const { output_text, ...rest } = res; // output_text: the SDK's own convenience field
    expect(output_text).toBe("hello");
    expect(rest as unknown).toEqual(recorded);
    expect(response.headers.get("grok2api-adjusted-params")).toBeNull();
    expect(fake.last.path).toBe("/v1/responses");
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-test-upstream-key");
    expect(fake.last.body).toEqual({ model: "grok-4.3", ...params });
  });

  test("function calls come back for the client to run (recorded parallel calls)", async () => {
    fake.on(() => Response.json(fixtureJson(PARALLEL_CALLS)));
    const res = await client.responses.create({
      model: "grok-4.3",
      input: "What's the weather in Berlin, and the time?",
      tools: [{ type: "function", name: "weather", parameters: { type: "object", properties: {} }, strict: false }],
    });
    const calls = res.output.filter((o) => o.type === "function_call");
    expect(calls.length).toBe(2);
    expect(calls.every((c) => c.type === "function_call" && /^call-/.test(c.call_id))).toBe(true);
  });

  test("/v1/v1/responses works too, and the conversation header goes along", async () => {
    fake.on(() => Response.json(fixtureJson(GENERATE_TEXT)));
    const res = await post("/v1/v1/responses", { model: "grok-4.3", input: "hi" }, { "x-grok-conv-id": "conv-7" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { output_text?: string; output: unknown[] }).output.length).toBe(2);
    expect(fake.last.path).toBe("/v1/responses");
    expect(fake.last.headers.get("x-grok-conv-id")).toBe("conv-7");
  });
});

describe("responses.create, streaming", () => {
  test("the SDK reads every recorded event, in order, and the text", async () => {
    fake.on(() => replay(STREAM_TEXT, { delayMs: 1 }));
    const stream = await client.responses.create({
      model: "gpt-5",
      input: [{ role: "user", content: "Count from 1 to 3" }],
      stream: true,
      store: false,
      include: ["reasoning.encrypted_content"],
    });
    const types: string[] = [];
    let text = "";
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === "response.output_text.delta") text += e.delta;
    }
    expect(types).toEqual(events(fixture(STREAM_TEXT)).map((e) => e.data.type));
    expect(text).toBe("1, 2, 3.");
    // Exactly the request real xAI answered with this recording (store:false + include kept, as Codex sends them).
    expect(fake.last.body).toEqual(fixtureJson("rubyllm-grok-4.3-stream-text.request.json"));
  });

  test("responses.stream(): finalResponse() has the text and the reasoning item with its encrypted content", async () => {
    fake.on(() => replay(STREAM_TEXT, { delayMs: 1 }));
    const deltas: string[] = [];
    const runner = client.responses.stream({ model: "gpt-5", input: "Count from 1 to 3" });
    runner.on("response.output_text.delta", (e) => deltas.push(e.delta));
    const final = await runner.finalResponse();
    expect(final.output_text).toBe("1, 2, 3.");
    expect(deltas.join("")).toBe("1, 2, 3.");
    const reasoning = final.output.find((o) => o.type === "reasoning");
    expect(reasoning?.type === "reasoning" && reasoning.encrypted_content?.length).toBeGreaterThan(100);
    expect(final.status).toBe("completed");
  });

  test("responses.stream(): a streamed function call (recorded) arrives whole in finalResponse()", async () => {
    fake.on(() => replay(STREAM_TOOL_CALL, { delayMs: 1 }));
    const final = await client.responses
      .stream({
        model: "grok-4.3",
        input: "What's the weather in Berlin? (52.5200, 13.4050)",
        tools: [{ type: "function", name: "weather", parameters: { type: "object", properties: {} }, strict: false }],
      })
      .finalResponse();
    const call = final.output.find((o) => o.type === "function_call");
    expect(call).toMatchObject({
      type: "function_call",
      name: "weather",
      call_id: RECORDED_CALL_ID,
      arguments: JSON.stringify({ latitude: "52.5200", longitude: "13.4050" }),
    });
  });

  test("the raw stream is the upstream's, byte for byte: event lines, no [DONE] added, no error appended", async () => {
    fake.on(() => replay(STREAM_TEXT, { delayMs: 1 }));
    const res = await post("/v1/responses", { model: "grok-4.3", input: "Count from 1 to 3", stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const text = await res.text();
    expect(text).toBe(fixture(STREAM_TEXT));
    for (const e of events(text)) expect(e.event).toBe(e.data.type);
    // Logged as a clean stream.
    const log = await logText(gw.logFile, (t) => t.includes('"path":"/v1/responses"') && t.includes('"stream":true'));
    const line = log.split("\n").filter((l) => l.includes('"path":"/v1/responses"') && l.includes('"stream":true')).at(-1)!;
    expect(JSON.parse(line)).toMatchObject({ status: 200, model: "grok-4.3" });
    expect(JSON.parse(line).error).toBeUndefined();
  });

  test("a silent upstream: keep-alive comments between events; the SDK reads through them", async () => {
    const pinging = responsesGateway({ resilience: resilience({ pingIntervalMs: 20 }) });
    try {
      const sse = fixture(STREAM_TEXT);
      const parts = frames(sse);
      // Held after the first event until a ping has gone out: no timing in the assertion.
      const held = controlledStream();
      held.push(parts[0]!); // the gateway waits for the upstream's first byte before it answers
      fake.on(() => held.response);
      const res = await fetch(`${pinging.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer k" },
        body: JSON.stringify({ model: "grok-4.3", input: "Count from 1 to 3", stream: true }),
      });
      const reader = res.body!.getReader();
      let text = "";
      for (let i = 0; i < 200 && !text.includes(": ping\n\n"); i++) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text).toContain(": ping\n\n");
      for (const p of parts.slice(1)) held.push(p);
      held.end({ done: false });
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      expect(text.replaceAll(": ping\n\n", "")).toBe(sse);
      // The SDK skips the comments.
      fake.on(() => replay(STREAM_TEXT, { delayMs: 30 }));
      const sdk = new OpenAI({ baseURL: `${pinging.url}/v1`, apiKey: "k", maxRetries: 0 });
      const final = await sdk.responses.stream({ model: "grok-4.3", input: "Count from 1 to 3" }).finalResponse();
      expect(final.output_text).toBe("1, 2, 3.");
    } finally {
      await pinging.stop();
    }
  });

  test("an upstream that stops before response.completed: the stream ends with an error event, the SDK throws", async () => {
    const sse = fixture(STREAM_TEXT);
    const cut = sse.slice(0, sse.indexOf("event: response.completed"));
    fake.on(() => sseResponse(cut));
    const res = await post("/v1/responses", { model: "grok-4.3", input: "hi", stream: true });
    const text = await res.text();
    expect(text.startsWith(cut)).toBe(true);
    const last = events(text).at(-1)!;
    expect(last.event).toBe("error");
    expect(last.data).toMatchObject({ type: "error", code: "upstream_error", error: { type: "server_error" } });
    expect(last.data.message).toMatch(/closed the stream before it was complete/);

    fake.on(() => sseResponse(cut));
    const err = await client.responses
      .stream({ model: "grok-4.3", input: "hi" })
      .finalResponse()
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String(err.message)).toMatch(/closed the stream before it was complete/);
  });

  test("an upstream silent past the idle timeout: the stream ends with an error event, the upstream is stopped", async () => {
    const strict = responsesGateway({ resilience: resilience({ idleTimeoutMs: 100, pingIntervalMs: 0 }) });
    try {
      const first = frames(fixture(STREAM_TEXT))[0]!;
      fake.on(() => sseResponse(first, { hang: true }));
      const sdk = new OpenAI({ baseURL: `${strict.url}/v1`, apiKey: "k", maxRetries: 0 });
      const got: string[] = [];
      const err = await (async () => {
        for await (const e of await sdk.responses.create({ model: "grok-4.3", input: "hi", stream: true })) got.push(e.type);
      })().catch((e) => e);
      expect(got).toEqual(["response.created"]);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(String(err.message)).toMatch(/idle|timed out|silent/i);
      await fake.last.closed;
      expect(fake.last.aborted()).toBe(true);
    } finally {
      await strict.stop();
    }
  });

  test("a client that gives up before the answer (non-streaming) stops the upstream request", async () => {
    fake.on(hang);
    const ctl = new AbortController();
    const pending = client.responses.create({ model: "grok-4.3", input: "hi" }, { signal: ctl.signal }).catch((e) => e);
    for (let i = 0; i < 500 && fake.requests.length === 0; i++) await Bun.sleep(5);
    expect(fake.requests.length).toBe(1);
    ctl.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await fake.last.closed;
    expect(fake.last.aborted()).toBe(true);
  });

  test("a client that goes away stops the upstream request", async () => {
    const held = controlledStream();
    held.push(frames(fixture(STREAM_TEXT))[0]!); // the gateway waits for the upstream's first byte
    fake.on(() => held.response);
    const stream = await client.responses.create({ model: "grok-4.3", input: "tell me a long story", stream: true });
    for await (const e of stream) {
      expect(e.type).toBe("response.created");
      break; // leaving the loop aborts the SDK's request
    }
    await fake.last.closed;
    expect(fake.last.aborted()).toBe(true);
    await held.cancelled;
  });
});

describe("adjusted parameters", () => {
  test("what xAI rejects is changed and named in grok2api-adjusted-params", async () => {
    fake.on(() => Response.json(fixtureJson(GENERATE_TEXT)));
    const { response } = await client.responses
      .create({
        model: "gpt-5",
        input: "hi",
        tools: [
          { type: "web_search_preview", search_context_size: "low" },
          { type: "computer_use_preview", display_width: 1024, display_height: 768, environment: "linux" },
          { type: "function", name: "f", parameters: { type: "object", properties: {} }, strict: true },
        ],
        metadata: { team: "a" },
        service_tier: "flex",
        reasoning: { effort: "minimal" },
        store: false,
      })
      .withResponse();
    expect(response.headers.get("grok2api-adjusted-params")).toBe(
      "metadata dropped, service_tier flex dropped, tools.web_search_preview -> web_search, " +
        "tools.web_search.search_context_size dropped, tools.computer_use_preview dropped, reasoning.effort minimal -> low",
    );
    expect(fake.last.body).toEqual({
      model: "grok-4.3",
      input: "hi",
      tools: [{ type: "web_search" }, { type: "function", name: "f", parameters: { type: "object", properties: {} }, strict: true }],
      reasoning: { effort: "low" },
      store: false,
    });
  });

  test("a malformed tool beside a forced function goes upstream for xAI to judge: never a 500", async () => {
    fake.on(() => xaiResponsesError(400, "tools[0]: expected an object"));
    const fn = { type: "function", name: "f", parameters: { type: "object", properties: {} } };
    const res = await post("/v1/responses", { model: "grok-4.3", input: "hi", tools: [null, fn], tool_choice: { type: "function", name: "f" } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("tools[0]: expected an object");
    expect(fake.last.body).toEqual({ model: "grok-4.3", input: "hi", tools: [null, fn], tool_choice: { type: "function", name: "f" } });
  });

  test("a reasoning model without an effort dial gets no reasoning, stop or penalties", async () => {
    fake.on(() => replay(STREAM_TEXT));
    const res = await post("/v1/responses", {
      model: "grok-4.20-0309-reasoning",
      input: "hi",
      stream: true,
      reasoning: { effort: "high" },
      presence_penalty: 0.5,
      stop: ["END"],
    });
    await res.text();
    expect(res.headers.get("grok2api-adjusted-params")).toBe("reasoning dropped, stop dropped, presence_penalty dropped");
    expect(fake.last.body).toEqual({ model: "grok-4.20-0309-reasoning", input: "hi", stream: true });
  });
});

describe("errors, in OpenAI's envelope", () => {
  test("the upstream's 400 (xAI's flat {code, error}) reaches the SDK as an APIError with xAI's message", async () => {
    fake.on(() => xaiResponsesError(400, "Could not decrypt the provided encrypted_content. Ensure the value is unmodified."));
    const err = await client.responses.create({ model: "grok-4.3", input: "hi" }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toEqual({
      message: "Could not decrypt the provided encrypted_content. Ensure the value is unmodified.",
      type: "invalid_request_error",
      param: null,
      code: "invalid_request_error",
    });
    expect(fake.requests.length).toBe(1); // not retried
  });

  test("the recorded bad-key answer: the key leaves the pool and the client is told to check the configured key", async () => {
    const bad = fixture(BAD_KEY);
    fake.on(() => new Response(bad, { status: 400, headers: { "content-type": "application/json" } }));
    const own = responsesGateway();
    try {
      const res = await fetch(`${own.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer k" },
        body: JSON.stringify({ model: "grok-4.3", input: "hi" }),
      });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { message: string; type: string } };
      expect(body.error.type).toBe("server_error");
      expect(body.error.message).toContain("Incorrect API key provided");
      expect(body.error.message).toContain("check XAI_API_KEY");
      expect(body.error.message).not.toContain("xai-test-upstream-key");
    } finally {
      await own.stop();
    }
  });

  test("a request the gateway cannot route: 400, in OpenAI's envelope", async () => {
    for (const body of [{ input: "no model" }, { model: "grok-4.3", input: 42 }, { model: "grok-4.3", input: "hi", background: true }]) {
      const res = await post("/v1/responses", body);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: { message: string; type: string } };
      expect(json.error.type).toBe("invalid_request_error");
      expect(json.error.message.length).toBeGreaterThan(5);
    }
    for (const raw of ["{not json", "[]", "null", '"text"', "[".repeat(5000)]) {
      const res = await fetch(`${gw.url}/v1/responses`, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    }
    expect(fake.requests.length).toBe(0);
  });

  test("an upstream that speaks only Chat Completions: a clear error that says what to change", async () => {
    const chatOnly = responsesGateway({}, "chat");
    try {
      const chatClient = new OpenAI({ baseURL: `${chatOnly.url}/v1`, apiKey: "sk-client-key", maxRetries: 0 });
      const err = await chatClient.responses.create({ model: "grok-4.3", input: "hi" }).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect(err.error.message).toContain("speaks only Chat Completions");
      expect(err.error.message).toContain('api = "responses"');
      expect(err.error.message).toContain("GROK2API_UPSTREAM_API=responses");
      expect(err.error.message).toContain("/v1/chat/completions");
      expect(err.error.message).toContain("127.0.0.1");
      expect(fake.requests.length).toBe(0);
    } finally {
      await chatOnly.stop();
    }
  });

  test("the upstream's 404 names both causes: an unknown model, or no Responses API", async () => {
    fake.on(() => xaiResponsesError(404, "The model grok-9 does not exist or your team does not have access to it.", "not-found"));
    const err = await client.responses.create({ model: "grok-9", input: "hi" }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.error.message).toContain("The model grok-9 does not exist");
    expect(err.error.message).toContain('does not serve model "grok-9"');
    expect(err.error.message).toContain("GROK2API_UPSTREAM_API=chat");
  });

  test("client keys apply here too", async () => {
    const locked = responsesGateway({ clientKeys: ["sk-allowed"] });
    try {
      const denied = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: "sk-wrong", maxRetries: 0 });
      const err = await denied.responses.create({ model: "grok-4.3", input: "hi" }).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(err.error.type).toBe("authentication_error");
      fake.on(() => Response.json(fixtureJson(GENERATE_TEXT)));
      const allowed = new OpenAI({ baseURL: `${locked.url}/v1`, apiKey: "sk-allowed", maxRetries: 0 });
      expect((await allowed.responses.create({ model: "grok-4.3", input: "hi" })).output_text).toBe("hello");
      expect(fake.requests.length).toBe(1);
    } finally {
      await locked.stop();
    }
  });

  test("a 429 from the upstream is retried with the next attempt, then answered", async () => {
    let n = 0;
    fake.on(() => (++n === 1 ? xaiResponsesError(429, "rate limited", "resource-exhausted") : Response.json(fixtureJson(GENERATE_TEXT))));
    const res = await client.responses.create({ model: "grok-4.3", input: "hi" });
    expect(res.output_text).toBe("hello");
    expect(fake.requests.length).toBe(2);
  });
});

describe("routing, as on the other faces", () => {
  const routing = { ...DEFAULT_ROUTING, default: "grok-plain", reasoning: "grok-think", fast: "grok-fast", vision: "grok-eyes" };
  const blind: Partial<Config> = { capabilities: [["grok-blind*", { vision: false }]], modelMap: { "gpt-5": "grok-4.3", "gpt-blind": "grok-blind-1" } };
  const start = useGateways(fake);
  const routed = (overrides: Partial<Config> = {}) =>
    new OpenAI({
      baseURL: `${start({ upstream: { baseUrl: fake.baseUrl, keys: ["xai-test-upstream-key"], api: "responses" }, routing, ...blind, ...overrides }).url}/v1`,
      apiKey: "sk-client-key",
      maxRetries: 0,
    });
  const withImage = [
    {
      role: "user" as const,
      content: [
        { type: "input_text" as const, text: "what is it?" },
        { type: "input_image" as const, image_url: `data:image/png;base64,${PNG}`, detail: "auto" as const },
      ],
    },
  ];

  test("the model map, then Claude-style names by role: default, reasoning when asked, fast for haiku", async () => {
    fake.on(() => Response.json(fixtureJson(GENERATE_TEXT)));
    const c = routed();
    const sent = async (params: Omit<OpenAI.Responses.ResponseCreateParamsNonStreaming, "input">) => {
      await c.responses.create({ input: "hi", ...params });
      return fake.last.body.model;
    };
    expect(await sent({ model: "gpt-5" })).toBe("grok-4.3");
    expect(await sent({ model: "claude-sonnet-4-6" })).toBe("grok-plain");
    expect(await sent({ model: "claude-sonnet-4-6", reasoning: { effort: "high" } })).toBe("grok-think");
    expect(await sent({ model: "claude-sonnet-4-6", reasoning: { effort: "none" } })).toBe("grok-plain");
    expect(await sent({ model: "claude-haiku-4-5" })).toBe("grok-fast");
    expect(await sent({ model: "grok-4.7" })).toBe("grok-4.7");
  });

  test("images in the input go to [routing] vision, image intact; without a vision model, a 400 naming the setting", async () => {
    fake.on(() => Response.json(fixtureJson(GENERATE_TEXT)));
    const c = routed();
    await c.responses.create({ model: "gpt-blind", input: withImage });
    expect(fake.last.body.model).toBe("grok-eyes");
    expect(fake.last.body.input[0].content[1]).toMatchObject({ type: "input_image", image_url: `data:image/png;base64,${PNG}` });
    await c.responses.create({ model: "gpt-blind", input: "no image" });
    expect(fake.last.body.model).toBe("grok-blind-1");

    fake.reset();
    const refusing = routed({ routing: { ...routing, vision: "" } });
    const err = await refusing.responses.create({ model: "gpt-blind", input: withImage }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error.type).toBe("invalid_request_error");
    expect(err.error.message).toContain('"grok-blind-1"');
    expect(err.error.message).toContain("[routing] vision");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("targets that speak only chat completions never get POST /responses", () => {
  const more = useFakeUpstreams();
  const start = useGateways(fake);

  test("a chat-only fallback is skipped: the client sees the primary's failure", async () => {
    const chatOnly = more();
    fake.on(() => xaiResponsesError(503, "primary is down", "unavailable"));
    const c = new OpenAI({
      baseURL: `${start({ upstream: { baseUrl: fake.baseUrl, keys: ["k1"], api: "responses" }, resilience: resilience({ maxRetries: 0, fallbacks: [{ baseUrl: chatOnly.baseUrl, api: "chat" }] }) }).url}/v1`,
      apiKey: "sk-client-key",
      maxRetries: 0,
    });
    for (const stream of [false, true]) {
      fake.reset();
      const err = await (stream ? c.responses.stream({ model: "grok-4.3", input: "hi" }).finalResponse() : c.responses.create({ model: "grok-4.3", input: "hi" })).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect(err.error.message).toContain("primary is down");
      expect(fake.requests).toHaveLength(1);
      expect(chatOnly.requests).toHaveLength(0);
    }
  });

  test("a chat-only primary with a Responses fallback: the fallback serves, the primary is never sent /responses", async () => {
    const responsesFallback = more().on(() => Response.json(fixtureJson(GENERATE_TEXT)));
    const c = new OpenAI({
      baseURL: `${start({ upstream: { baseUrl: fake.baseUrl, keys: ["k1"], api: "chat" }, resilience: resilience({ fallbacks: [{ baseUrl: responsesFallback.baseUrl, api: "responses", model: "grok-4.20-0309-reasoning" }] }) }).url}/v1`,
      apiKey: "sk-client-key",
      maxRetries: 0,
    });
    const res = await c.responses.create({ model: "grok-4.3", input: "hi", reasoning: { effort: "high" } });
    expect(res.output_text).toBe("hello");
    expect(fake.requests).toHaveLength(0);
    expect(responsesFallback.last.path).toBe("/v1/responses");
    // The fallback's own model, fitted for it (grok-4.20 takes no reasoning effort).
    expect(responsesFallback.last.body.model).toBe("grok-4.20-0309-reasoning");
    expect(responsesFallback.last.body.reasoning).toBeUndefined();
  });
});
