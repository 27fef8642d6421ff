/**
 * The live model catalog, end to end: the real gateway against a fake xAI that serves
 * `GET /v1/language-models` in xAI's documented shape (tests/fixtures/xai-language-models.json).
 * Current models by default, the user's map first, images never dropped, unknown models
 * named usefully, costs exact, and an unreachable catalog never in the way.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GUIDE_MODEL_MAP } from "../../src/models/map";
import { DEFAULT_ROUTING } from "../../src/models/routing";
import { completion, streamOf, textChunks, usage, xaiError, type FakeUpstream, type Recorded } from "../helpers/fake-upstream";
import { answer } from "../helpers/fake-responses";
import { logText, startGateway, type Gateway } from "../helpers/gateway";
import { parsePrometheus, valueOf } from "../helpers/prometheus";
import { useFakeUpstream, useFakeUpstreams } from "../helpers/setup";

const FIXTURES = join(import.meta.dir, "..", "fixtures");
const LANGUAGE_MODELS = JSON.parse(readFileSync(join(FIXTURES, "xai-language-models.json"), "utf8"));
/** A real grok-4.3 answer with `cost_in_usd_ticks: 4121500`. */
const REAL_ANSWER = JSON.parse(readFileSync(join(FIXTURES, "xai-grok-4.3-chat-cost.json"), "utf8"));
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const hi = [{ role: "user" as const, content: "hi" }];
const withImage = [
  {
    role: "user" as const,
    content: [
      { type: "image" as const, source: { type: "base64" as const, media_type: "image/png" as const, data: PNG } },
      { type: "text" as const, text: "what is it?" },
    ],
  },
];

const fake = useFakeUpstream().on((req) => (req.path === "/v1/language-models" ? Response.json(LANGUAGE_MODELS) : chat(req)));
const more = useFakeUpstreams();
let chat: (req: Recorded) => Response;
/** The default answer: "ok", streamed or not as asked. */
const chat0 = (req: Recorded) => (req.body?.stream ? streamOf(textChunks("ok")) : Response.json(completion({ content: "ok" })));
const gateways: Gateway[] = [];

/** A gateway with background catalog reads on, once it has learned the catalog. */
async function start(overrides: Parameters<typeof startGateway>[1] = {}): Promise<Gateway> {
  const gw = startGateway(fake.baseUrl, { catalog: { refreshMs: 60_000 }, ...overrides });
  gateways.push(gw);
  // Listing models waits for the catalog read that start-up began.
  await fetch(`${gw.url}/v1/models`, { headers: { "x-api-key": "k" } });
  fake.reset();
  return gw;
}
const chatRequests = () => fake.requests.filter((r) => r.path === "/v1/chat/completions");

beforeEach(() => {
  chat = chat0;
});
afterAll(async () => {
  for (const gw of gateways) await gw.stop();
});

describe("current models by default", () => {
  let client: Anthropic;
  beforeAll(async () => {
    const gw = await start();
    client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
  });

  test.each(Object.keys(GUIDE_MODEL_MAP))("the guide's %s reaches a model the upstream serves", async (name) => {
    const msg = await client.messages.create({ model: name, max_tokens: 5, messages: hi });
    expect(msg.model).toBe(name);
    const sent = fake.last.body.model;
    expect(sent).toBe(name.includes("haiku") ? DEFAULT_ROUTING.fast : DEFAULT_ROUTING.default);
    expect(LANGUAGE_MODELS.models.map((m: { id: string }) => m.id)).toContain(sent);
  });

  test("the guide's first example (claude-3-5-sonnet-20241022 with an image) reaches a model that sees, image included", async () => {
    await client.messages.create({ model: "claude-3-5-sonnet-20241022", max_tokens: 5, messages: withImage });
    expect(fake.last.body.model).toBe("grok-4.3");
    expect(fake.last.body.messages[0].content[0]).toMatchObject({ type: "image_url" });
  });

  test("direct Grok names and the upstream's aliases pass through unchanged", async () => {
    for (const name of ["grok-4.7", "grok-4", "grok-4.20-0309-reasoning"]) {
      await client.messages.create({ model: name, max_tokens: 5, messages: hi });
      expect(fake.last.body.model).toBe(name);
    }
  });
});

