/** Identifiers we mint: message ids, tool-use ids, request ids. */
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function randomId(prefix: string, length = 24): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let s = prefix;
  for (let i = 0; i < length; i++) s += ALPHABET[bytes[i]! % 62];
  return s;
}

export const newMessageId = () => randomId("msg_");
export const newRequestId = () => randomId("req_");

/**
 * The Anthropic id for an upstream tool call. Deterministic, so the id a client
 * sends back is the one it received, and it is sent upstream as-is on the next turn.
 */
export function toolUseId(upstreamId: string | undefined): string {
  if (!upstreamId) return randomId("toolu_");
  if (upstreamId.startsWith("toolu_")) return upstreamId;
  return "toolu_" + upstreamId.replace(/[^A-Za-z0-9_-]/g, "_");
}
