/**
 * A seeded fuzz of the Responses dialect through the real server: mutated valid requests
 * (tool conversations with replayed reasoning, images, documents, structured output) never
 * get a 5xx, every error is a proper envelope, and what reaches the fake upstream never
 * carries a null field in a reasoning item.
 */
import { expect, test } from "bun:test";
import { encodeReasoningSignature } from "../../src/dialects/signature";
import { answer } from "../helpers/fake-responses";
import { rng } from "../helpers/random";
import { useResponsesGateway } from "../helpers/setup";

const h = useResponsesGateway();
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const SIG = encodeReasoningSignature({ encryptedContent: "qZohxWFd49bV9XKre+EV", id: "rs_1" });
const base = { model: "grok-4.3", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };
const SEEDS = [
  base,
  { ...base, stream: true, output_config: { format: { type: "json_schema", schema: { type: "object" } } } },
  {
    ...base,
    system: [{ type: "text", text: "Be brief." }],
    thinking: { type: "enabled", budget_tokens: 2048 },
    tools: [{ name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
    tool_choice: { type: "any", disable_parallel_tool_use: true },
    messages: [
      { role: "user", content: [{ type: "text", text: "Weather?" }, { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } }] },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "call the tool", signature: SIG },
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_call-a-0", name: "get_weather", input: { city: "Paris" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_call-a-0", content: [{ type: "text", text: "Sunny" }, { type: "image", source: { type: "url", url: "https://x/y.png" } }] },
          { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" }, title: "Notes" },
        ],
      },
    ],
  },
];
const STRINGS = ["", "x", "user", "assistant", "system", "text", "thinking", "tool_use", "tool_result", "json_schema", "auto", "tool", SIG, "grok2api.r1.", "__proto__", "🙂"];

function randomValue(r: () => number, depth = 0): unknown {
  switch (Math.floor(r() * 9)) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor(r() * 200) - 100;
    case 3:
    case 4:
      return STRINGS[Math.floor(r() * STRINGS.length)];
    case 5:
      return depth < 3 ? [randomValue(r, depth + 1)] : [];
    case 6:
      return depth < 3 ? { type: STRINGS[Math.floor(r() * STRINGS.length)], text: randomValue(r, depth + 1) } : {};
    default:
      return {};
  }
}

function sites(v: unknown, out: Array<[any, string | number]> = []): Array<[any, string | number]> {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), sites(x, out)));
  else if (v && typeof v === "object") for (const k of Object.keys(v)) out.push([v, k]), sites((v as any)[k], out);
  return out;
}

function mutate(seed: unknown, r: () => number): string {
  const obj = structuredClone(seed) as Record<string, unknown>;
  for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) {
    const all = sites(obj);
    const [container, key] = all[Math.floor(r() * all.length)]!;
    const op = r();
    if (op < 0.3) {
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key];
    } else if (op < 0.8) Object.defineProperty(container, key, { value: randomValue(r), enumerable: true, writable: true, configurable: true });
    else if (Array.isArray(container)) container.push(structuredClone(container[key as number]));
  }
  return JSON.stringify(obj);
}

const hasNull = (v: unknown): boolean =>
  v === null || (Array.isArray(v) ? v.some(hasNull) : typeof v === "object" && v !== null ? Object.values(v).some(hasNull) : false);

test("1000 mutated Responses-bound requests: no 5xx, proper envelopes, no null in replayed reasoning", async () => {
  h.fake.on((req, n) => answer({ text: ["fuzzed"] })(req, n));
  const r = rng(0xf00d);
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  for (let start = 0; start < 1000; start += 25) {
    await Promise.all(
      Array.from({ length: 25 }, async () => {
        const body = mutate(SEEDS[Math.floor(r() * SEEDS.length)], r);
        const res = await fetch(`${h.gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": "k" }, body });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) failures.push(`${res.status} ${text.slice(0, 300)} ← ${body.slice(0, 300)}`);
        else if (res.status >= 400) {
          const json = JSON.parse(text);
          if (json.type !== "error" || typeof json.error?.message !== "string") failures.push(`bad envelope: ${text.slice(0, 200)}`);
        }
      }),
    );
  }
  expect(failures).toEqual([]);
  expect(statuses.get(200) ?? 0).toBeGreaterThan(100);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(50);
  const reasoning = h.fake.requests.flatMap((q) => (q.body.input as Array<{ type?: string }>).filter((i) => i.type === "reasoning"));
  expect(reasoning.length).toBeGreaterThan(10);
  expect(reasoning.filter(hasNull)).toEqual([]);
}, 60_000);
