/**
 * Config problems in words: every error of a config file, one line each, naming
 * the key, its value (never a secret's) and what was expected.
 */
import { Value } from "@sinclair/typebox/value";
import { ValueErrorType } from "@sinclair/typebox/errors";
import { isSecretName } from "../redact";
import { describeExpected as describeWords } from "../schema-words";
import { ConfigFileSchema } from "./schema";

type SchemaNode = Record<string, any>;

/** What a config value may be, in words: "an integer from 0 to 65535", "one of \"debug\", \"info\"", … */
export const describeExpected = (schema: SchemaNode): string => describeWords(schema, "config");

/** JSON pointer "/upstream/api_keys/0" → "upstream.api_keys[0]". */
function keyName(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += (out ? "." : "") + (/^[A-Za-z0-9_-]+$/.test(seg) ? seg : JSON.stringify(seg));
  }
  return out || "(top level)";
}

/** A value as shown in an error; a secret's value is never shown. */
function showValue(pointer: string, value: unknown): string {
  if (value === undefined) return "nothing";
  if (pointer.split("/").some(isSecretName)) {
    if (value === "") return '""';
    return typeof value === "string" ? `a secret of ${value.length} characters (not shown)` : `a ${Array.isArray(value) ? "list" : typeof value} (secret, not shown)`;
  }
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

/** Every problem of a config file, one line each: the key, its value, and what was expected. */
export function describeFileErrors(file: string, data: unknown, max = 10): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(ConfigFileSchema, data)) {
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    const key = keyName(e.path);
    if (e.type === ValueErrorType.ObjectAdditionalProperties) {
      const allowed = Object.keys((e.schema as SchemaNode).properties ?? {}).join(", ");
      lines.push(`${file}: unknown key "${key}" = ${showValue(e.path, e.value)} (expected one of the keys ${allowed})`);
    } else if (e.type === ValueErrorType.ObjectRequiredProperty) {
      lines.push(`${file}: ${key} is missing (expected ${describeExpected(e.schema as SchemaNode)})`);
    } else {
      lines.push(`${file}: ${key} = ${showValue(e.path, e.value)} is invalid (expected ${describeExpected(e.schema as SchemaNode)})`);
    }
    if (lines.length >= max) break;
  }
  return lines;
}

