/**
 * Hostile input: every malformed body is a 400 with a clear message (never a 500,
 * never a crash, never a call upstream); bodies over the limit are a 413 without
 * being read whole; and a seeded fuzz run of mutated valid requests finds no 5xx.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import { completion, streamOf, textChunks } from "../helpers/fake-upstream";
import { resilience } from "../helpers/gateway";
import { rng } from "../helpers/random";
import { useFakeUpstream, useGateway } from "../helpers/setup";

const valid = { model: "grok-4", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const nested = (depth: number, leaf = "1") => '{"a":'.repeat(depth) + leaf + "}".repeat(depth);
const withContent = (content: unknown) => ({ ...valid, messages: [{ role: "user", content }] });

const fake = useFakeUpstream().on((req) =>
  req.body?.stream ? streamOf(textChunks("fuzzed answer")) : Response.json(completion({ content: "fuzzed answer" })),
);
const rig = useGateway({ maxBodyBytes: 256 * 1024, resilience: resilience({ maxRetries: 0 }) }, fake);

const send = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
  fetch(`${rig.gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

/** [name, raw body] — each must be a 400 invalid_request_error. */
const MALFORMED: Array<[string, string | Uint8Array]> = [
  ["empty body", ""],
  ["not JSON", "{model: grok}"],
  ["truncated JSON", JSON.stringify(valid).slice(0, 30)],
  ["JSON array", "[]"],
  ["JSON string", '"hello"'],
  ["JSON number", "42"],
  ["JSON null", "null"],
  ["JSON true", "true"],
  ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0x6d, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ["lone surrogate half in UTF-8", new Uint8Array([...new TextEncoder().encode('{"model":"'), 0xed, 0xa0, 0x80, 0x22, 0x7d])],
  ["deeply nested arrays", "[".repeat(100_000) + "]".repeat(100_000)],
  ["deeply nested metadata", `{"model":"grok-4","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"metadata":${nested(5000)}}`],
  [
    "deeply nested tool_use.input",
    JSON.stringify({
      ...valid,
      messages: [
        { role: "user", content: "run it" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "t", input: {} }] },
      ],
    }).replace('"input":{}', `"input":${"[".repeat(100_000)}${"]".repeat(100_000)}`),
  ],
  ["empty object", "{}"],
  ["missing model", JSON.stringify({ max_tokens: 5, messages: valid.messages })],
  ["missing messages", JSON.stringify({ model: "grok-4", max_tokens: 5 })],
  ["missing max_tokens", JSON.stringify({ model: "grok-4", messages: valid.messages })],
  ["model is a number", JSON.stringify({ ...valid, model: 5 })],
  ["model is empty", JSON.stringify({ ...valid, model: "" })],
  ["messages is a string", JSON.stringify({ ...valid, messages: "hi" })],
  ["messages is empty", JSON.stringify({ ...valid, messages: [] })],
  ["message is null", JSON.stringify({ ...valid, messages: [null] })],
  ["max_tokens is a string", JSON.stringify({ ...valid, max_tokens: "10" })],
  ["negative max_tokens", JSON.stringify({ ...valid, max_tokens: -1 })],
  ["zero max_tokens", JSON.stringify({ ...valid, max_tokens: 0 })],
  ["fractional max_tokens", JSON.stringify({ ...valid, max_tokens: 1.5 })],
  ["overflowing max_tokens", JSON.stringify(valid).replace('"max_tokens":16', '"max_tokens":1e999')],
  ["stream is a string", JSON.stringify({ ...valid, stream: "yes" })],
  ["temperature out of range", JSON.stringify({ ...valid, temperature: 7 })],
  ["temperature is a string", JSON.stringify({ ...valid, temperature: "hot" })],
  ["top_p out of range", JSON.stringify({ ...valid, top_p: -0.5 })],
  ["system is a number", JSON.stringify({ ...valid, system: 5 })],
  ["system block without text", JSON.stringify({ ...valid, system: [{ type: "text" }] })],
  ["stop_sequences is a string", JSON.stringify({ ...valid, stop_sequences: "STOP" })],
  ["tools is an object", JSON.stringify({ ...valid, tools: { name: "x" } })],
  ["tool without a name", JSON.stringify({ ...valid, tools: [{ input_schema: {} }] })],
  ["tool_choice is a string", JSON.stringify({ ...valid, tool_choice: "auto" })],
  ["tool_choice of unknown type", JSON.stringify({ ...valid, tool_choice: { type: "sometimes" } })],
  ["thinking of unknown type", JSON.stringify({ ...valid, thinking: { type: "deep" } })],
  ["negative thinking budget", JSON.stringify({ ...valid, thinking: { type: "enabled", budget_tokens: -5 } })],
  ["metadata is a string", JSON.stringify({ ...valid, metadata: "me" })],
  ["unknown role", JSON.stringify({ ...valid, messages: [{ role: "robot", content: "beep" }] })],
  ["missing role", JSON.stringify({ ...valid, messages: [{ content: "hi" }] })],
  ["missing content", JSON.stringify({ ...valid, messages: [{ role: "user" }] })],
  ["content is a number", JSON.stringify(withContent(5))],
  ["content block is a number", JSON.stringify(withContent([5]))],
  ["content block without type", JSON.stringify(withContent([{ text: "hi" }]))],
  ["content block type is a number", JSON.stringify(withContent([{ type: 5 }]))],
  ["text block without text", JSON.stringify(withContent([{ type: "text" }]))],
  ["text block with a number", JSON.stringify(withContent([{ type: "text", text: 42 }]))],
  ["image without source", JSON.stringify(withContent([{ type: "image" }]))],
  ["image source is a string", JSON.stringify(withContent([{ type: "image", source: "http://x/y.png" }]))],
  ["image base64 without data", JSON.stringify(withContent([{ type: "image", source: { type: "base64", media_type: "image/png" } }]))],
  ["image base64 with empty data", JSON.stringify(withContent([{ type: "image", source: { type: "base64", media_type: "image/png", data: "" } }]))],
  ["image base64 without media type", JSON.stringify(withContent([{ type: "image", source: { type: "base64", data: PNG } }]))],
  ["image url without url", JSON.stringify(withContent([{ type: "image", source: { type: "url" } }]))],
  ["image source of unknown type", JSON.stringify(withContent([{ type: "image", source: { type: "telepathy", data: PNG } }]))],
  ["tool_use without id", JSON.stringify({ ...valid, messages: [{ role: "assistant", content: [{ type: "tool_use", name: "t", input: {} }] }] })],
  ["tool_result without tool_use_id", JSON.stringify(withContent([{ type: "tool_result", content: "ok" }]))],
  ["tool_result content is a number", JSON.stringify(withContent([{ type: "tool_result", tool_use_id: "toolu_1", content: 7 }]))],
  ["tool_result with a tool_use inside", JSON.stringify(withContent([{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "tool_use" }] }]))],
  ["document without source", JSON.stringify(withContent([{ type: "document" }]))],
];

