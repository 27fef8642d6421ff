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

const TOOL_USE_PREFIX = "toolu_";

/**
 * The Anthropic id for an upstream tool call: `toolu_` + the upstream id, so that
 * `upstreamToolCallId` gives the upstream its own id back on the next turn.
 * Characters Anthropic does not allow in ids (`[A-Za-z0-9_-]` only) become `_`;
 * such ids (never seen from xAI, whose ids look like `call_79382389`) come back
 * changed, but consistently, so calls and results still pair up.
 */
export function toolUseId(upstreamId: string | undefined): string {
  if (!upstreamId) return randomId(TOOL_USE_PREFIX);
  return TOOL_USE_PREFIX + upstreamId.replace(/[^A-Za-z0-9_-]/g, "_");
}

/**
 * The upstream id for a client's tool_use id: the inverse of `toolUseId`.
 * Applied to both a call's id and its result's tool_use_id, so ids the client
 * minted itself (or Anthropic's own `toolu_01…`) still pair up.
 */
export function upstreamToolCallId(toolUseId: string): string {
  if (toolUseId.startsWith(TOOL_USE_PREFIX) && toolUseId.length > TOOL_USE_PREFIX.length) {
    return toolUseId.slice(TOOL_USE_PREFIX.length);
  }
  return toolUseId;
}
