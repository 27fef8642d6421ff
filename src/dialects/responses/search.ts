/**
 * xAI's server-side searches → Anthropic's web search blocks, shared by the JSON and stream
 * translators. Pure.
 *
 * - a finished `web_search_call` → `server_tool_use` (`srvtoolu_` + its id, name `web_search`,
 *   input `{query}`) and a `web_search_tool_result` listing its sources. xAI gives URLs only: the
 *   title is the host (or the annotation's title when it is a real one), `page_age` null, and
 *   `encrypted_content` is ours (search-codec.ts);
 * - the pair is held until the search's `tco_` item (its encrypted output) is seen, which then
 *   rides in the first result, or until anything else starts; a `tco_` item without a search
 *   to ride with is left to the caller (it becomes a signed thinking block, so it still comes back);
 * - x_search's sub-calls (`custom_tool_call`: x_keyword_search, view_x_video, browse_page, …) were
 *   executed by xAI: never a client `tool_use`. Its searches are shown as web searches (results
 *   not listed: xAI gives none);
 * - past `max_uses`, the search is answered with Anthropic's `max_uses_exceeded` error result and
 *   the answer is paused there (`stop_reason: "pause_turn"`).
 */
import type { ResponseBlock, Usage, WebSearchCitation } from "../../anthropic/schema";
import { isRecord } from "../malformed";
import { citationTitle, type Link } from "./citations";
import { encodeCitation, encodeResult, serverToolUseId, type ToolOutputItem } from "./search-codec";

export interface SearchOptions {
  /** The request offered Anthropic's web search tool: answers are read for citations. */
  webSearch: boolean;
  /** Anthropic's `max_uses`: searches past it end the answer. */
  maxUses?: number;
}

type Block = ResponseBlock;

interface Pending {
  id: string;
  query: string;
  urls: string[];
  output?: ToolOutputItem;
}

/** x_search's searching sub-tools (the others, like view_x_video, only read). */
const X_SEARCHES = new Set(["x_keyword_search", "x_semantic_search", "x_user_search"]);

export class SearchPresenter {
  /** Searches shown so far. */
  searches = 0;
  /** `max_uses` was passed: nothing more is read. */
  paused = false;
  private pending: Pending[] = [];

  constructor(
    private readonly maxUses?: number,
    private readonly titles?: ReadonlyMap<string, string>,
  ) {}

  /** A finished output item. True when it was a search item (its blocks go to `out`, now or at a flush). */
  item(item: Record<string, unknown>, out: Block[]): boolean {
    const id = typeof item.id === "string" ? item.id : "";
    if (item.type === "web_search_call") {
      const action = isRecord(item.action) ? item.action : {};
      const urls: string[] = [];
      if (Array.isArray(action.sources)) {
        for (const s of action.sources) if (isRecord(s) && typeof s.url === "string" && s.url && !urls.includes(s.url)) urls.push(s.url);
      }
      this.search({ id, query: typeof action.query === "string" ? action.query : "", urls }, out);
      return true;
    }
    if (item.type === "custom_tool_call" || item.type === "x_search_call") {
      if (typeof item.name === "string" && X_SEARCHES.has(item.name)) this.search({ id, query: callQuery(item), urls: [] }, out);
      return true;
    }
    if (item.type === "reasoning" && id.startsWith("tco_")) {
      const p = this.pending.find((s) => s.id === "ws_" + id.slice(4) && !s.output && s.urls.length > 0);
      if (!p || typeof item.encrypted_content !== "string" || !item.encrypted_content) return false;
      p.output = { i: id, e: item.encrypted_content };
      return true;
    }
    return false;
  }

  /** The held searches, as blocks. */
  flush(out: Block[]): void {
    for (const p of this.pending) this.present(p, out);
    this.pending = [];
  }

  private search(p: Pending, out: Block[]): void {
    if (this.paused) return;
    this.searches++;
    if (this.maxUses !== undefined && this.searches > this.maxUses) {
      this.flush(out);
      const id = serverToolUseId(p.id || `search_${this.searches}`);
      out.push(
        { type: "server_tool_use", id, name: "web_search", input: { query: p.query } },
        { type: "web_search_tool_result", tool_use_id: id, content: { type: "web_search_tool_result_error", error_code: "max_uses_exceeded" } },
      );
      this.paused = true;
      return;
    }
    this.pending.push(p);
  }

  private present(p: Pending, out: Block[]): void {
    const id = serverToolUseId(p.id || `search_${out.length}`);
    out.push(
      { type: "server_tool_use", id, name: "web_search", input: { query: p.query } },
      {
        type: "web_search_tool_result",
        tool_use_id: id,
        content: p.urls.map((u, k) => ({
          type: "web_search_result" as const,
          url: u,
          title: citationTitle(u, this.titles),
          encrypted_content: encodeResult(k === 0 && p.output ? { u, o: p.output } : { u }),
          page_age: null,
        })),
      },
    );
  }
}

function callQuery(item: Record<string, unknown>): string {
  const raw = typeof item.input === "string" ? item.input : typeof item.arguments === "string" ? item.arguments : "";
  try {
    const v: unknown = JSON.parse(raw);
    if (isRecord(v) && typeof v.query === "string") return v.query;
  } catch {
    // not JSON: no query to show
  }
  return "";
}

/** A citation for a passage of message `messageId`. */
export function citation(link: Link, passage: string, messageId: string, titles?: ReadonlyMap<string, string>): WebSearchCitation {
  return {
    type: "web_search_result_location",
    url: link.url,
    title: citationTitle(link.url, titles),
    cited_text: passage.trim(),
    encrypted_index: encodeCitation({ m: messageId, s: link.markup, n: link.n, u: link.url }),
  };
}

/** `usage.server_tool_use`: xAI's billed counts when it gives them, else the searches shown; absent when none. */
export function serverToolUsage(rawUsage: unknown, shown: number): Usage["server_tool_use"] {
  const details = isRecord(rawUsage) ? rawUsage.server_side_tool_usage_details : undefined;
  let n = shown;
  if (isRecord(details)) {
    const web = typeof details.web_search_calls === "number" ? details.web_search_calls : 0;
    const x = typeof details.x_search_calls === "number" ? details.x_search_calls : 0;
    if (web + x > 0) n = Math.max(web + x, 0);
  }
  return n > 0 ? { web_search_requests: n, web_fetch_requests: 0 } : undefined;
}

/** url → annotation title, from a finished message item's `url_citation` annotations. */
export function annotationTitles(item: Record<string, unknown>, into = new Map<string, string>()): Map<string, string> {
  if (!Array.isArray(item.content)) return into;
  for (const part of item.content) {
    if (!isRecord(part) || !Array.isArray(part.annotations)) continue;
    for (const a of part.annotations) {
      if (isRecord(a) && a.type === "url_citation" && typeof a.url === "string" && typeof a.title === "string") into.set(a.url, a.title);
    }
  }
  return into;
}
