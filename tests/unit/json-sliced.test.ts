/** Large JSON read and written in slices gives exactly what JSON.parse and JSON.stringify give. */
import { describe, expect, test } from "bun:test";
import { JsonSliceError, parseJsonSliced, PIECE_BYTES, stringifySliced } from "../../src/http/json-sliced";
import { Slicer } from "../../src/http/slicer";
import { rng } from "../helpers/random";

const enc = new TextEncoder();
const dec = new TextDecoder();
const parse = (text: string | Uint8Array, depth = 256) => parseJsonSliced(typeof text === "string" ? enc.encode(text) : text, depth, new Slicer());
const stringify = async (v: unknown) => {
  const parts = await stringifySliced(v, new Slicer());
  return dec.decode(Buffer.concat(parts));
};

/** A large request-like value: many messages, one huge turn, big strings, odd keys. */
function sample(seed: number): unknown {
  const r = rng(seed);
  const str = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(r() * 0x24f))).join("");
  const messages: unknown[] = [];
  for (let i = 0; i < 3000; i++) {
    messages.push({ role: i % 2 ? "assistant" : "user", content: [{ type: "text", text: str(20) }, { type: "tool_use", id: `t${i}`, input: { a: [1, 2.5, -3e-7, null, true] } }] });
  }
  messages.push({ role: "user", content: Array.from({ length: 5000 }, (_, i) => ({ type: "tool_result", tool_use_id: `t${i}`, content: "ok\n\"quoted\"\\" })) });
  return {
    model: "grök-4 \u2028 \ud83d\ude00",
    "2": "integer-like key",
    __proto__x: 1,
    ["__proto__"]: { not: "the prototype" },
    empty: { a: [], b: {}, c: "" },
    big: "x".repeat(3 * PIECE_BYTES),
    messages,
    numbers: Array.from({ length: 20_000 }, (_, i) => (i % 7 === 0 ? i / 3 : i)),
  };
}

describe("parseJsonSliced", () => {
  test("large bodies: the same value as JSON.parse, key order and __proto__ included", async () => {
    for (const seed of [1, 2]) {
      const text = JSON.stringify(sample(seed), null, seed === 2 ? 2 : undefined);
      expect(text.length).toBeGreaterThan(4 * PIECE_BYTES);
      const got = await parse(text);
      expect(got).toEqual(JSON.parse(text));
      expect(JSON.stringify(got)).toBe(JSON.stringify(JSON.parse(text)));
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(Object.hasOwn(got as object, "__proto__")).toBe(true);
    }
  });

  test("duplicate keys: the last wins, in the place of the first, as JSON.parse does", async () => {
    const filler = JSON.stringify("y".repeat(PIECE_BYTES));
    const text = `{"a":1,"b":[${filler}],"a":2,"c":${filler},"b":3}`;
    expect(await parse(text)).toEqual(JSON.parse(text));
    expect(Object.keys((await parse(text)) as object)).toEqual(Object.keys(JSON.parse(text)));
  });

  test("a leading byte-order mark is skipped; small bodies parse too", async () => {
    expect(await parse(new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('{"a":1}')]))).toEqual({ a: 1 });
    for (const text of ["1", '"s"', "null", " [ ] ", "{}", '{"a":[1,{"b":null}]}']) expect(await parse(text)).toEqual(JSON.parse(text));
  });

  test("malformed large bodies are refused, never misread", async () => {
    const big = (inner: string) => `{"pad":${JSON.stringify("p".repeat(PIECE_BYTES))},${inner}}`;
    const bad = [
      big('"a":[1,,2]'),
      big('"a":[1,2,]'),
      big('"a" 1'),
      big('"a":1,'),
      big('"a":{"b":1}}'),
      big('"a":[1}'),
      big('"a":"unterminated'),
      `[${JSON.stringify("q".repeat(PIECE_BYTES))}] trailing`,
      `[${JSON.stringify("q".repeat(PIECE_BYTES))}`,
      big("1:2"),
      big('"a":tru'),
    ];
    for (const text of bad) {
      expect(() => JSON.parse(text)).toThrow();
      const err = (await parse(text).catch((e: unknown) => e)) as JsonSliceError;
      expect(err).toBeInstanceOf(JsonSliceError);
      expect(err.kind).toBe("syntax");
    }
  });

  test("invalid UTF-8 and nesting past the limit are told apart", async () => {
    const bytes = enc.encode(`["${"a".repeat(PIECE_BYTES)}", "xx"]`);
    bytes[bytes.length - 4] = 0xff;
    expect(((await parse(bytes).catch((e) => e)) as JsonSliceError).kind).toBe("utf8");
    expect(((await parse("[".repeat(300) + "]".repeat(300), 256).catch((e) => e)) as JsonSliceError).kind).toBe("depth");
    expect(await parse("[".repeat(256) + "]".repeat(256), 256)).toBeArray();
  });
});

describe("stringifySliced", () => {
  test("the same text as JSON.stringify", async () => {
    for (const seed of [3, 4]) {
      const v = sample(seed);
      expect(await stringify(v)).toBe(JSON.stringify(v));
    }
    const odd = {
      u: undefined,
      f: () => 1,
      list: [undefined, () => 1, Symbol("s"), NaN, Infinity, -0, new Date(0), { toJSON: () => "mine" }],
      many: Array.from({ length: 500 }, (_, i) => ({ i, u: undefined, s: "é".repeat(i % 5) })),
      "10": 1,
      "1": 2,
      z: 3,
    };
    expect(await stringify(odd)).toBe(JSON.stringify(odd));
    for (const v of [1, "s", null, [], {}, [[[]]], "x".repeat(200_000)]) expect(await stringify(v)).toBe(JSON.stringify(v));
  });
});
