/** Validators built from build-time code behave as typebox's own compiled ones. */
import { expect, test } from "bun:test";
import { FormatRegistry, Type, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { KNOWN_BLOCKS, MessagesRequest } from "../../src/anthropic/schema";
import { checkerFromCode } from "../../src/anthropic/validate";
import { checkerCode } from "../../src/anthropic/validate-code";

test("the generated code is typebox's code for the same schemas", () => {
  const code = checkerCode();
  expect(code.request).toBe(TypeCompiler.Code(MessagesRequest));
  expect(Object.keys(code.blocks).sort()).toEqual(Object.keys(KNOWN_BLOCKS).sort());
  for (const [type, schema] of Object.entries(KNOWN_BLOCKS)) expect(code.blocks[type]).toBe(TypeCompiler.Code(schema as TSchema));
});

test("a checker from code accepts and rejects what the compiled one does", () => {
  const fromCode = checkerFromCode(MessagesRequest, checkerCode().request);
  const compiled = TypeCompiler.Compile(MessagesRequest);
  const bodies: unknown[] = [
    { model: "grok-4", max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
    { model: "grok-4", max_tokens: 16, messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }], stream: true },
    { model: "grok-4", max_tokens: "16", messages: [] },
    { model: "", max_tokens: 16, messages: [{ role: "robot", content: "hi" }] },
    { max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
    null,
    [],
  ];
  for (const b of bodies) {
    expect(fromCode.Check(b)).toBe(compiled.Check(b));
    expect([...fromCode.Errors(b)].map((e) => e.path)).toEqual([...compiled.Errors(b)].map((e) => e.path));
  }
});

test("formats are checked through typebox's registry", () => {
  const Uri = Type.String({ format: "bench-uri" });
  FormatRegistry.Set("bench-uri", (v: string) => v.startsWith("https://"));
  const check = checkerFromCode(Uri, TypeCompiler.Code(Uri));
  expect(check.Check("https://x.ai")).toBe(true);
  expect(check.Check("ftp://x.ai")).toBe(false);
  FormatRegistry.Delete("bench-uri");
});
