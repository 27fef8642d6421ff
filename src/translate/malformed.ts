/**
 * An upstream answer (status 200) whose body is not what its dialect promises: truncated or
 * empty JSON, `null`, fields of the wrong type. The route answers 502 `api_error` with the
 * plain message, never a 500.
 */
export class MalformedUpstream extends Error {
  override readonly name = "MalformedUpstream";
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A token count: absent is fine (undefined), anything but a finite non-negative number is malformed. */
export function count(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new MalformedUpstream(`the upstream sent a ${what} that is not a number`);
  return v;
}
