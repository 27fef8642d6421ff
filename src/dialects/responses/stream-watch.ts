/**
 * A Responses API stream relayed to an OpenAI client as the upstream sent it (/v1/responses),
 * watched as it passes: its end (`response.completed` / `response.incomplete`, or
 * `response.failed` / `error`, which the client then has seen), the usage of its final event
 * (read out of that event however long it is: it carries the whole answer), and how much was
 * written, for a stream that ends without usage. Pure.
 */
import type { StreamWatch, WatchedUsage } from "../../exchange/sse-frames";
import { ticksOf } from "../../models/pricing";
import { lastObjectOf } from "../json-object-at";
import { count, isRecord } from "../malformed";

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed", "error"]);
const WITH_USAGE = new Set(["response.completed", "response.incomplete", "response.failed"]);
const EVENT = Buffer.from("event:");
const TYPE = Buffer.from('"type":"');

/** A Responses usage object in the log's terms: input without the cached tokens (output already has the reasoning). */
export function responsesUsageOf(usage: unknown): WatchedUsage {
  if (!isRecord(usage)) return { inputTokens: undefined, outputTokens: undefined, cachedTokens: undefined, costTicks: undefined };
  const input = count(usage.input_tokens, "", false);
  const details = usage.input_tokens_details;
  const cachedRaw = isRecord(details) ? count(details.cached_tokens, "", false) : undefined;
  const cached = cachedRaw !== undefined && input !== undefined && cachedRaw <= input ? cachedRaw : undefined;
  return {
    inputTokens: input === undefined ? undefined : input - (cached ?? 0),
    outputTokens: count(usage.output_tokens, "", false),
    cachedTokens: cached,
    costTicks: ticksOf(usage),
  };
}

/** A frame's event name: its `event:` line, else the `type` its data starts with. */
function eventName(b: Buffer): string {
  const e = b.indexOf(EVENT);
  if (e !== -1 && (e === 0 || b[e - 1] === 0x0a)) {
    const end = b.indexOf(0x0a, e);
    return b.toString("latin1", e + EVENT.byteLength, end === -1 ? b.byteLength : end).trim();
  }
  const t = b.indexOf(TYPE);
  if (t === -1 || t > 64) return "";
  const end = b.indexOf(0x22, t + TYPE.byteLength);
  return end === -1 ? "" : b.toString("latin1", t + TYPE.byteLength, end);
}

const DELTA = Buffer.from(".delta");
/** What String.prototype.trim removes at the end of a latin1 name: spaces, tabs, line ends, no-break spaces. */
const isTrimmed = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;

/**
 * The event name of the frame in [start, end) of a read: read in place when the frame starts with
 * it (xAI's do); `DELTA` for a `….delta` event (nearly all of them), told from its bytes without
 * making a string of its name.
 */
function eventNameAt(b: Buffer, start: number, end: number): string | typeof DELTA {
  if (b.compare(EVENT, 0, EVENT.byteLength, start, Math.min(end, start + EVENT.byteLength)) === 0) {
    const nl = b.indexOf(0x0a, start);
    const from = start + EVENT.byteLength;
    let to = nl === -1 || nl > end ? end : nl;
    while (to > from && isTrimmed(b[to - 1]!)) to--;
    if (to - from >= DELTA.byteLength && b.compare(DELTA, 0, DELTA.byteLength, to - DELTA.byteLength, to) === 0) return DELTA;
    return b.toString("latin1", from, to).trim();
  }
  return eventName(b.subarray(start, end));
}

export function responsesStreamWatch(): StreamWatch {
  let complete = false;
  let usage: WatchedUsage | undefined;
  let deltas = 0;
  return {
    frames(b, ends) {
      for (let k = 0, start = 0; k < ends.length; start = ends[k++]!) {
        const end = ends[k]!;
        const name = eventNameAt(b, start, end);
        if (typeof name !== "string" || name.endsWith(".delta")) deltas++; // about a token each
        else if (TERMINAL.has(name)) {
          complete = true;
          if (WITH_USAGE.has(name)) {
            const found = lastObjectOf(b.toString("utf8", start, end), "usage");
            if (found !== undefined) usage = responsesUsageOf(found);
          }
        }
      }
      return null; // every frame goes as it came
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
