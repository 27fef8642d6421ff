/**
 * Anthropic-defined client tools (bash, text editor, memory, computer): a request declares one
 * by a dated `type` and a fixed `name` only, because Claude has its schema built in. Grok has
 * not, so each goes upstream as an ordinary function tool under its Anthropic name, with the
 * schema and description Claude uses (client-tool-defs.ts); the model's calls come back as
 * `tool_use` blocks of that name, their input normalised to what the client's version reads.
 * Pure.
 */
import {
  BASH_DESCRIPTION,
  BASH_SCHEMA,
  COMPUTER_20241022_SCHEMA,
  COMPUTER_20250124_SCHEMA,
  COMPUTER_USE_PROMPT,
  COMPUTER_ZOOM_SCHEMA,
  computerDescription,
  MEMORY_DESCRIPTION,
  MEMORY_INSTRUCTION,
  MEMORY_SCHEMA,
  TEXT_EDITOR_A_DESCRIPTION,
  TEXT_EDITOR_A_SCHEMA,
  TEXT_EDITOR_B_DESCRIPTION,
  TEXT_EDITOR_B_SCHEMA,
} from "./client-tool-defs";
import type { Tool } from "./schema";
import { assertNever } from "../assert-never";

/** What the answer's translation needs to know of a tool: how to normalise its calls. */
export type ClientToolKind = "bash" | "text_editor_a" | "text_editor_b" | "memory" | "computer";

/** A function tool as both upstream dialects take it (each wraps it in its own shape). */
export interface FunctionDef {
  name: string;
  description?: string;
  parameters: unknown;
}

/** Every version the gateway knows: its fixed name and its kind. */
export const CLIENT_TOOLS: Readonly<Record<string, { name: string; kind: ClientToolKind }>> = Object.freeze({
  bash_20241022: { name: "bash", kind: "bash" },
  bash_20250124: { name: "bash", kind: "bash" },
  text_editor_20241022: { name: "str_replace_editor", kind: "text_editor_a" },
  text_editor_20250124: { name: "str_replace_editor", kind: "text_editor_a" },
  text_editor_20250429: { name: "str_replace_based_edit_tool", kind: "text_editor_b" },
  text_editor_20250728: { name: "str_replace_based_edit_tool", kind: "text_editor_b" },
  memory_20250818: { name: "memory", kind: "memory" },
  computer_20241022: { name: "computer", kind: "computer" },
  computer_20250124: { name: "computer", kind: "computer" },
  computer_20251124: { name: "computer", kind: "computer" },
});

/** A dated type of one of these families (`computer_toolset_…` is not one: no date right after the family). */
const FAMILY = /^(bash|text_editor|memory|computer)_\d{8}$/;

/** The family of an Anthropic-defined client tool type (known version or not), else undefined. */
export function clientToolFamily(type: unknown): string | undefined {
  return typeof type === "string" ? FAMILY.exec(type)?.[1] : undefined;
}

const versionsOf = (family: string) => Object.keys(CLIENT_TOOLS).filter((t) => t.startsWith(`${family}_`));

const positiveInteger = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;

type ToolFields = Tool & Record<string, unknown>;

/** A display dimension in pixels, or a 400's message. */
function displaySize(t: ToolFields, k: "display_width_px" | "display_height_px", where: string): number | string {
  const v = t[k];
  if (v === undefined) return `${where}.${k}: Field required`;
  if (!positiveInteger(v)) return `${where}.${k}: expected a positive integer`;
  return v;
}

function computerDef(t: ToolFields, where: string): FunctionDef | string {
  const width = displaySize(t, "display_width_px", where);
  if (typeof width === "string") return width;
  const height = displaySize(t, "display_height_px", where);
  if (typeof height === "string") return height;
  const n = t.display_number;
  if (n !== undefined && n !== null && !(typeof n === "number" && Number.isInteger(n) && n >= 0)) return `${where}.display_number: expected an integer or null`;
  if (t.enable_zoom !== undefined && t.enable_zoom !== null && typeof t.enable_zoom !== "boolean") return `${where}.enable_zoom: expected a boolean`;
  const schema =
    t.type === "computer_20241022" ? COMPUTER_20241022_SCHEMA : t.type === "computer_20251124" && t.enable_zoom === true ? COMPUTER_ZOOM_SCHEMA : COMPUTER_20250124_SCHEMA;
  const description = computerDescription(width, height, typeof n === "number" ? n : undefined);
  return { name: "computer", description, parameters: schema };
}

/**
 * The function an Anthropic-defined client tool becomes, or a 400's message: a name that is not
 * the type's fixed one, a version of the family the gateway does not know, a computer tool
 * without its display size. `where` is `tools[i]`.
 */
