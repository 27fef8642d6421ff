/**
 * A chat-completions stream relayed to an OpenAI client as the upstream sent it
 * (/v1/chat/completions), watched as it passes: its usage chunk (asked for always, see
 * faces/openai-chat/fit.ts; taken out of the stream when the client did not ask for it), its
 * end (`data: [DONE]`), and how much was written, for a stream that ends without usage. Pure.
 */
import { NextAt, type StreamWatch, type WatchedUsage } from "../../exchange/sse-frames";
import { ticksOf } from "../../models/pricing";
import type { ChatUsage } from "./wire";
import { count, isRecord } from "../malformed";
import { toAnthropicUsage } from "../usage";

const DONE = Buffer.from("[DONE]");
const USAGE = Buffer.from('"usage":');
const DELTA = Buffer.from('"delta"');
const enc = new TextEncoder();

/** A chat usage object in the log's terms: input without the cached tokens, output with the reasoning once (xAI's convention). */
export function chatUsageOf(usage: unknown): WatchedUsage {
  if (!isRecord(usage)) return { inputTokens: undefined, outputTokens: undefined, cachedTokens: undefined, costTicks: undefined };
  // An object (isRecord above) whose counts toAnthropicUsage reads through count(), which drops what is not a number.
  const u = toAnthropicUsage(usage as ChatUsage, { input: 0, output: 0 });
  const has = (v: unknown) => count(v, "", false) !== undefined;
  return {
    inputTokens: has(usage.prompt_tokens) ? u.input_tokens : undefined,
    outputTokens: has(usage.completion_tokens) ? u.output_tokens : undefined,
    cachedTokens: isRecord(usage.prompt_tokens_details) && has(usage.prompt_tokens_details.cached_tokens) ? u.cache_read_input_tokens : undefined,
    costTicks: ticksOf(usage),
  };
}

/** The JSON of a frame's `data:` lines, or undefined. */
function frameData(text: string): unknown {
  let data = "";
  for (const line of text.split(/\r?\n/)) if (line.startsWith("data:")) data += (data ? "\n" : "") + line.slice(5).trimStart();
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

/** Where `"usage":{` or `"usage": {` (a usage object, not a word in the text) is at or after `from`, or -1. */
function usageObjectAt(b: Buffer, from: number): number {
  for (let at = b.indexOf(USAGE, from); at !== -1; at = b.indexOf(USAGE, at + 1)) {
    const next = b[at + USAGE.byteLength];
    if (next === 0x7b || (next === 0x20 && b[at + USAGE.byteLength + 1] === 0x7b)) return at;
  }
  return -1;
}
const doneAt = (b: Buffer, from: number) => b.indexOf(DONE, from);
const deltaAt = (b: Buffer, from: number) => b.indexOf(DELTA, from);

export function chatStreamWatch(opts: { clientAskedUsage: boolean }): StreamWatch {
  let complete = false;
  let usage: WatchedUsage | undefined;
  let deltas = 0;
  return {
    frames(b, ends) {
      let changed: Map<number, Uint8Array | null> | null = null;
      // `[DONE]` and a usage object come once a stream: searched for once per read, not per frame.
      const done = new NextAt(b, doneAt);
      const usageAt = new NextAt(b, usageObjectAt);
      const delta = new NextAt(b, deltaAt);
      for (let k = 0, start = 0; k < ends.length; start = ends[k++]!) {
        const end = ends[k]!;
        if (done.within(start, end) && /^data:\s*\[DONE\]\s*$/m.test(b.toString("utf8", start, end))) {
          complete = true;
          continue;
        }
        // About one token per delta chunk (xAI streams token by token): the estimate for a stream cut short.
        if (delta.within(start, end)) deltas++;
        if (!usageAt.within(start, end)) continue;
        const chunk = frameData(b.toString("utf8", start, end));
        if (!isRecord(chunk) || !isRecord(chunk.usage)) continue;
        usage = chatUsageOf(chunk.usage);
        if (opts.clientAskedUsage) continue;
        // Asked for the gateway's accounts only: the client gets the stream it asked for.
        changed ??= new Map();
        if (Array.isArray(chunk.choices) && chunk.choices.length === 0) changed.set(k, null);
        else {
          const { usage: _, ...rest } = chunk;
          changed.set(k, enc.encode(`data: ${JSON.stringify(rest)}\n\n`));
        }
      }
      return changed;
    },
    get complete() {
      return complete;
    },
    get usage() {
      return usage;
    },
    get outputEstimate() {
      return deltas;
    },
  };
}
