/**
 * The one walk over an Anthropic prompt that every upstream dialect starts from. Pure.
 *
 * - consecutive messages of the same role are one turn (the Anthropic API merges them too),
 *   merged in linear time: a request of 160,000 one-line user messages is one pass;
 * - the dialects only ever see the tagged union `PromptBlock` and switch on `type` without
 *   casts: a block of a type we do not translate is a 400 (validation refuses it first), and
 *   `search_result` blocks, top level or in a tool result, are already text here, numbered
 *   across the request in order of appearance (search-results.ts);
 * - the system prompt loses Claude Code's per-session billing line, so the prefix the
 *   upstream caches stays byte-stable across sessions and turns.
 */
import {
  KNOWN_BLOCKS,
  type ContentBlock,
  type DocumentBlock,
  type ImageBlock,
  type MessagesRequest,
  type SearchResultBlock,
  type TextBlock,
  type ToolResultBlock,
} from "../anthropic/schema";
import { invalidRequest } from "../http/errors";
import { isRecord } from "./malformed";
import { searchResultText } from "./search-results";

/** A tool_result as the dialects see it: its search results already text. */
export type PromptToolResult = Omit<ToolResultBlock, "content"> & { content?: string | Array<TextBlock | ImageBlock | DocumentBlock> };

/** A block as the dialects see it: search results already text. */
export type PromptBlock = Exclude<ContentBlock, SearchResultBlock | ToolResultBlock> | PromptToolResult;

export interface Turn {
  role: "user" | "assistant" | "system";
  blocks: PromptBlock[];
}

type AnyBlock = MessagesRequest["messages"][number]["content"] extends string | Array<infer B> ? B : never;

/** A block validation checked against its schema (see anthropic/validate.ts): known type, right shape. */
export function isKnownBlock(b: AnyBlock): b is ContentBlock {
  return Object.hasOwn(KNOWN_BLOCKS, b.type);
}

/** A tool_result with no search_result inside: already what the dialects see. */
function isPromptToolResult(b: ToolResultBlock): b is ToolResultBlock & PromptToolResult {
  return !Array.isArray(b.content) || !b.content.some((c) => c.type === "search_result");
}

/**
 * The messages as turns, same-role neighbours merged, search results rendered as text in place
 * (numbered in order of appearance). Linear. A block of a type not translated is a 400 naming it
 * (validation refuses it first; this is for callers that skip validation).
 */
export function promptTurns(messages: MessagesRequest["messages"]): Turn[] {
  const turns: Turn[] = [];
  let last: Turn | undefined;
  let searchResults = 0;
  const rendered = (b: SearchResultBlock): TextBlock => ({ type: "text", text: searchResultText(b, searchResults++) });
  for (const [i, m] of messages.entries()) {
    if (!last || last.role !== m.role) {
      last = { role: m.role, blocks: [] };
      turns.push(last);
    }
    if (typeof m.content === "string") {
      last.blocks.push({ type: "text", text: m.content });
      continue;
    }
    for (const [k, b] of m.content.entries()) {
      if (!isKnownBlock(b)) throw invalidRequest(`messages[${i}].content[${k}]: block type ${JSON.stringify(b.type)} is not supported`);
      if (b.type === "search_result") last.blocks.push(rendered(b));
      else if (b.type !== "tool_result" || isPromptToolResult(b)) last.blocks.push(b);
      else last.blocks.push({ ...b, content: Array.isArray(b.content) ? b.content.map((c) => (c.type === "search_result" ? rendered(c) : c)) : b.content });
    }
  }
  return turns;
}

/**
 * Claude Code opens its system prompt with a billing line for Anthropic
 * (`x-anthropic-billing-header: cc_version=2.1.197.1c0; …`) whose suffix changes
 * between sessions. It means nothing to the upstream and would break the cached prefix.
 */
const BILLING_LINE = /^x-anthropic-billing-header:[^\n]*(\n+|$)/;

export function systemText(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system.replace(BILLING_LINE, "");
  return system
    .map((b) => b.text.replace(BILLING_LINE, ""))
    .filter((t) => t.length > 0)
    .join("\n\n");
}

/** The text of a turn's text blocks, joined; "" when there is none. */
export function turnText(blocks: readonly PromptBlock[]): string {
  const texts: string[] = [];
  for (const b of blocks) if (b.type === "text" && b.text) texts.push(b.text);
  return texts.join("\n\n");
}

export function imageUrl(img: ImageBlock): string {
  const src = img.source;
  // A file source is read into a base64 one before translation (documents/resolver.ts).
  if (src.type === "file") throw invalidRequest(`image source of type file (${src.file_id}) could not be read`);
  return src.type === "base64" ? `data:${src.media_type};base64,${src.data}` : src.url;
}

