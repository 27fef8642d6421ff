/**
 * A chat-completions stream relayed to an OpenAI client as the upstream sent it
 * (/v1/chat/completions), watched as it passes: its usage chunk (asked for always, see
 * faces/openai-chat/fit.ts; taken out of the stream when the client did not ask for it), its
 * end (`data: [DONE]`), and how much was written, for a stream that ends without usage. Pure.
 */
import type { StreamWatch, WatchedUsage } from "../../exchange/sse-frames";
import { ticksOf } from "../../models/pricing";
import type { ChatUsage } from "./wire";
import { count, isRecord } from "../malformed";
import { toAnthropicUsage } from "../usage";

const DONE = Buffer.from("[DONE]");
const USAGE = [Buffer.from('"usage":{'), Buffer.from('"usage": {')];
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
function frameData(frame: Uint8Array): unknown {
  const text = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("utf8");
  let data = "";
  for (const line of text.split(/\r?\n/)) if (line.startsWith("data:")) data += (data ? "\n" : "") + line.slice(5).trimStart();
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}

export function chatStreamWatch(opts: { clientAskedUsage: boolean }): StreamWatch {
  let complete = false;
  let usage: WatchedUsage | undefined;
  let deltas = 0;
  return {
    frame(frame) {
      const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
      if (b.indexOf(DONE) !== -1 && /^data:\s*\[DONE\]\s*$/m.test(b.toString("utf8"))) {
        complete = true;
        return frame;
      }
      // About one token per delta chunk (xAI streams token by token): the estimate for a stream cut short.
      if (b.indexOf(DELTA) !== -1) deltas++;
      if (b.indexOf(USAGE[0]!) === -1 && b.indexOf(USAGE[1]!) === -1) return frame;
      const chunk = frameData(frame);
      if (!isRecord(chunk) || !isRecord(chunk.usage)) return frame;
      usage = chatUsageOf(chunk.usage);
      if (opts.clientAskedUsage) return frame;
      // Asked for the gateway's accounts only: the client gets the stream it asked for.
      if (Array.isArray(chunk.choices) && chunk.choices.length === 0) return null;
      const { usage: _, ...rest } = chunk;
      return enc.encode(`data: ${JSON.stringify(rest)}\n\n`);
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
