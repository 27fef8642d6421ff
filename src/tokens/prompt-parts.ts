/**
 * What of a Messages request reaches the model, as countable parts: the texts
 * (system, messages, tool definitions, tool calls and results, text documents),
 * the images, and the structure around them. Pure. Follows what the request
 * translators send upstream: thinking blocks and server tools are not sent, so they
 * are not counted; Anthropic's client tools are counted as the functions they become,
 * with what Anthropic adds to the system prompt for them; search results as their text.
 */
import { toolInstructions } from "../anthropic/client-tools";
import type { DocumentBlock, MessagesRequest, SearchResultBlock, ToolResultBlock, ToolUseBlock } from "../anthropic/schema";
import { planTool } from "../anthropic/tools";
import type { Slicer } from "../http/slicer";
import { IMAGE_TOKENS } from "../dialects/usage";

/** Tokens the chat template adds around each piece (role markers, ids); the grammar is the upstream's secret. */
export const OVERHEAD = {
  request: 3,
  message: 4,
  tool: 8,
  toolCall: 6,
  toolResult: 6,
  /** The `<search_result index source title>` tags and block labels around a search result's texts. */
  searchResult: 16,
} as const;


export interface PromptParts {
  /** Every text the model reads. */
  texts: string[];
  images: number;
  /** Tokens that do not come from a text: template structure and non-text documents. */
  fixedTokens: number;
}

type CountableRequest = Pick<MessagesRequest, "system" | "messages" | "tools">;

/** A PDF or other binary document is turned into text before it reaches the model; guess from its size. */
function binaryDocumentTokens(doc: DocumentBlock): number {
  const src = doc.source;
  if (src.type !== "base64") return IMAGE_TOKENS;
  const bytes = (src.data.length * 3) / 4;
  return Math.max(500, Math.ceil(bytes / 16));
}

function addDocument(parts: PromptParts, doc: DocumentBlock): void {
  if (doc.title) parts.texts.push(doc.title);
  if (doc.context) parts.texts.push(doc.context);
  const src = doc.source;
  if (src.type === "text") parts.texts.push(src.data);
  else if (src.type === "content") {
    if (typeof src.content === "string") parts.texts.push(src.content);
    else for (const b of src.content) addBlock(parts, b);
  } else parts.fixedTokens += binaryDocumentTokens(doc);
}

function addToolResult(parts: PromptParts, r: ToolResultBlock): void {
  parts.fixedTokens += OVERHEAD.toolResult;
  if (typeof r.content === "string") parts.texts.push(r.content);
  else for (const b of r.content ?? []) addBlock(parts, b);
}

