/**
 * The one check that turns `unknown` (parsed JSON, a client's or an upstream's) into an object
 * whose fields can be read: a plain object, never null or an array. Reading a field of it gives
 * `unknown` again, to be checked in its turn — no cast needed anywhere on the way.
 */
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
