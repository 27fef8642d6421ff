/**
 * `search_result` blocks as text for the upstream, which has no such block. Pure.
 *
 * Each is rendered in place, numbered as Anthropic numbers them (`search_result_index`: across
 * the whole request, in order of appearance, tool results included), so the numbers stay the
 * same from turn to turn and the prompt's prefix stays byte-stable:
 *
 *   <search_result index="0" source="https://docs.example.com/api" title="API Documentation">
 *   [0.0] Authentication: All API requests require an API key.
 *   [0.1] Rate Limits: The API allows 1000 requests per hour per key.
 *   </search_result>
 *
 * The `[result.block]` labels are there only when the block has citations enabled (they name
 * the citable units); `cache_control` is dropped. No citations come back in answers.
 */
import type { SearchResultBlock } from "../anthropic/schema";

/** An attribute value on one line, its quotes escaped (`&` is left alone: URLs stay as the client wrote them). */
const attribute = (v: string) => v.replace(/"/g, "&quot;").replace(/\r?\n|\r/g, " ");

export function searchResultText(b: SearchResultBlock, index: number): string {
  const labels = b.citations?.enabled === true;
  const lines = b.content.map((t, k) => (labels ? `[${index}.${k}] ${t.text}` : t.text));
  return `<search_result index="${index}" source="${attribute(b.source)}" title="${attribute(b.title)}">\n${lines.join("\n")}\n</search_result>`;
}
