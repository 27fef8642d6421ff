import { describe, expect, test } from "bun:test";
import { parseToolArguments } from "../../src/dialects/tool-args";

describe("parseToolArguments", () => {
  test("empty, blank or null arguments are an empty object", () => {
    for (const raw of ["", "   ", "\n", "null"]) expect(parseToolArguments(raw)).toEqual({ ok: true, input: {}, json: "{}" });
  });

  test("valid JSON objects pass unchanged, escapes and multi-byte text included", () => {
    const raw = '{"path":"C:\\\\tmp\\\\\\"q\\".txt","text":"héllo 🌍 — ✓"}';
    const r = parseToolArguments(raw);
    expect(r).toEqual({ ok: true, input: { path: 'C:\\tmp\\"q".txt', text: "héllo 🌍 — ✓" }, json: raw });
  });

  test("surrounding whitespace is trimmed from the JSON sent on", () => {
    expect(parseToolArguments('  {"a":1}\n')).toEqual({ ok: true, input: { a: 1 }, json: '{"a":1}' });
  });

  test("broken JSON is repaired into valid JSON", () => {
    const cases: Array<[string, unknown]> = [
      ['{"a": 1,', { a: 1 }],
      ['{"path": "/tmp/x', { path: "/tmp/x" }],
      ["{'a': 'b'}", { a: "b" }],
      ['{"a": 1, "b": [1, 2', { a: 1, b: [1, 2] }],
      ['{"a": true,}', { a: true }],
    ];
    for (const [raw, input] of cases) {
      const r = parseToolArguments(raw);
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.input).toEqual(input as Record<string, unknown>);
        expect(JSON.parse(r.json)).toEqual(input);
      }
    }
  });

  test("JSON that is not an object is reported, never passed on", () => {
    for (const raw of ["[1,2]", '"just a string"', "42", "true"]) {
      expect(parseToolArguments(raw)).toEqual({ ok: false, raw });
    }
  });
});