function addBlock(parts: PromptParts, block: unknown): void {
  if (typeof block !== "object" || block === null) return;
  const b = block as { type?: unknown };
  switch (b.type) {
    case "text": {
      const text = (b as { text?: unknown }).text;
      if (typeof text === "string") parts.texts.push(text);
      return;
    }
    case "image":
      parts.images += 1;
      return;
    case "document":
      addDocument(parts, b as DocumentBlock);
      return;
    case "tool_use": {
      const u = b as ToolUseBlock;
      parts.fixedTokens += OVERHEAD.toolCall;
      parts.texts.push(u.name, typeof u.input === "string" ? u.input : (safeJson(u.input) ?? "{}"));
      return;
    }
    case "tool_result":
      addToolResult(parts, b as ToolResultBlock);
      return;
    case "search_result": {
      // Rendered as a tagged text (dialects/search-results.ts): its source, title and texts.
      const r = b as SearchResultBlock;
      parts.fixedTokens += OVERHEAD.searchResult;
      parts.texts.push(r.source, r.title);
      for (const t of r.content) parts.texts.push(t.text);
      return;
    }
    case "server_tool_use": {
      // A web search replayed upstream: its query (and, below, the sources it found).
      const u = b as { name?: unknown; input?: unknown };
      parts.fixedTokens += OVERHEAD.toolCall;
      parts.texts.push(typeof u.name === "string" ? u.name : "", safeJson(u.input) ?? "{}");
      return;
    }
    case "web_search_tool_result": {
      const content = (b as { content?: unknown }).content;
      for (const r of Array.isArray(content) ? content : []) {
        const { url, title } = (r ?? {}) as { url?: unknown; title?: unknown };
        if (typeof url === "string") parts.texts.push(url);
        if (typeof title === "string") parts.texts.push(title);
      }
      return;
    }
    case "mcp_tool_use": {
      // An MCP call given back: its tool and input (the tool definitions are fetched by xAI, not counted).
      const u = b as { name?: unknown; input?: unknown };
      parts.fixedTokens += OVERHEAD.toolCall;
      parts.texts.push(typeof u.name === "string" ? u.name : "", safeJson(u.input) ?? "{}");
      return;
    }
    case "mcp_tool_result": {
      const content = (b as { content?: unknown }).content;
      parts.fixedTokens += OVERHEAD.toolResult;
      if (typeof content === "string") parts.texts.push(content);
      else for (const t of Array.isArray(content) ? content : []) addBlock(parts, t);
      return;
    }
    case "code_execution_tool_result": {
      // What the code printed.
      const c = (b as { content?: unknown }).content as { stdout?: unknown; stderr?: unknown } | null;
      parts.fixedTokens += OVERHEAD.toolResult;
      if (typeof c?.stdout === "string") parts.texts.push(c.stdout);
      if (typeof c?.stderr === "string") parts.texts.push(c.stderr);
      return;
    }
    default:
      // thinking and redacted_thinking are not sent upstream (validation refuses unknown block types).
      return;
  }
}

function safeJson(v: unknown): string | undefined {
  try {
    return JSON.stringify(v ?? {});
  } catch {
    return undefined;
  }
}

export function promptParts(req: CountableRequest): PromptParts {
  const parts = emptyParts(req);
  const walk = collect(req, parts);
  while (!walk.next().done);
  return parts;
}

/** promptParts for a large request, in slices (the event loop gets turns between them). */
export async function promptPartsSliced(req: CountableRequest, slicer: Slicer): Promise<PromptParts> {
  const parts = emptyParts(req);
  const walk = collect(req, parts);
  while (!walk.next().done) await slicer.pause();
  return parts;
}

/** The request's parts before its messages: the template's own, and what Anthropic adds to the system prompt for its tools. */
function emptyParts(req: CountableRequest): PromptParts {
  const parts: PromptParts = { texts: [], images: 0, fixedTokens: OVERHEAD.request };
  parts.texts.push(...toolInstructions(req.tools));
  return parts;
}

/** The walk, stopping after every few hundred blocks. */
function* collect(req: CountableRequest, parts: PromptParts): Generator<void> {
  if (typeof req.system === "string") {
    if (req.system) {
      parts.texts.push(req.system);
      parts.fixedTokens += OVERHEAD.message;
    }
  } else if (req.system && req.system.length > 0) {
    for (const b of req.system) parts.texts.push(b.text);
    parts.fixedTokens += OVERHEAD.message;
  }
  let n = 0;
  for (const m of req.messages) {
    parts.fixedTokens += OVERHEAD.message;
    if (typeof m.content === "string") parts.texts.push(m.content);
    else
      for (const b of m.content) {
        addBlock(parts, b);
        if ((++n & 255) === 0) yield;
      }
    if ((++n & 255) === 0) yield;
  }
  for (const [i, t] of (req.tools ?? []).entries()) {
    const plan = planTool(t, i);
    if (!("kind" in plan) || plan.kind !== "function") continue; // web search runs upstream; a refused tool was a 400
    parts.fixedTokens += OVERHEAD.tool;
    parts.texts.push(plan.def.name);
    if (plan.def.description) parts.texts.push(plan.def.description);
    parts.texts.push(safeJson(plan.def.parameters) ?? "{}");
  }
}
