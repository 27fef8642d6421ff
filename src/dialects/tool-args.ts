/** Tool-call arguments from the upstream → a JSON object for `tool_use.input`. */
import { jsonrepair } from "jsonrepair";
import { isRecord } from "./malformed";

export type ParsedArgs = { ok: true; input: Record<string, unknown>; json: string } | { ok: false; raw: string };


/** Empty (or `null`) → `{}`; valid → as is; broken → repaired when possible; otherwise reported. */
export function parseToolArguments(raw: string): ParsedArgs {
  const trimmed = raw.trim();
  if (trimmed === "" || trimmed === "null") return { ok: true, input: {}, json: "{}" };
  try {
    const v = JSON.parse(trimmed);
    if (isRecord(v)) return { ok: true, input: v, json: trimmed };
  } catch {
    // fall through to repair
  }
  try {
    const repaired = jsonrepair(trimmed);
    const v = JSON.parse(repaired);
    if (isRecord(v)) return { ok: true, input: v, json: JSON.stringify(v) };
  } catch {
    // not repairable
  }
  return { ok: false, raw };
}
