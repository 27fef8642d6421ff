/**
 * What the chat translators read of the upstream's answers, checked before they read it: a whole
 * completion (JSON) and each stream chunk, by the same rules. A wrong shape throws MalformedUpstream,
 * which the route answers as the upstream's fault (502 `api_error`, or the stream's error event),
 * never a TypeError or a 500. Hand-written checks of the fields read, cheap enough for every chunk. Pure.
 */
import type { ChatChunk, ChatCompletion } from "./wire";
import { upstreamErrorMessage } from "../sse-reader";
import { count, isRecord, MalformedUpstream } from "../malformed";

const TEXT_FIELDS = ["content", "reasoning_content", "reasoning", "refusal"] as const;
const absent = (v: unknown) => v === undefined || v === null;

/** A message or a delta: an object whose text fields are text (or absent). */
function checkTexts(m: unknown, what: string): Record<string, unknown> {
  if (!isRecord(m)) throw new MalformedUpstream(`the upstream sent a ${what} that is not an object`);
  for (const k of TEXT_FIELDS) {
    if (!absent(m[k]) && typeof m[k] !== "string") throw new MalformedUpstream(`the upstream sent a ${what} ${k} that is not text`);
  }
  return m;
}

/** Tool calls: a list of objects, with text ids, names and arguments, and (streamed) numeric indexes. */
function checkToolCalls(calls: unknown, streamed: boolean): void {
  if (absent(calls)) return;
  if (!Array.isArray(calls)) throw new MalformedUpstream("the upstream sent tool_calls that are not a list");
  for (const call of calls) {
    // A streamed fragment may come without `function` (an id alone); a whole call has one.
    if (!isRecord(call) || (streamed ? !absent(call.function) && !isRecord(call.function) : !isRecord(call.function))) {
      throw new MalformedUpstream("the upstream sent a tool call that is not an object");
    }
    if (!absent(call.id) && typeof call.id !== "string") throw new MalformedUpstream("the upstream sent a tool call id that is not text");
    if (streamed && !absent(call.index) && typeof call.index !== "number") {
      throw new MalformedUpstream("the upstream sent a tool call index that is not a number");
    }
    const fn = call.function as Record<string, unknown> | undefined; // checked just above: an object, or absent (no second check per chunk)
    if (fn && !absent(fn.name) && typeof fn.name !== "string") throw new MalformedUpstream("the upstream sent a tool name that is not text");
    if (fn && fn.arguments !== undefined && typeof fn.arguments !== "string" && !(streamed && fn.arguments === null)) {
      throw new MalformedUpstream("the upstream sent tool call arguments that are not text");
    }
  }
}

/**
 * Usage: an object. With `strict` (a whole answer) its counts must be numbers; a stream's counts
 * that are not are dropped later (dialects/usage.ts), since the client already has its text.
 */
function checkUsage(u: unknown, strict: boolean): void {
  if (absent(u)) return;
  if (!isRecord(u)) throw new MalformedUpstream("the upstream sent a usage that is not an object");
  if (!strict) return;
  count(u.prompt_tokens, "usage.prompt_tokens");
  count(u.completion_tokens, "usage.completion_tokens");
  count(u.total_tokens, "usage.total_tokens");
  if (isRecord(u.prompt_tokens_details)) count(u.prompt_tokens_details.cached_tokens, "usage.prompt_tokens_details.cached_tokens");
  if (isRecord(u.completion_tokens_details)) count(u.completion_tokens_details.reasoning_tokens, "usage.completion_tokens_details.reasoning_tokens");
}

/** The first choice, checked to be an object with a text (or absent) finish_reason; undefined when there is none. */
function firstChoice(json: Record<string, unknown>): Record<string, unknown> | undefined {
  if (json.choices !== undefined && !Array.isArray(json.choices)) {
    throw new MalformedUpstream("the upstream sent choices that are not a list");
  }
  const choice = Array.isArray(json.choices) ? json.choices[0] : undefined;
  if (choice === undefined) return undefined;
  if (!isRecord(choice)) throw new MalformedUpstream("the upstream sent a choice that is not an object");
  if (!absent(choice.finish_reason) && typeof choice.finish_reason !== "string") {
    throw new MalformedUpstream("the upstream sent a finish_reason that is not text");
  }
  return choice;
}

/** A parsed chat completion checked for the fields the translation reads. */
export function checkChatCompletion(json: unknown): ChatCompletion {
  if (!isRecord(json)) throw new MalformedUpstream("the upstream sent a response that is not a JSON object");
  // An error object in a 200 (no choices): the upstream failed the answer, as its stream's error event would say.
  const reported = json.choices === undefined ? upstreamErrorMessage(json) : undefined;
  if (reported !== undefined) throw new MalformedUpstream(`the upstream reported an error: ${reported}`);
  const msg = firstChoice(json)?.message;
  if (!absent(msg)) checkToolCalls(checkTexts(msg, "message").tool_calls, false);
  checkUsage(json.usage, true);
  // Sound: every field the translation reads was checked above (the rest of the schema is never read).
  return json as unknown as ChatCompletion;
}

/** A parsed stream chunk checked for the fields the stream translator reads. */
export function checkChatChunk(chunk: unknown): ChatChunk {
  if (!isRecord(chunk)) throw new MalformedUpstream("the upstream sent a stream chunk that is not a JSON object");
  const delta = firstChoice(chunk)?.delta;
  if (!absent(delta)) checkToolCalls(checkTexts(delta, "delta").tool_calls, true);
  checkUsage(chunk.usage, false);
  // Sound: every field the stream translator reads was checked above (the rest of the schema is never read).
  return chunk as unknown as ChatChunk;
}
