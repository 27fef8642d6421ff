/**
 * Validation of a Messages request against the typebox schemas, with errors
 * in plain words that name the field (`messages[0].content[1].text: expected a string`).
 */
import { FormatRegistry, KindGuard, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { ValueErrorType, type ValueError } from "@sinclair/typebox/errors";
import { Hash, Value } from "@sinclair/typebox/value";
import { mcpProblem } from "./mcp";
import { CountTokensRequest, KNOWN_BLOCKS, Message, MessagesRequest, OtherBlock } from "./schema";
import type { CountTokensRequest as CountTokensValue, MessagesRequest as MessagesValue } from "./schema";
import { codeExecutionProblem, NON_PYTHON_SUB_TOOLS, PYTHON_ONLY } from "./server-tools";
import { toolsProblem } from "./tools";
import type { Slicer } from "../http/slicer";
import { checkerCode } from "./validate-code" with { type: "macro" };
import { describeExpected as describeWords, literalType } from "../schema-words";
import { isRecord } from "../is-record";

/** Generated at build time (see validate-code.ts). */
const CODE = checkerCode();

/**
 * What TypeCompiler.Compile(schema) returns, from code generated ahead of time.
 * Code that refers to custom kinds needs Compile's own bookkeeping: compile it here.
 */
export function checkerFromCode<T extends TSchema>(schema: T, code: string): TypeCheck<T> {
  if (code.includes("kind(")) return TypeCompiler.Compile(schema);
  // The generated code calls format() on strings only (it checks the type first).
  const format = (name: string, value: string) => {
    const check = FormatRegistry.Get(name);
    return check ? check(value) : false;
  };
  // Sound: `code` is TypeCompiler.Code(schema), generated from this very schema (validate-code.ts): a (value) => boolean.
  const check = new Function("kind", "format", "hash", code)(() => false, format, Hash) as (value: unknown) => boolean;
  return new TypeCheck(schema, [], check, code);
}

const checkRequest = checkerFromCode(MessagesRequest, CODE.request);
const checkCountTokens = checkerFromCode(CountTokensRequest, CODE.countTokens);
const checkMessage = checkerFromCode(Message, CODE.message);
const checkAnyBlock = checkerFromCode(OtherBlock, CODE.block);
const checkBlock: Record<string, TypeCheck<TSchema>> = Object.fromEntries(
  Object.entries(KNOWN_BLOCKS).map(([type, schema]) => [type, checkerFromCode(schema, CODE.blocks[type]!)]),
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

const describeExpected = (schema: TSchema) => describeWords(schema, "request");

function describe(err: ValueError): string {
  const where = pathToWords(err.path);
  const s = err.schema;
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

/** For a value that failed a union, the variant it was evidently meant to be (by JS kind, then by `type`). */
function intendedVariant(union: TSchema, value: unknown): TSchema | undefined {
  if (!KindGuard.IsUnion(union)) return undefined;
  const variants = union.anyOf;
  const kind = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  const sameKind = variants.filter((v) => {
    const t = v.type;
    return t === kind || (kind === "number" && t === "integer");
  });
  if (sameKind.length === 1) return sameKind[0];
  if (isRecord(value)) {
    const type = value.type;
    return sameKind.find((v) => literalType(v) === type);
  }
  return undefined;
}

/** A plain-words description of the first problem, descending into unions to the real culprit. */
function firstProblem(schema: TSchema, value: unknown, prefix: string, check?: TypeCheck<TSchema>): string | undefined {
  const first = (check ? check.Errors(value) : Value.Errors(schema, value)).First();
  if (!first) return undefined;
  if (first.type === ValueErrorType.Union) {
    const variant = intendedVariant(first.schema, first.value);
    if (variant) {
      const inner = firstProblem(variant, first.value, prefix + first.path);
      if (inner) return inner;
    }
  }
  return describe({ ...first, path: prefix + first.path });
}

/** The block types, for the 400 that refuses any other. */
const SUPPORTED_BLOCKS = Object.keys(KNOWN_BLOCKS).join(", ");

/** Where a tool_result's content may hold each block type. */
const TOOL_RESULT_CONTENT = ["text", "image", "document", "search_result"];

/** Blocks that only an answer holds: the client sends them back in an assistant turn, never elsewhere. */
const ASSISTANT_ONLY = ["server_tool_use", "web_search_tool_result", "mcp_tool_use", "mcp_tool_result", "code_execution_tool_result"];

/** Blocks of code execution's Bash and text-editor sub-tools (real Anthropic's, 20250825+): xAI cannot take them back. */
const NON_PYTHON_RESULTS = ["bash_code_execution_tool_result", "text_editor_code_execution_tool_result"];

function validateBlock(block: unknown, path: string, role?: string): string | undefined {
  const fields = isRecord(block) ? block : undefined;
  const type = fields?.type;
  if (typeof type === "string" && NON_PYTHON_RESULTS.includes(type)) {
    return `${pathToWords(path)}: block type "${type}" cannot be sent to Grok: ${PYTHON_ONLY}`;
  }
  if (typeof type === "string" && role !== undefined && role !== "assistant" && ASSISTANT_ONLY.includes(type)) {
    return `${pathToWords(path)}: block type "${type}" belongs in an assistant turn (it is part of an answer), not a ${role} turn`;
  }
  if (type === "server_tool_use") {
    const name = fields?.name;
    if (typeof name === "string" && NON_PYTHON_SUB_TOOLS.includes(name)) {
      return `${pathToWords(path)}.name: a "${name}" call cannot be sent to Grok: ${PYTHON_ONLY}`;
    }
  }
  // Own keys only: a block of type "constructor" or "__proto__" must not find Object's.
  const check = typeof type === "string" && Object.hasOwn(checkBlock, type) ? checkBlock[type] : undefined;
  // Never dropped: a block the gateway cannot translate is refused, by name and place.
  if (!check) return `${pathToWords(path)}: block type ${JSON.stringify(type)} is not supported; supported block types: ${SUPPORTED_BLOCKS}`;
  if (check.Check(block)) return undefined;
  // tool_result content items are a union of blocks: name the precise field inside.
  if (type === "tool_result") {
    const content = fields?.content;
    if (Array.isArray(content)) {
      for (let i = 0; i < content.length; i++) {
        const item: unknown = content[i];
        const itemPath = `${path}/content/${i}`;
        if (!isRecord(item) || typeof item.type !== "string") {
          return `${pathToWords(itemPath)}: expected a content block object with a "type"`;
        }
        if (!TOOL_RESULT_CONTENT.includes(item.type)) {
          return `${pathToWords(itemPath)}.type: "${item.type}" is not allowed inside tool_result (expected text, image, document or search_result)`;
        }
        const inner = validateBlock(item, itemPath);
        if (inner) return inner;
      }
    }
  }
  return firstProblem(check.Schema(), block, path, check);
}

export function validateMessagesRequest(body: unknown): Validation<MessagesValue> {
  return validateWith(checkRequest, body);
}

/** A count_tokens body: the Messages rules, with no `max_tokens` needed. */
export function validateCountTokensRequest(body: unknown): Validation<CountTokensValue> {
  return validateWith(checkCountTokens, body);
}

/** A JSON object body checked against a compiled schema; the first error in plain words. */
export function validateObject<S extends TSchema>(check: TypeCheck<S>, body: unknown): Validation<Static<S> & Record<string, unknown>> {
  if (!isRecord(body)) {
    return { ok: false, message: "request body must be a JSON object" };
  }
  if (!check.Check(body)) {
    return { ok: false, message: firstProblem(check.Schema(), body, "", check) ?? "request body is invalid" };
  }
  return { ok: true, value: body };
}

/** The schema of a whole request: a Messages request, or a count_tokens one. */
type RequestSchema = typeof MessagesRequest | typeof CountTokensRequest;

function validateWith<S extends RequestSchema>(check: TypeCheck<S>, body: unknown): Validation<Static<S> & Record<string, unknown>> {
  const v = validateObject(check, body);
  if (!v.ok) return v;
  const messages = v.value.messages;
  for (let m = 0; m < messages.length; m++) {
    const content = messages[m]!.content;
    if (!Array.isArray(content)) continue;
    for (let b = 0; b < content.length; b++) {
      const problem = validateBlock(content[b], `/messages/${m}/content/${b}`, messages[m]!.role);
      if (problem) return { ok: false, message: problem };
    }
  }
  return requestProblems(v.value) ?? v;
}

/** Every tool is served or refused here, before any routing or counting (after the blocks are checked). */
function requestProblems(req: CountTokensValue): { ok: false; message: string } | undefined {
  const problem = toolsProblem(req.tools) ?? mcpProblem(req) ?? codeExecutionProblem(req);
  return problem ? { ok: false, message: problem } : undefined;
}

/** validateMessagesRequest for a large body: the same checks, message by message and block by block, in slices. */
export function validateMessagesRequestSliced(body: unknown, slicer: Slicer): Promise<Validation<MessagesValue>> {
  return validateSliced(checkRequest, body, slicer);
}

/** validateCountTokensRequest for a large body, in slices. */
export function validateCountTokensRequestSliced(body: unknown, slicer: Slicer): Promise<Validation<CountTokensValue>> {
  return validateSliced(checkCountTokens, body, slicer);
}

/**
 * The request's own fields with its first message, then each further message (a large one
 * without its blocks), then each block. When a body has several problems, the one named may
 * be another than the whole-body check names.
 */
async function validateSliced<S extends RequestSchema>(check: TypeCheck<S>, body: unknown, slicer: Slicer): Promise<Validation<Static<S> & Record<string, unknown>>> {
  const messages = isRecord(body) ? body.messages : undefined;
  if (!isRecord(body) || !Array.isArray(messages) || messages.length === 0) return validateWith(check, body);
  const list: unknown[] = messages;
  const shell = (m: unknown): unknown => {
    if (!isRecord(m)) return m;
    return Array.isArray(m.content) && m.content.length > LARGE_MESSAGE_BLOCKS ? { ...m, content: [] } : m;
  };
  const head = validateObject(check, { ...body, messages: [shell(list[0])] });
  if (!head.ok) return head;
  for (let m = 1; m < list.length; m++) {
    const msg = shell(list[m]);
    if (!checkMessage.Check(msg)) return { ok: false, message: firstProblem(Message, msg, `/messages/${m}`, checkMessage) ?? "request body is invalid" };
    if ((m & 127) === 0) await slicer.pause();
  }
  let n = 0;
  for (let m = 0; m < list.length; m++) {
    const msg = list[m];
    // Each message passed its check above: an object with a role (its blocks are checked here).
    if (!isRecord(msg) || !Array.isArray(msg.content)) continue;
    const content = msg.content;
    const role = typeof msg.role === "string" ? msg.role : undefined;
    const large = content.length > LARGE_MESSAGE_BLOCKS;
    for (let b = 0; b < content.length; b++) {
      const at = `/messages/${m}/content/${b}`;
      if (large && !checkAnyBlock.Check(content[b])) return { ok: false, message: firstProblem(OtherBlock, content[b], at, checkAnyBlock) ?? "request body is invalid" };
      const problem = validateBlock(content[b], at, role);
      if (problem) return { ok: false, message: problem };
      if ((++n & 127) === 0) await slicer.pause();
    }
  }
  // Sound: the body passed, in pieces, every check validateWith makes at once (its fields with the first message, each message, each block).
  const whole = body as Static<S> & Record<string, unknown>;
  return requestProblems(whole) ?? { ok: true, value: whole };
}

/** A message with more blocks than this has them checked one by one, in slices. */
const LARGE_MESSAGE_BLOCKS = 256;