export function clientToolDef(t: Tool, where: string): { def: FunctionDef; kind: ClientToolKind } | { problem: string } {
  const type = String(t.type);
  const known = Object.hasOwn(CLIENT_TOOLS, type) ? CLIENT_TOOLS[type] : undefined;
  if (!known) {
    const family = clientToolFamily(type) ?? type;
    return { problem: `${where}.type: "${type}" is not a version of the ${family} tool this gateway knows; supported: ${versionsOf(family).join(", ")}` };
  }
  if (t.name !== known.name) return { problem: `${where}.name: a ${type} tool must be named "${known.name}" (got ${JSON.stringify(t.name)})` };
  switch (known.kind) {
    case "bash":
      return { kind: known.kind, def: { name: known.name, description: BASH_DESCRIPTION, parameters: BASH_SCHEMA } };
    case "text_editor_a":
      return { kind: known.kind, def: { name: known.name, description: TEXT_EDITOR_A_DESCRIPTION, parameters: TEXT_EDITOR_A_SCHEMA } };
    case "text_editor_b":
      return { kind: known.kind, def: { name: known.name, description: TEXT_EDITOR_B_DESCRIPTION, parameters: TEXT_EDITOR_B_SCHEMA } };
    case "memory":
      return { kind: known.kind, def: { name: known.name, description: MEMORY_DESCRIPTION, parameters: MEMORY_SCHEMA } };
    case "computer": {
      const def = computerDef(t, where);
      return typeof def === "string" ? { problem: def } : { kind: known.kind, def };
    }
    default:
      return assertNever(known.kind, "client tool kind");
  }
}

/** The request's Anthropic-defined client tools, name → kind (for the answer's translation); undefined when none. */
export function clientToolKinds(tools: readonly Tool[] | undefined): ReadonlyMap<string, ClientToolKind> | undefined {
  let kinds: Map<string, ClientToolKind> | undefined;
  for (const t of tools ?? []) {
    const known = typeof t.type === "string" && Object.hasOwn(CLIENT_TOOLS, t.type) ? CLIENT_TOOLS[t.type] : undefined;
    if (known && t.name === known.name) (kinds ??= new Map()).set(known.name, known.kind);
  }
  return kinds;
}

/** The request has a computer tool: it needs a model that sees screenshots. */
export const hasComputerTool = (tools: readonly Tool[] | undefined) => (tools ?? []).some((t) => clientToolFamily(t.type) === "computer");

/**
 * What Anthropic adds to the system prompt for these tools, before the caller's own: the opening
 * of its computer-use prompt (bash, text editor, computer) and the memory protocol (memory).
 */
export function toolInstructions(tools: readonly Tool[] | undefined): string[] {
  const families = new Set((tools ?? []).map((t) => clientToolFamily(t.type)));
  const out: string[] = [];
  if (families.has("bash") || families.has("text_editor") || families.has("computer")) out.push(COMPUTER_USE_PROMPT);
  if (families.has("memory")) out.push(MEMORY_INSTRUCTION);
  return out;
}

/** The upstream's system text: Anthropic's additions for the request's tools, then the caller's system. */
export function withToolInstructions(system: string, tools: readonly Tool[] | undefined): string {
  const added = toolInstructions(tools);
  return added.length ? [...added, system].filter((s) => s.length > 0).join("\n\n") : system;
}

// ---- the model's calls ----

/** `input` with key `from` renamed to `to`, in place in the key order. */
function renamed(input: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[k === from ? to : k] = v;
  return out;
}

/** The text of `insert` in the field the client's version reads (`new_str` for schema A, `insert_text` otherwise). */
function insertField(input: Record<string, unknown>, field: "new_str" | "insert_text"): Record<string, unknown> {
  const other = field === "new_str" ? "insert_text" : "new_str";
  if (input.command !== "insert" || input[field] !== undefined || input[other] === undefined) return input;
  return renamed(input, other, field);
}

const NUMBER = /^\s*-?\d+(\.\d+)?\s*$/;

/** A coordinate list as integers: numbers rounded, numeric strings read, `"[x, y]"` / `"(x, y)"` parsed; else as it was. */
function integers(v: unknown, length: number): unknown {
  let list = v;
  if (typeof v === "string") {
    const inner = v.trim().replace(/^[[(]|[\])]$/g, "");
    list = inner.split(",");
  }
  if (!Array.isArray(list) || list.length !== length) return v;
  if (list === v && list.every(Number.isInteger)) return v; // already right
  const out: number[] = [];
  for (const x of list) {
    if (typeof x === "number" && Number.isFinite(x)) out.push(Math.round(x));
    else if (typeof x === "string" && NUMBER.test(x)) out.push(Math.round(Number(x)));
    else return v;
  }
  return out;
}

function computerInput(input: Record<string, unknown>): Record<string, unknown> {
  let out = input;
  for (const [key, length] of [["coordinate", 2], ["start_coordinate", 2], ["region", 4]] as const) {
    if (input[key] === undefined) continue;
    const fixed = integers(input[key], length);
    if (fixed !== input[key]) {
      if (out === input) out = { ...input };
      out[key] = fixed;
    }
  }
  return out;
}

/** A call's input as the client's tool version defines it; the same object when nothing needed changing. */
export function normaliseToolInput(kind: ClientToolKind, input: Record<string, unknown>): Record<string, unknown> {
  switch (kind) {
    case "text_editor_a":
      return insertField(input, "new_str");
    case "text_editor_b":
    case "memory":
      return insertField(input, "insert_text");
    case "computer":
      return computerInput(input);
    case "bash":
      return input;
    default:
      return assertNever(kind, "client tool kind");
  }
}

/** For the translators: a call of tool `name`, its input normalised when it is one of the request's client tools. */
export function normaliseCall(kinds: ReadonlyMap<string, ClientToolKind> | undefined, name: string, input: Record<string, unknown>): Record<string, unknown> {
  const kind = kinds?.get(name);
  return kind ? normaliseToolInput(kind, input) : input;
}