describe("forwarding clients' keys (no upstream key configured)", () => {
  test("the first client's request teaches the gateway the catalog, in the background, with that client's key", async () => {
    const gw = startGateway(fake.baseUrl, { catalog: { refreshMs: 60_000 }, upstream: { baseUrl: fake.baseUrl, keys: [] } });
    gateways.push(gw);
    fake.reset();
    const client = new Anthropic({ baseURL: gw.url, apiKey: "xai-client-own-key", maxRetries: 0 });
    // Nothing known yet: the built-in table says grok-4.20-0309-non-reasoning sees images.
    await client.messages.create({ model: "grok-4.20-0309-non-reasoning", max_tokens: 5, messages: withImage });
    expect(chatRequests().at(-1)?.body.model).toBe("grok-4.20-0309-non-reasoning");
    let read: Recorded | undefined;
    for (let i = 0; i < 100 && !read; i++, await Bun.sleep(10)) read = fake.requests.find((r) => r.path === "/v1/language-models");
    expect(read?.headers.get("authorization")).toBe("Bearer xai-client-own-key");
    // Once learned, the catalog's word (text only) sends the image to [routing] vision.
    let sent: string | undefined;
    for (let i = 0; i < 100 && sent !== DEFAULT_ROUTING.vision; i++, await Bun.sleep(10)) {
      await client.messages.create({ model: "grok-4.20-0309-non-reasoning", max_tokens: 5, messages: withImage });
      sent = chatRequests().at(-1)?.body.model;
    }
    expect(sent).toBe(DEFAULT_ROUTING.vision);
  });
});

describe("the user's model_map wins", () => {
  test("a user glob beats the built-in routing for the guide's exact names", async () => {
    const gw = await start({ modelMap: { "claude-3-5-sonnet-*": "grok-4.7" } });
    const client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
    await client.messages.create({ model: "claude-3-5-sonnet-20241022", max_tokens: 5, messages: hi });
    expect(fake.last.body.model).toBe("grok-4.7");
    await client.messages.create({ model: "claude-3-5-sonnet-latest", max_tokens: 5, messages: hi });
    expect(fake.last.body.model).toBe("grok-4.7");
    // Names the glob does not match are still routed by role.
    await client.messages.create({ model: "claude-3-opus-latest", max_tokens: 5, messages: hi });
    expect(fake.last.body.model).toBe(DEFAULT_ROUTING.default);
  });
});

describe("images never vanish", () => {
  test("to a text-only model (as the catalog says): routed to [routing] vision, image intact, whatever chose the model", async () => {
    const gw = await start({ modelMap: { "claude-text": "grok-4.20-0309-non-reasoning" } });
    const client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
    // model_map, passthrough and routing by role (fast = the non-reasoning model)
    for (const model of ["claude-text", "grok-4.20-0309-non-reasoning", "claude-haiku-4-5"]) {
      await client.messages.create({ model, max_tokens: 5, messages: withImage });
      expect(fake.last.body.model).toBe(DEFAULT_ROUTING.vision);
      expect(fake.last.body.messages[0].content[0]).toMatchObject({ type: "image_url" });
    }
    // Without an image the text-only model serves.
    await client.messages.create({ model: "claude-text", max_tokens: 5, messages: hi });
    expect(fake.last.body.model).toBe("grok-4.20-0309-non-reasoning");
    const routes = (await logText(gw.logFile, (t) => (t.match(/"route":"vision"/g) ?? []).length >= 3)).match(/"route":"vision"/g);
    expect(routes).toHaveLength(3);
  });

  test("with no vision model: a 400 naming the model and the setting; nothing sent upstream", async () => {
    const gw = await start({ routing: { ...DEFAULT_ROUTING, vision: "" }, modelMap: { "claude-text": "grok-4.20-0309-non-reasoning" } });
    const client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
    const err = await client.messages.create({ model: "claude-text", max_tokens: 5, messages: withImage }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error.error.type).toBe("invalid_request_error");
    expect(err.error.error.message).toContain('"grok-4.20-0309-non-reasoning"');
    expect(err.error.error.message).toContain("[routing] vision");
    expect(chatRequests()).toHaveLength(0);

    // The OpenAI face too.
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "k", maxRetries: 0 });
    const oerr = await openai.chat.completions
      .create({
        model: "grok-4.20-0309-non-reasoning",
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }] }],
      })
      .catch((e) => e);
    expect(oerr).toBeInstanceOf(OpenAI.BadRequestError);
    expect(oerr.message).toContain("[routing] vision");
    expect(chatRequests()).toHaveLength(0);
  });
});

