/** Tool-call arguments from the upstream → a JSON object for `tool_use.input`. */
import { jsonrepair } from "jsonrepair";

export type ParsedArgs = { ok: true; input: Record<string, unknown>; json: string } | { ok: false; raw: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Empty (or `null`) → `{}`; valid → as is; broken → repaired when possible; otherwise reported. */
export function parseToolArguments(raw: string): ParsedArgs {
  const trimmed = raw.trim();
  if (trimmed === "" || trimmed === "null") return { ok: true, input: {}, json: "{}" };
  try {
    const v = JSON.parse(trimmed);
    if (isObject(v)) return { ok: true, input: v, json: trimmed };
  } catch {
    // fall through to repair
  }
  try {
    const repaired = jsonrepair(trimmed);
    const v = JSON.parse(repaired);
    if (isObject(v)) return { ok: true, input: v, json: JSON.stringify(v) };
  } catch {
    // not repairable
  }
  return { ok: false, raw };
}