const textOfUnknown = (b: unknown): string => (isRecord(b) && b.type === "text" && typeof b.text === "string" ? b.text : "");

/** A document as text for the model. PDFs must have been turned into text sources before. */
export function documentText(doc: DocumentBlock): string {
  const src = doc.source;
  let body: string;
  if (src.type === "text") body = src.data;
  else if (src.type === "content") {
    body = typeof src.content === "string" ? src.content : src.content.map(textOfUnknown).filter(Boolean).join("\n\n");
  } else {
    const kind = src.type === "base64" ? src.media_type : "url";
    throw invalidRequest(`document source of type ${src.type} (${kind}) is not supported; send text or PDF documents`);
  }
  const head = [doc.title ? `Document: ${doc.title}` : "Document", doc.context ? `Context: ${doc.context}` : ""]
    .filter(Boolean)
    .join("\n");
  return `<document>\n${head}\n\n${body}\n</document>`;
}

export const INTERRUPTED_TOOL_RESULT = "Error: the tool call was interrupted before it returned a result.";

/** A tool_result's content: its text (errors marked) and its images, for the dialect to place. */
export function toolResultParts(r: PromptToolResult): { text: string; images: ImageBlock[] } {
  const images: ImageBlock[] = [];
  let text: string;
  if (r.content === undefined) text = "";
  else if (typeof r.content === "string") text = r.content;
  else {
    const texts: string[] = [];
    for (const b of r.content) {
      if (b.type === "image") images.push(b);
      else if (b.type === "document") texts.push(documentText(b));
      else if (b.text.length > 0) texts.push(b.text);
    }
    text = texts.join("\n\n");
    if (!text && images.length > 0) text = `(${images.length} image${images.length > 1 ? "s" : ""} attached below)`;
  }
  if (r.is_error) text = text ? `Error: ${text}` : "Error: the tool failed without a message.";
  return { text: text || "(no output)", images };
}

export function stringifyInput(input: unknown): string {
  if (input === undefined || input === null) return "{}";
  return typeof input === "string" ? input : JSON.stringify(input);
}

/** What a dialect does with each piece of a conversation, called in the order the upstream must see them. */
export interface ConversationSink {
  /** A system turn mid-conversation (one that came between a tool call and its results arrives after the results). */
  system(text: string): void;
  /** An assistant turn; answers the client ids of the tool calls it made, in order, each once. */
  assistant(blocks: readonly PromptBlock[]): string[];
  /** The result of each call of the turn before, in call order; undefined when the client sent none. */
  result(id: string, r: PromptToolResult | undefined): void;
  /** The rest of a user turn, after the results: results that answer no pending call, then the other blocks. */
  user(orphans: readonly PromptToolResult[], rest: readonly PromptBlock[]): void;
}

/**
 * The conversation's shape as every upstream needs it, whatever the client sent: each tool
 * call answered right after the turn that made it, in call order (a missing result is
 * answered for the client, a result whose call is gone goes on as text); a system turn that
 * falls between a call and its results waits until they are placed. Linear.
 */
export function walkConversation(messages: MessagesRequest["messages"], sink: ConversationSink): void {
  // The calls of the last assistant turn, in call order; a Set, so each result finds its call at once.
  let pending = new Set<string>();
  let held: string[] = [];
  const placeHeld = () => {
    for (const text of held) sink.system(text);
    held = [];
  };
  const answerMissing = () => {
    for (const id of pending) sink.result(id, undefined);
    pending = new Set();
    placeHeld();
  };
  for (const turn of promptTurns(messages)) {
    if (turn.role === "system") {
      const text = turnText(turn.blocks);
      if (!text) continue;
      if (pending.size > 0) held.push(text);
      else sink.system(text);
      continue;
    }
    if (turn.role === "assistant") {
      answerMissing();
      pending = new Set(sink.assistant(turn.blocks));
      continue;
    }
    const results = new Map<string, PromptToolResult>();
    const orphans: PromptToolResult[] = [];
    const rest: PromptBlock[] = [];
    for (const b of turn.blocks) {
      if (b.type !== "tool_result") rest.push(b);
      else if (pending.has(b.tool_use_id) && !results.has(b.tool_use_id)) results.set(b.tool_use_id, b);
      else orphans.push(b);
    }
    for (const id of pending) sink.result(id, results.get(id));
    pending = new Set();
    placeHeld();
    sink.user(orphans, rest);
  }
  answerMissing();
}