describe("models the upstream does not serve", () => {
  let gw: Gateway;
  let client: Anthropic;
  beforeAll(async () => {
    gw = await start({ modelMap: { "claude-old": "grok-2-latest" } });
    client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
  });

  test("a name the catalog does not list goes upstream; the upstream's 404 names the closest served models and the setting", async () => {
    chat = (req) => (req.body.model === "grok-4.4" || req.body.model === "grok-2-latest" ? xaiError(404, `The model ${req.body.model} does not exist.`) : chat0(req));
    const err = await client.messages.create({ model: "grok-4.4", max_tokens: 5, messages: hi }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.error.error.type).toBe("not_found_error");
    const message: string = err.error.error.message;
    expect(message).toContain("The model grok-4.4 does not exist.");
    expect(message).toContain('"grok-4.4"');
    expect(message).toMatch(/closest models it serves: (grok-4\.7, grok-4\.3|grok-4\.3, grok-4\.7)/);
    const mapped = await client.messages.create({ model: "claude-old", max_tokens: 5, messages: hi }).catch((e) => e);
    expect(mapped).toBeInstanceOf(Anthropic.NotFoundError);
    expect(mapped.error.error.message).toContain('"grok-2-latest" (mapped from "claude-old")');
    expect(mapped.error.error.message).toContain("[model_map]");
    expect(chatRequests().map((r) => r.body.model)).toEqual(["grok-4.4", "grok-2-latest"]);
  });

  test("the upstream's own 404 is reworded the same way", async () => {
    chat = () => xaiError(404, "The model grok-4.3 does not exist or your team does not have access to it.");
    const err = await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 5, messages: hi }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.error.error.message).toContain('"grok-4.3" (mapped from "claude-sonnet-4-6")');
    expect(err.error.error.message).toContain("[routing] default");
    expect(err.error.error.message).toContain("closest models it serves: grok-4.3");
  });

  test("GET /v1/models lists only names whose target is served, and marks aliases", async () => {
    const res = await fetch(`${gw.url}/v1/models`, { headers: { authorization: "Bearer k" } });
    const ids = ((await res.json()) as { data: Array<{ id: string; alias_of?: string }> }).data;
    const names = ids.map((m) => m.id);
    expect(names).toContain("claude-sonnet-4-6");
    expect(names).not.toContain("claude-old");
    expect(names).toEqual(expect.arrayContaining(["grok-4.3", "grok-4.7", "grok-4"]));
    expect(ids.find((m) => m.id === "grok-4")?.alias_of).toBe("grok-4.3");
    const page = await client.models.list({ limit: 100 });
    expect(page.data.find((m) => m.id === "grok-4")?.display_name).toBe("grok-4 (alias of grok-4.3)");
    const missing = await client.models.retrieve("claude-old").catch((e) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect(missing.message).toContain("closest models it serves");
  });
});

