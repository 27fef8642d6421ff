/** One describer words every schema error: a config file's (tables, bounds) and a request's (objects, arrays). */
import { describe, expect, test } from "bun:test";
import { Type } from "@sinclair/typebox";
import { describeExpected } from "../../src/schema-words";
import { describeExpected as configWords } from "../../src/config";

describe("describeExpected", () => {
  const port = Type.Integer({ minimum: 0, maximum: 65535 });
  const level = Type.Union([Type.Literal("debug"), Type.Literal("info")]);
  const blocks = Type.Union([Type.Object({ type: Type.Literal("text") }), Type.Object({ type: Type.Literal("image") })]);

  test("config wording: bounds, tables and lists", () => {
    expect(describeExpected(port, "config")).toBe("an integer from 0 to 65535");
    expect(describeExpected(Type.Array(Type.String({ minLength: 1 })), "config")).toBe("a list whose every item is a non-empty string");
    expect(describeExpected(Type.Record(Type.String(), Type.Boolean()), "config")).toBe("a table whose every value is true or false");
    expect(configWords(port)).toBe("an integer from 0 to 65535");
  });

  test("request wording: the Anthropic API's plain types", () => {
    expect(describeExpected(port, "request")).toBe("an integer");
    expect(describeExpected(Type.Array(Type.String()), "request")).toBe("an array");
    expect(describeExpected(Type.Object({ type: Type.Literal("text") }), "request")).toBe('an object with "type": "text"');
    expect(describeExpected(Type.Null(), "request")).toBe("null");
  });

  test("the same words for unions either way", () => {
    for (const wording of ["config", "request"] as const) {
      expect(describeExpected(level, wording)).toBe('one of "debug", "info"');
      expect(describeExpected(blocks, wording)).toBe('an object whose "type" is one of "text", "image"');
      expect(describeExpected(Type.Union([Type.String(), Type.Boolean()]), wording)).toBe("a string or true or false");
    }
  });
});
