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
import type { Slicer } from "../http/slicer";
import { isKnownBlock } from "./prompt";

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
export type DigestedBlock = ContentBlock | ResponseBlock;

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

/** An assistant turn whose reasoning may be in the store: its ordinal among the assistant turns, and its digest. */
export interface TurnLookup {
  ordinal: number;
  digest: string;
}

/** How many blocks the walk below takes between two chances to pause (see turnsToRestoreSliced). */
const BLOCKS_PER_PAUSE = 256;

/**
 * The walk behind turnsToRestore: the assistant turns (same-role neighbours merged, as every
 * dialect sees them) that do not carry their reasoning, with their digests; and, every few
 * hundred blocks, `undefined` (a point where a sliced caller may give the event loop a turn).
 * Linear in the conversation's size. A turn holding a `search_result` block is not looked up:
 * no answer of the gateway's has one, so it is a turn the client changed.
 */
function* lookups(messages: MessagesRequest["messages"]): Generator<TurnLookup | undefined> {
  let ordinal = 0;
  let blocks = 0;
  for (let i = 0; i < messages.length; ) {
    if (messages[i]!.role !== "assistant") {
      i++;
      continue;
    }
    const d = new TurnDigest();
    let carries = false;
    let changed = false;
    for (; i < messages.length && messages[i]!.role === "assistant"; i++) {
      const content = messages[i]!.content;
      if (typeof content === "string") {
        d.text(content);
        if (++blocks % BLOCKS_PER_PAUSE === 0) yield undefined;
        continue;
      }
      for (const b of content) {
        if (!isKnownBlock(b)) continue; // refused by the translation that follows
        if (b.type === "thinking") carries ||= decodeReasoningSignature(b.signature) !== undefined;
        else if (b.type === "search_result") changed = true;
        else digestBlock(d, b);
        if (++blocks % BLOCKS_PER_PAUSE === 0) yield undefined;
      }
    }
    if (!carries && !changed) yield { ordinal, digest: d.digest() };
    ordinal++;
  }
}

/** The assistant turns of a conversation that do not carry their reasoning, with their digests (see lookups). */
export function turnsToRestore(messages: MessagesRequest["messages"]): TurnLookup[] {
  const out: TurnLookup[] = [];
  for (const t of lookups(messages)) if (t) out.push(t);
  return out;
}

/** turnsToRestore for a large request: the same walk in slices, so that it never holds the event loop long. */
export async function turnsToRestoreSliced(messages: MessagesRequest["messages"], slicer: Slicer): Promise<TurnLookup[]> {
  const out: TurnLookup[] = [];
  for (const t of lookups(messages)) {
    if (t) out.push(t);
    else await slicer.pause();
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