describe("the catalog advises, the upstream decides", () => {
  // xAI's catalog without grok-4 (an alias xAI answers all the same) and without the guide's grok-2 names.
  const TRIMMED = {
    models: LANGUAGE_MODELS.models.map((m: { id: string; aliases: string[] }) => (m.id === "grok-4.3" ? { ...m, aliases: ["grok-4-latest"] } : m)),
  };
  const ANSWERS = new Set(["grok-4", "grok-2-latest", "grok-vision", "grok-4.3"]);
  let up: FakeUpstream;
  let gw: Gateway;
  let client: Anthropic;
  let openai: OpenAI;
  beforeAll(async () => {
    // A Responses upstream (so all three faces reach it) that answers names its catalog does not list.
    up = more().on((req) => {
      if (req.path === "/v1/language-models") return Response.json(TRIMMED);
      if (!ANSWERS.has(req.body?.model)) return xaiError(404, `The model ${req.body?.model} does not exist or your team does not have access to it.`);
      if (req.path === "/v1/responses") return answer({ text: [`answered by ${req.body.model}`] })(req, 0);
      const text = `answered by ${req.body.model}`;
      return req.body?.stream ? streamOf(textChunks(text)) : Response.json(completion({ content: text }));
    });
    gw = startGateway(up.baseUrl, {
      catalog: { refreshMs: 60_000 },
      upstream: { baseUrl: up.baseUrl, keys: ["xai-test-upstream-key"], api: "responses" },
      modelMap: { "claude-old": "grok-2-latest" },
    });
    gateways.push(gw);
    await fetch(`${gw.url}/v1/models`, { headers: { "x-api-key": "k" } }); // waits for the catalog read
    expect(up.requests.filter((r) => r.path === "/v1/language-models")).toHaveLength(1);
    client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "k", maxRetries: 0 });
  });
  beforeEach(() => void up.requests.splice(0));

  /** The text of one answer on each face, streamed or not. */
  const faces: Array<[string, (model: string, stream: boolean) => Promise<string>]> = [
    [
      "/v1/messages",
      async (model, stream) => {
        const ask = { model, max_tokens: 5, messages: hi };
        const msg = stream ? await client.messages.stream(ask).finalMessage() : await client.messages.create(ask);
        return (msg.content[0] as Anthropic.TextBlock).text;
      },
    ],
    [
      "/v1/chat/completions",
      async (model, stream) => {
        if (!stream) return (await openai.chat.completions.create({ model, messages: hi })).choices[0]!.message.content ?? "";
        let text = "";
        for await (const c of await openai.chat.completions.create({ model, messages: hi, stream: true })) text += c.choices[0]?.delta?.content ?? "";
        return text;
      },
    ],
    [
      "/v1/responses",
      async (model, stream) => {
        if (!stream) return (await openai.responses.create({ model, input: "hi" })).output_text;
        return (await openai.responses.stream({ model, input: "hi" }).finalResponse()).output_text;
      },
    ],
  ];

  for (const [face, ask] of faces) {
    for (const stream of [false, true]) {
      test(`${face}${stream ? " streamed" : ""}: grok-4 and the guide's grok-2-latest reach the upstream unchanged and are answered`, async () => {
        for (const model of ["grok-4", "grok-2-latest", "grok-vision"]) {
          expect(await ask(model, stream)).toBe(`answered by ${model}`);
          expect(up.last.body.model).toBe(model);
        }
        // A [model_map] target the catalog does not list goes too.
        expect(await ask("claude-old", stream)).toBe("answered by grok-2-latest");
      });

      test(`${face}${stream ? " streamed" : ""}: the upstream's 404 for an unknown model is explained, naming the closest models it serves`, async () => {
        const err = await ask("grok-9", stream).catch((e) => e);
        expect(err.status).toBe(404);
        const message: string = face === "/v1/messages" ? err.error.error.message : err.error.message;
        expect(message).toContain("The model grok-9 does not exist");
        expect(message).toContain('the upstream does not serve model "grok-9"');
        expect(message).toMatch(/closest models it serves: grok-4\.\d/);
        expect(message).toContain("the model name in the request");
        expect(up.last.body.model).toBe("grok-9"); // the upstream was asked
      });
    }
  }

  test("a configured model the catalog does not list: one warning in the log, however many requests", async () => {
    for (let i = 0; i < 3; i++) await client.messages.create({ model: "claude-old", max_tokens: 5, messages: hi });
    const text = await logText(gw.logFile, (t) => t.includes('"grok-2-latest": the upstream\'s catalog does not list this model'));
    const warnings = text.split("\n").filter((l) => l.includes("catalog does not list this model"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: "warn", model: "grok-2-latest", settings: ['[model_map] "claude-old"'] });
    expect(warnings[0]).toContain("closest it lists: grok-4.");
    // The [routing] defaults are all listed: no warning about them.
    expect(text).not.toContain("[routing] default");
  });
});

