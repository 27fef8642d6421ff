/**
 * Validation of a Messages request against the typebox schemas, with errors
 * in plain words that name the field (`messages[0].content[1].text: expected a string`).
 */
import { FormatRegistry, type TSchema } from "@sinclair/typebox";
import { TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { ValueErrorType, type ValueError } from "@sinclair/typebox/errors";
import { Hash } from "@sinclair/typebox/value";
import { KNOWN_BLOCKS, MessagesRequest } from "./schema";
import { checkerCode } from "./validate-code" with { type: "macro" };

/** Generated at build time (see validate-code.ts). */
const CODE = checkerCode();

/**
 * What TypeCompiler.Compile(schema) returns, from code generated ahead of time.
 * Code that refers to custom kinds needs Compile's own bookkeeping: compile it here.
 */
export function checkerFromCode<T extends TSchema>(schema: T, code: string): TypeCheck<T> {
  if (code.includes("kind(")) return TypeCompiler.Compile(schema);
  const format = (name: string, value: unknown) => {
    const check = FormatRegistry.Get(name);
    return check ? check(value as string) : false;
  };
  const check = new Function("kind", "format", "hash", code)(() => false, format, Hash) as (value: unknown) => boolean;
  return new TypeCheck(schema, [], check, code);
}

const checkRequest = checkerFromCode(MessagesRequest, CODE.request);
const checkBlock: Record<string, TypeCheck<TSchema>> = Object.fromEntries(
  Object.entries(KNOWN_BLOCKS).map(([type, schema]) => [type, checkerFromCode(schema as TSchema, CODE.blocks[type]!)]),
);

export type Validation<T> = { ok: true; value: T } | { ok: false; message: string };

/** `/messages/0/content/1/text` → `messages[0].content[1].text` */
export function pathToWords(path: string): string {
  let out = "";
  for (const part of path.split("/").filter(Boolean)) {
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out || "body";
}

function describeExpected(schema: TSchema): string {
  const kind = (schema as { type?: string }).type;
  const constant = (schema as { const?: unknown }).const;
  if (constant !== undefined) return `"${constant}"`;
  if (schema.anyOf) {
    const consts = (schema.anyOf as TSchema[]).map((s) => (s as { const?: unknown }).const);
    if (consts.every((c) => c !== undefined)) return `one of ${consts.map((c) => `"${c}"`).join(", ")}`;
    return (schema.anyOf as TSchema[]).map(describeExpected).join(" or ");
  }
  switch (kind) {
    case "string":
      return "a string";
    case "integer":
      return "an integer";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "array":
      return "an array";
    case "object":
      return (schema.properties as Record<string, TSchema> | undefined)?.type ? "a content block object" : "an object";
    case "null":
      return "null";
    default:
      return "a valid value";
  }
}

function describe(err: ValueError): string {
  const where = pathToWords(err.path);
  const s = err.schema as Record<string, unknown>;
  switch (err.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${where}: Field required`;
    case ValueErrorType.StringMinLength:
      return `${where}: must not be empty`;
    case ValueErrorType.ArrayMinItems:
      return `${where}: must contain at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `${where}: must be at least ${s.minimum} (got ${JSON.stringify(err.value)})`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `${where}: must be at most ${s.maximum} (got ${JSON.stringify(err.value)})`;
    default:
      return `${where}: expected ${describeExpected(err.schema)}`;
  }
}

/** The most useful first error: the deepest one, so unions name the real culprit. */
function firstError(check: TypeCheck<TSchema>, value: unknown, prefix = ""): string | undefined {
  let best: ValueError | undefined;
  for (const e of check.Errors(value)) {
    if (!best) best = e;
    else if (e.path.startsWith(best.path + "/") && best.type === ValueErrorType.Union) best = e;
    if (best && best.type !== ValueErrorType.Union) break;
  }
  if (!best) return undefined;
  return describe({ ...best, path: prefix + best.path });
}

function validateBlock(block: unknown, path: string): string | undefined {
  const type = (block as { type?: unknown }).type;
  const check = typeof type === "string" ? checkBlock[type] : undefined;
  if (!check || check.Check(block)) return undefined;
  // tool_result content items are a union of blocks: name the precise field inside.
  if (type === "tool_result") {
    const content = (block as { content?: unknown }).content;
    if (Array.isArray(content)) {
      for (let i = 0; i < content.length; i++) {
        const item = content[i] as { type?: unknown } | null;
        const itemPath = `${path}/content/${i}`;
        if (typeof item !== "object" || item === null || typeof item.type !== "string") {
          return `${pathToWords(itemPath)}: expected a content block object with a "type"`;
        }
        if (!["text", "image", "document"].includes(item.type)) {
          return `${pathToWords(itemPath)}.type: "${item.type}" is not allowed inside tool_result (expected text, image or document)`;
        }
        const inner = validateBlock(item, itemPath);
        if (inner) return inner;
      }
    }
  }
  return firstError(check, block, path);
}

export function validateMessagesRequest<T>(body: unknown): Validation<T> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, message: "request body must be a JSON object" };
  }
  if (!checkRequest.Check(body)) {
    return { ok: false, message: firstError(checkRequest, body) ?? "request body is invalid" };
  }
  const messages = (body as { messages: Array<{ content: unknown }> }).messages;
  for (let m = 0; m < messages.length; m++) {
    const content = messages[m]!.content;
    if (!Array.isArray(content)) continue;
    for (let b = 0; b < content.length; b++) {
      const problem = validateBlock(content[b], `/messages/${m}/content/${b}`);
      if (problem) return { ok: false, message: problem };
    }
  }
  return { ok: true, value: body as T };
}
