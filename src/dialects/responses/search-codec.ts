/**
 * What our web search blocks carry for the next turn. Pure.
 *
 * xAI wants its own output items back when the conversation continues (the `web_search_call`
 * items, the `tco_…` reasoning items holding the encrypted tool outputs, the message with its
 * inline links). Anthropic clients send back only Anthropic blocks, so those items ride in the
 * fields Anthropic made opaque for exactly this:
 *
 * - `server_tool_use.id` = `srvtoolu_` + xAI's item id (`ws_…`): stable, and reversible;
 * - `web_search_result.encrypted_content` = `grok2api.ws1.<base64url(JSON)>`: `{u: url}`, and on
 *   the first result of a search also `o: {i, e}`, the id and encrypted content of its `tco_` item;
 * - `citation.encrypted_index` = `grok2api.ci1.<base64url(JSON)>`: `{m: message item id,
 *   s: the markup taken out of the text after the cited passage, n: the link number, u: url}`.
 *
 * Versioned prefixes, so the payloads can change; anything else (real Anthropic's own values) is
 * foreign and decodes to undefined.
 */
import { isRecord } from "../../is-record";

const SERVER_TOOL_PREFIX = "srvtoolu_";
export const RESULT_PREFIX = "grok2api.ws1.";
export const CITATION_PREFIX = "grok2api.ci1.";

/** xAI item ids we present as searches. */
const SEARCH_ITEM = /^ws_[A-Za-z0-9_-]+$/;

export function serverToolUseId(itemId: string): string {
  return SERVER_TOOL_PREFIX + itemId.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** The xAI `ws_…` item id behind one of our `srvtoolu_` ids; undefined for anyone else's. */
export function searchItemId(id: string): string | undefined {
  if (!id.startsWith(SERVER_TOOL_PREFIX)) return undefined;
  const item = id.slice(SERVER_TOOL_PREFIX.length);
  return SEARCH_ITEM.test(item) ? item : undefined;
}

/** A `tco_` reasoning item: the encrypted output of one server-side tool call. */
export interface ToolOutputItem {
  i: string;
  e: string;
}

export interface ResultCarry {
  u: string;
  o?: ToolOutputItem;
}

export interface CitationCarry {
  m: string;
  s: string;
  n: string;
  u: string;
}

const encode = (prefix: string, v: unknown) => prefix + Buffer.from(JSON.stringify(v)).toString("base64url");

function decode(prefix: string, s: unknown): Record<string, unknown> | undefined {
  if (typeof s !== "string" || !s.startsWith(prefix)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(s.slice(prefix.length), "base64url").toString("utf8"));
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): v is string => typeof v === "string";

export const encodeResult = (r: ResultCarry) => encode(RESULT_PREFIX, r);

export function decodeResult(s: unknown): ResultCarry | undefined {
  const v = decode(RESULT_PREFIX, s);
  if (!v || !str(v.u)) return undefined;
  const o = v.o;
  if (o === undefined) return { u: v.u };
  if (!isRecord(o) || !str(o.i) || !str(o.e) || !o.i || !o.e) return undefined;
  return { u: v.u, o: { i: o.i, e: o.e } };
}

export const encodeCitation = (c: CitationCarry) => encode(CITATION_PREFIX, c);

export function decodeCitation(s: unknown): CitationCarry | undefined {
  const v = decode(CITATION_PREFIX, s);
  if (!v || !str(v.m) || !str(v.s) || !str(v.n) || !str(v.u) || !v.m || !v.s) return undefined;
  return { m: v.m, s: v.s, n: v.n, u: v.u };
}