describe("cost per request", () => {
  let gw: Gateway;
  let client: Anthropic;
  beforeAll(async () => {
    gw = await start();
    client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
  });
  /** The access lines so far, once the `n` of the requests just made are written too (the log is written asynchronously). */
  let written = 0;
  const accessLines = async (n: number) => {
    written += n;
    const text = await logText(gw.logFile, (t) => (t.match(/"msg":"request".*"path":"\/v1\/(messages|chat\/completions)"/g) ?? []).length >= written);
    return text
      .split("\n")
      .filter((l) => l.includes('"msg":"request"') && /"path":"\/v1\/(messages|chat\/completions)"/.test(l))
      .map((l) => JSON.parse(l));
  };

  test("the upstream's cost_in_usd_ticks (a real grok-4.3 answer): header and log, exact", async () => {
    chat = () => Response.json(REAL_ANSWER);
    const { response } = await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 5, messages: hi }).withResponse();
    expect(response.headers.get("grok2api-cost-usd")).toBe("0.00041215");
    const line = (await accessLines(1)).at(-1);
    expect(line).toMatchObject({ cost_ticks: 4121500, cost_usd: 0.00041215, cached_tokens: 192 });
  });

  test("the OpenAI face counts xAI's reasoning tokens as output, once, as /v1/messages does", async () => {
    // xAI's convention: completion_tokens leaves reasoning out (total = prompt + completion + reasoning).
    const u: Record<string, unknown> = usage(100, 10, { reasoning: 40 });
    delete u.cost_in_usd_ticks;
    chat = () => Response.json(completion({ content: "ok" }, "stop", u as ReturnType<typeof usage>));
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "k", maxRetries: 0 });
    const before = (await accessLines(0)).length; // earlier tests' lines: wait for both of this test's
    await openai.chat.completions.create({ model: "grok-4", messages: hi });
    await client.messages.create({ model: "grok-4", max_tokens: 5, messages: hi });
    const [face, messages] = (await accessLines(before + 2)).slice(-2);
    expect(face).toMatchObject({ path: "/v1/chat/completions", input_tokens: 100, output_tokens: 50 });
    expect(messages).toMatchObject({ path: "/v1/messages", input_tokens: 100, output_tokens: 50 });
    expect(face.cost_usd).toBe(messages.cost_usd);
  });

  test("without ticks: usage × the catalog's prices, cached input at the cached price", async () => {
    const u: Record<string, unknown> = usage(1000, 50, { cached: 200 });
    delete u.cost_in_usd_ticks;
    chat = () => Response.json(completion({ content: "ok" }, "stop", u as ReturnType<typeof usage>));
    // grok-4.3: 800 × 12500 + 200 × 3100 + 50 × 25000 = 11 870 000 ticks
    const { response } = await client.messages.create({ model: "claude-opus-4-8", max_tokens: 5, messages: hi }).withResponse();
    expect(response.headers.get("grok2api-cost-usd")).toBe("0.001187");
    // the OpenAI face, through an alias priced as its model
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "k", maxRetries: 0 });
    const raw = await openai.chat.completions.create({ model: "grok-4", messages: hi }).withResponse();
    expect(raw.response.headers.get("grok2api-cost-usd")).toBe("0.001187");
  });

  test("streams: cost_usd in the access log; the Prometheus counter adds every request up", async () => {
    const before = valueOf(parsePrometheus(await (await fetch(`${gw.url}/metrics`)).text()), "grok2api_cost_usd_total", { model: "grok-4.7" });
    chat = () => streamOf(textChunks("streamed", { usage: usage(30, 4) })); // cost_in_usd_ticks: 1000
    const stream = client.messages.stream({ model: "grok-4.7", max_tokens: 5, messages: hi });
    await stream.finalMessage();
    const lines = await logText(gw.logFile, (t) => /"stream":true.*"cost_usd":1e-7/.test(t) || /"cost_usd":1e-7.*"stream":true/.test(t));
    expect(lines).toContain('"cost_usd":1e-7');
    const after = valueOf(parsePrometheus(await (await fetch(`${gw.url}/metrics`)).text()), "grok2api_cost_usd_total", { model: "grok-4.7" });
    expect(after - before).toBeCloseTo(1e-7, 12);
  });
});

