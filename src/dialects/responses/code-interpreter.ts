/**
 * xAI's code interpreter → Anthropic's code execution blocks, and back on the next turn. Pure.
 *
 * xAI runs Python only and reports each run as a `code_interpreter_call` item, in one of two
 * shapes: the one recorded (grok-4-fast-reasoning, 2025-10-29: `{arguments: "{\"code\":…}",
 * call_id: "", name: "code_execution", type, id, status}`, with no output at all) or its spec's
 * `CodeInterpreterCall` (`{id, code, outputs: [{type:"logs", logs} | {type:"image", url}], status}`).
 *
 * Every code_execution_* version is answered the way Anthropic's 20250522 tool answers (the
 * SDKs accept these blocks whichever version the request declared; the Bash and text-editor
 * sub-tools of 20250825+ have nothing to run on at xAI):
 * - `server_tool_use{id, name: "code_execution", input: {code}}`;
 * - `code_execution_tool_result{tool_use_id, content: {type: "code_execution_result", stdout,
 *   stderr: "", return_code: 0, content: []}}`. `stdout` is what xAI gives: its logs, joined, and
 *   each image output as a line `[image: <url>]`; "" when it gives nothing (the recorded shape
 *   never does). `stderr` is always "" and `return_code` always 0: xAI reports neither. `content`
 *   is [] (no files come back). A call xAI marks `failed` is
 *   `code_execution_tool_result_error{error_code: "unavailable"}` instead.
 *
 * The block id carries xAI's item for the next turn: `srvtoolu_xcf_<item id>` for the recorded
 * shape, `srvtoolu_xci_<item id>` for the spec's, so xAI gets its item back in the shape it sent
 * it (its spec lists output items among the input items; no recording shows one sent back).
 */
import type { CodeExecutionResultContent, CodeExecutionToolResultBlock, ResponseBlock, ServerToolUseBlock } from "../../anthropic/schema";
import { isRecord } from "../malformed";
import { parseToolArguments } from "../tool-args";
import type { CodeInterpreterCallItem } from "./wire";

const ARGUMENTS_SHAPE = "srvtoolu_xcf_";
const CODE_SHAPE = "srvtoolu_xci_";
const ITEM_ID = /^[A-Za-z0-9_-]+$/;

type Block = ResponseBlock;

/** The code of a call, from either shape ("" when it has none). */
export function callCode(item: Record<string, unknown>): string {
  if (typeof item.code === "string") return item.code;
  const raw = typeof item.arguments === "string" ? item.arguments : "";
  const args = parseToolArguments(raw);
  if (args.ok) return typeof args.input.code === "string" ? args.input.code : "";
  return raw; // not JSON even repaired: the text is still the code the model wrote
}

/** What the call printed: its logs in order, an image as a line with its URL. */
function callStdout(item: Record<string, unknown>): string {
  if (!Array.isArray(item.outputs)) return "";
  let out = "";
  for (const o of item.outputs) {
    if (!isRecord(o)) continue;
    const piece = o.type === "logs" && typeof o.logs === "string" ? o.logs : o.type === "image" && typeof o.url === "string" ? `[image: ${o.url}]\n` : "";
    if (!piece) continue;
    if (out && !out.endsWith("\n")) out += "\n";
    out += piece;
  }
  return out;
}

/** A finished `code_interpreter_call` as its two blocks; `n` names a call that has no id. */
export function codeExecutionBlocks(item: Record<string, unknown>, n: number): [Block, Block] {
  const codeShape = typeof item.code === "string" || Array.isArray(item.outputs);
  const itemId = typeof item.id === "string" && item.id ? item.id : `code_${n}`;
  const id = (codeShape ? CODE_SHAPE : ARGUMENTS_SHAPE) + itemId.replace(/[^A-Za-z0-9_-]/g, "_");
  const content: CodeExecutionResultContent =
    item.status === "failed"
      ? { type: "code_execution_tool_result_error", error_code: "unavailable" }
      : { type: "code_execution_result", stdout: callStdout(item), stderr: "", return_code: 0, content: [] };
  return [
    { type: "server_tool_use", id, name: "code_execution", input: { code: callCode(item) } },
    { type: "code_execution_tool_result", tool_use_id: id, content },
  ];
}

/** xAI's item behind one of our code execution ids, and its shape; undefined for anyone else's. */
export function codeItemOf(id: string): { item: string; codeShape: boolean } | undefined {
  const codeShape = id.startsWith(CODE_SHAPE);
  if (!codeShape && !id.startsWith(ARGUMENTS_SHAPE)) return undefined;
  const item = id.slice(ARGUMENTS_SHAPE.length); // both prefixes have the same length
  return ITEM_ID.test(item) ? { item, codeShape } : undefined;
}

const codeOf = (input: unknown) => (isRecord(input) && typeof input.code === "string" ? input.code : "");

/** Our code execution call sent back, as xAI's item (its output added by `withResult`); undefined for anyone else's. */
export function codeInterpreterItem(use: Pick<ServerToolUseBlock, "id" | "input">): CodeInterpreterCallItem | undefined {
  const carried = codeItemOf(use.id);
  if (!carried) return undefined;
  const code = codeOf(use.input);
  if (carried.codeShape) return { id: carried.item, type: "code_interpreter_call", code, outputs: [], status: "completed" };
  return { arguments: JSON.stringify({ code }), call_id: "", name: "code_execution", type: "code_interpreter_call", id: carried.item, status: "completed" };
}

/** What the result the client sent back says the call printed, into the item (the spec's shape has room for it). */
export function withResult(item: CodeInterpreterCallItem, result: Pick<CodeExecutionToolResultBlock, "content">): void {
  if (!("outputs" in item)) return;
  const c = result.content;
  if (isRecord(c) && c.type === "code_execution_result" && typeof c.stdout === "string" && c.stdout) item.outputs = [{ type: "logs", logs: c.stdout }];
}
