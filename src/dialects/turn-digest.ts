/**
 * The digest of an assistant turn exactly as the client received it, for the reasoning store
 * (src/reasoning/store.ts): when a client does not carry Grok's encrypted reasoning back (it
 * never asked for thinking, or it drops thinking blocks), the gateway keeps it under this digest
 * and puts it back when the same turn comes back. Pure.
 *
 * A turn is a list of elements, in order:
 * - a run of adjacent text blocks is one element (its texts joined as they are, then trimmed;
 *   an empty run is nothing): a client that merges a cited answer's pieces into one text, or
 *   trims a trailing newline, still matches;
 * - each `tool_use` (id, name, input as JSON), `server_tool_use` (id), `mcp_tool_use` (id) and
 *   server tool result (`web_search_tool_result`, `code_execution_tool_result`, `mcp_tool_result`:
 *   its tool_use_id) is one element;
 * - thinking blocks are not part of it (they are what the client may have dropped).
 * Any other change (an edited text, another input) gives another digest: nothing is restored.
 *
 * A reasoning item is anchored at the element it came before (its `at`), so it goes back in
 * place: before the calls it led to, as the signature path puts it.
 */
import type { ContentBlock, MessagesRequest, ResponseBlock } from "../anthropic/schema";
import { decodeReasoningSignature } from "./signature";
import { promptTurns, type PromptBlock } from "./prompt";

/** One reasoning item kept for a turn: where it goes, its encrypted content, and its xAI id (if it had one). */
export interface StoredReasoning {
  /** The element of the turn it goes before (0 = first; the element count = after everything). */
  at: number;
  /** xAI's `encrypted_content`. */
  e: string;
  /** xAI's item id (`rs_…`, `tco_…`): given back on turns with searches, as the signature path does. */
  i?: string;
}

/** Builds a turn's digest element by element; `position` says how many elements came so far. */
export class TurnDigest {
  private readonly hash = new Bun.CryptoHasher("sha256");
  private run = "";
  private elements = 0;

  /** Text the client receives (a delta, or a whole text block). */
  text(t: string): void {
    this.run += t;
  }

  toolUse(id: string, name: string, input: unknown): void {
    this.element("u", `${id}\u0000${name}\u0000${inputJson(input)}`);
  }

  serverToolUse(id: string): void {
    this.element("s", id);
  }

  mcpToolUse(id: string): void {
    this.element("m", id);
  }

  toolResult(toolUseId: string): void {
    this.element("r", toolUseId);
  }

  /** Elements so far, the text being written counted as one. */
  get position(): number {
    return this.elements + (this.run.trim() ? 1 : 0);
  }

  /** The digest (base64url of a SHA-256); the digest is done once this is called. */
  digest(): string {
    this.closeRun();
    return this.hash.digest("base64url");
  }

  private closeRun(): void {
    const t = this.run.trim();
    this.run = "";
    if (!t) return;
    this.write("t", t);
    this.elements++;
  }

  private element(tag: string, value: string): void {
    this.closeRun();
    this.write(tag, value);
    this.elements++;
  }

  private write(tag: string, value: string): void {
    // Length-prefixed: no two different element lists hash the same bytes.
    this.hash.update(`${tag}${value.length}:`);
    this.hash.update(value);
  }
}

function inputJson(input: unknown): string {
  try {
    return JSON.stringify(input ?? {}) ?? "{}";
  } catch {
    return "";
  }
}

/** A block of a turn: as the client sent it back (a prompt's), or as the gateway answered it. */
export type DigestedBlock = PromptBlock | ResponseBlock;

/** Feeds one content block of a turn to a digest (thinking and anything else not shown is skipped). */
export function digestBlock(d: TurnDigest, block: DigestedBlock): void {
  switch (block.type) {
    case "text":
      d.text(block.text);
      break;
    case "tool_use":
      d.toolUse(block.id, block.name, block.input);
      break;
    case "server_tool_use":
      d.serverToolUse(block.id);
      break;
    case "mcp_tool_use":
      d.mcpToolUse(block.id);
      break;
    case "web_search_tool_result":
    case "code_execution_tool_result":
    case "mcp_tool_result":
      d.toolResult(block.tool_use_id);
      break;
    default:
  }
}

/** A whole turn's digest. */
export function turnDigest(blocks: readonly DigestedBlock[]): string {
  const d = new TurnDigest();
  for (const b of blocks) digestBlock(d, b);
  return d.digest();
}

/** Whether a turn carries its reasoning itself: one of its thinking blocks has our signature with encrypted content. */
export function carriesReasoning(blocks: readonly ContentBlock[]): boolean {
  for (const b of blocks) if (b.type === "thinking" && decodeReasoningSignature(b.signature)) return true;
  return false;
}

/** An assistant turn whose reasoning may be in the store: its ordinal among the assistant turns, and its digest. */
export interface TurnLookup {
  ordinal: number;
  digest: string;
}

/**
 * The assistant turns of a conversation that do not carry their reasoning (same-role neighbours
 * merged, as every dialect sees them), with their digests. Linear in the conversation's size.
 */
export function turnsToRestore(messages: MessagesRequest["messages"]): TurnLookup[] {
  const out: TurnLookup[] = [];
  let ordinal = 0;
  for (const turn of promptTurns(messages)) {
    if (turn.role !== "assistant") continue;
    if (!carriesReasoning(turn.blocks)) {
      const digest = turnDigest(turn.blocks);
      out.push({ ordinal, digest });
    }
    ordinal++;
  }
  return out;
}

/** Blocks that are one element each (text runs aside). */
const ELEMENT_BLOCKS = new Set(["tool_use", "server_tool_use", "mcp_tool_use", "web_search_tool_result", "code_execution_tool_result", "mcp_tool_result"]);

/** Which element of a turn each block belongs to, by the same rules as TurnDigest: where stored reasoning goes back. */
export class TurnPosition {
  private elements = 0;
  private inRun = false;
  private runHasText = false;

  /** The element `b` starts or continues (counted); undefined for blocks that are not part of the digest (thinking). */
  next(b: ContentBlock): number | undefined {
    if (b.type === "text") {
      if (!this.inRun) {
        this.inRun = true;
        this.runHasText = false;
      }
      if (b.text.trim()) this.runHasText = true;
      return this.elements;
    }
    if (ELEMENT_BLOCKS.has(b.type)) {
      if (this.inRun && this.runHasText) this.elements++;
      this.inRun = false;
      return this.elements++;
    }
    return undefined;
  }
}