describe("cost of a relayed OpenAI stream", () => {
  test("the last usage chunk is read at the end: tokens and cost_usd in the access log", async () => {
    const gw = await start();
    chat = () => streamOf(textChunks("streamed", { usage: usage(30, 4, { cached: 10 }) })); // cost_in_usd_ticks: 1000
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "k", maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: "grok-4.3", messages: hi, stream: true, stream_options: { include_usage: true } });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? "";
    expect(text).toBe("streamed");
    const log = await logText(gw.logFile, (t) => t.includes('"path":"/v1/chat/completions"'));
    const line = JSON.parse(log.split("\n").find((l) => l.includes('"path":"/v1/chat/completions"'))!);
    expect(line).toMatchObject({ stream: true, input_tokens: 20, cached_tokens: 10, output_tokens: 4, cost_ticks: 1000, cost_usd: 1e-7 });
  });
});

describe("an unreachable catalog", () => {
  test("does not stop start-up or requests, and the log says so once", async () => {
    const down = more().on((req) =>
      req.path === "/v1/chat/completions" ? Response.json(completion({ content: "still here" })) : xaiError(503, "catalog down"),
    );
    const gw = startGateway(down.baseUrl, { catalog: { refreshMs: 60_000 } });
    gateways.push(gw);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    const client = new Anthropic({ baseURL: gw.url, apiKey: "k", maxRetries: 0 });
    // The built-in table decides: a Claude name reaches the default model.
    const msg = await client.messages.create({ model: "claude-3-5-sonnet-20241022", max_tokens: 5, messages: hi });
    expect(msg.content[0]).toMatchObject({ type: "text", text: "still here" });
    // (the catalog may be being re-read meanwhile: look at the chat request itself)
    expect(down.requests.find((r) => r.path === "/v1/chat/completions")?.body.model).toBe(DEFAULT_ROUTING.default);
    // A listing asks again (the read failed); no second warning.
    await fetch(`${gw.url}/v1/models`, { headers: { "x-api-key": "k" } });
    const text = await logText(gw.logFile, (t) => t.includes("using the built-in model table"));
    expect(text.match(/could not read the upstream's model catalog/g)).toHaveLength(1);
  });

  test("a closed port: the gateway starts and answers", async () => {
    const gone = more();
    const baseUrl = gone.baseUrl;
    gone.stop();
    const gw = startGateway(baseUrl, { catalog: { refreshMs: 60_000 } });
    gateways.push(gw);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    const res = await fetch(`${gw.url}/v1/models`, { headers: { "x-api-key": "k" } });
    expect(res.status).toBe(200);
  });
});