describe("malformed bodies → 400", () => {
  beforeEach(() => fake.reset());

  for (const [name, body] of MALFORMED) {
    test(name, async () => {
      const res = await send(body);
      const text = await res.text();
      expect(res.status, `${name}: ${text}`).toBe(400);
      const json = JSON.parse(text);
      expect(json.type).toBe("error");
      expect(json.error.type).toBe("invalid_request_error");
      expect(typeof json.error.message).toBe("string");
      expect(json.error.message.length).toBeGreaterThan(5);
      expect(res.headers.get("x-should-retry")).toBe("false");
      expect(fake.requests).toHaveLength(0);
    });
  }

  test("messages name the culprit", async () => {
    const cases: Array<[unknown, string]> = [
      [{ ...valid, max_tokens: -1 }, "max_tokens"],
      [{ ...valid, messages: [{ role: "robot", content: "x" }] }, "messages[0].role"],
      [withContent([{ type: "image", source: { type: "base64", media_type: "image/png" } }]), "messages[0].content[0].source"],
    ];
    for (const [body, culprit] of cases) {
      const res = await send(JSON.stringify(body));
      expect(((await res.json()) as any).error.message).toContain(culprit);
    }
    const deep = await send(`{"model":"grok-4","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"metadata":${nested(5000)}}`);
    expect(((await deep.json()) as any).error.message).toContain("nested too deeply");
    const utf8 = await send(new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(((await utf8.json()) as any).error.message).toContain("UTF-8");
  });

  test("block types named after Object.prototype members are just unknown types (a 400 naming them), not a crash", async () => {
    for (const type of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      const body = `{"model":"grok-4","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"${type}","text":1}]}]}`;
      const res = await send(body);
      expect(res.status, `${type}: ${await res.clone().text()}`).toBe(400);
      expect(((await res.json()) as any).error.message).toStartWith(`messages[0].content[1]: block type "${type}" is not supported`);
    }
  });

  test("nesting within the limit is fine (a real tool input can be deep)", async () => {
    fake.reset();
    const body = JSON.stringify({
      ...valid,
      messages: [
        { role: "user", content: "run it" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "t", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "ok" }] },
      ],
    }).replace('"input":{}', `"input":${nested(100)}`);
    const res = await send(body);
    expect(res.status).toBe(200);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("bodies over the limit → 413", () => {
  test("declared by content-length: refused before reading", async () => {
    const res = await send("x".repeat(300 * 1024));
    expect(res.status).toBe(413);
    const json = (await res.json()) as any;
    expect(json.error.type).toBe("request_too_large");
    expect(json.error.message).toContain("256 KB");
  });

  test("chunked, without content-length: reading stops at the limit", async () => {
    const total = 64 * 1024 * 1024; // far more than the gateway should ever take in
    const piece = new Uint8Array(16 * 1024).fill(0x20);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled >= total) return c.close();
        pulled += piece.byteLength;
        c.enqueue(piece);
      },
    });
    const res = await fetch(`${rig.gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.type).toBe("request_too_large");
    expect(pulled).toBeLessThan(total); // the answer came long before the body could have been read whole
    expect((await fetch(`${rig.gw.url}/health`)).status).toBe(200);
  });
});

// ---- Seeded fuzzing ----


const SEEDS = [
  valid,
  { ...valid, stream: true },
  { ...valid, system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }], temperature: 0.5, top_p: 0.9 },
  { ...valid, stop_sequences: ["END"], metadata: { user_id: "user_1" } },
  {
    ...valid,
    stream: true,
    thinking: { type: "enabled", budget_tokens: 2048 },
    tools: [{ name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
    tool_choice: { type: "auto" },
    messages: [
      { role: "user", content: [{ type: "text", text: "Weather?" }, { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } }] },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "call the tool", signature: "sig" },
          { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_01", content: [{ type: "text", text: "Sunny" }] },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" }, title: "Notes" },
        ],
      },
    ],
  },
];

const STRINGS = ["", "x", "user", "assistant", "system", "text", "image", "tool_use", "tool_result", "base64", "url", "auto", "any", "tool", "none", "enabled", "🙂", "\u0000", "a".repeat(5000), "null", "{}", "[DONE]", "__proto__", "constructor"];

function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 14);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor(r() * 200) - 100;
    case 3:
      return [0, -1, 1.5, 1e308, -1e308, 2 ** 53, Number.MAX_SAFE_INTEGER + 2][Math.floor(r() * 7)];
    case 4:
    case 5:
      return STRINGS[Math.floor(r() * STRINGS.length)];
    case 6:
      return depth < 3 ? [randomValue(r, depth + 1)] : [];
    case 7:
      return depth < 3 ? { type: STRINGS[Math.floor(r() * STRINGS.length)], text: randomValue(r, depth + 1) } : {};
    case 8:
      return {};
    case 9:
      return [];
    case 10:
      return JSON.parse(nested(Math.floor(r() * 400)));
    default:
      return STRINGS[Math.floor(r() * 10)];
  }
}

/** Every [container, key] pair in the tree, to pick a mutation site from. */
function sites(v: unknown, out: Array<[any, string | number]> = []): Array<[any, string | number]> {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), sites(x, out)));
  else if (v && typeof v === "object") for (const k of Object.keys(v)) out.push([v, k]), sites((v as any)[k], out);
  return out;
}

function mutate(seed: unknown, r: () => number): string | Uint8Array {
  const obj = structuredClone(seed) as Record<string, unknown>;
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const all = sites(obj);
    const [container, key] = all[Math.floor(r() * all.length)]!;
    const op = r();
    if (op < 0.3) {
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key];
    } else if (op < 0.8) Object.defineProperty(container, key, { value: randomValue(r), enumerable: true, writable: true, configurable: true });
    else if (Array.isArray(container)) container.push(structuredClone(container[key as number]));
    // An own property even for "__proto__", as JSON.parse on the server would make it.
    else Object.defineProperty(container, STRINGS[Math.floor(r() * STRINGS.length)]!, { value: randomValue(r), enumerable: true, writable: true, configurable: true });
  }
  const text = JSON.stringify(obj);
  const raw = r();
  if (raw < 0.05) return text.slice(0, Math.floor(r() * text.length)); // truncated
  if (raw < 0.1) {
    const bytes = new TextEncoder().encode(text);
    bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 256); // one random byte
    return bytes;
  }
  return text;
}

describe("fuzz", () => {
  test("2000 mutated valid requests: no 5xx, every error a proper envelope, the server alive after", async () => {
    const r = rng(0x5eed);
    const N = 2000;
    const BATCH = 25;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (let start = 0; start < N; start += BATCH) {
      await Promise.all(
        Array.from({ length: Math.min(BATCH, N - start) }, async () => {
          const body = mutate(SEEDS[Math.floor(r() * SEEDS.length)], r);
          const res = await send(body);
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) failures.push(`${res.status} ${text.slice(0, 300)} ← ${String(typeof body === "string" ? body : "(bytes)").slice(0, 300)}`);
          else if (res.status >= 400) {
            const json = JSON.parse(text);
            if (json.type !== "error" || typeof json.error?.message !== "string") failures.push(`bad envelope: ${text.slice(0, 200)}`);
          }
        }),
      );
    }
    expect(failures).toEqual([]);
    // Both outcomes were exercised: the fuzzer is not only producing garbage.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    expect((await fetch(`${rig.gw.url}/health`)).status).toBe(200);
    const ok = await send(JSON.stringify(valid));
    expect(ok.status).toBe(200);
  }, 60_000);
});
