/**
 * What a request may cost at most, held against its key's budget from admission until it ends
 * (see counters.ts): its input estimate and its output cap at the model's catalog prices. Pure.
 */
import type { Prices } from "../models/lineup";
import { estimateTextTokens, IMAGE_TOKENS } from "../translate/usage";

/** What a face knows of a request before it goes upstream. */
export interface Need {
  /** The input estimate (≈4 characters a token). */
  inputTokens: number;
  /** The request's output cap (`max_tokens`, `max_completion_tokens`, `max_output_tokens`); unset: the model's. */
  maxOutputTokens?: number | null;
}

/** The most a request can cost, and the tokens it holds against a tpm limit meanwhile. */
export interface Bound {
  /** USD ticks; 0 when the model's prices are unknown (then nothing is held, see costBound). */
  ticks: number;
  /** The input estimate: held against tpm until the request's real usage replaces it. */
  tokens: number;
  /** The output cap the bound was priced with, for the 402's advice. */
  maxOutputTokens: number;
}

const whole = (n: unknown): number => (typeof n === "number" && Number.isFinite(n) && n > 0 ? Math.ceil(n) : 0);

/**
 * The bound: input estimate × the prompt price + output cap × the completion price (cached input is
 * cheaper: the bound does not count on it). The cap is the request's, at most the model's `maxOutput`.
 * A model with no known price holds nothing: its requests are only refused once the budget is used up
 * (what was really charged is still added when they end). Server-side tools billed on top (web search)
 * are not in the bound; their cost is added when the request ends.
 */
export function costBound(need: Need, modelMaxOutput: number, prices: Prices | undefined): Bound {
  const tokens = whole(need.inputTokens);
  const asked = whole(need.maxOutputTokens);
  const maxOutputTokens = asked > 0 ? Math.min(asked, modelMaxOutput) : modelMaxOutput;
  const priced = prices?.promptText !== undefined && prices.completionText !== undefined;
  const ticks = priced ? tokens * prices!.promptText! + maxOutputTokens * prices!.completionText! : 0;
  return { ticks: Number.isSafeInteger(ticks) ? ticks : Number.MAX_SAFE_INTEGER, tokens, maxOutputTokens };
}

/** Fields of an OpenAI request whose strings are text the model reads (not ids, URLs or image data). */
const TEXT_FIELDS = new Set(["text", "content", "output", "arguments", "input", "instructions", "description", "refusal"]);
const IMAGE_TYPES = new Set(["image_url", "input_image"]);
const MAX_DEPTH = 12;

/**
 * A rough input estimate of an OpenAI-style request (chat `messages`, `tools`): the text it carries,
 * ≈4 characters a token, an image as IMAGE_TOKENS, a tool's parameters by their JSON. One walk,
 * bounded in depth; never throws on odd shapes.
 */
export function estimateOpenAIInput(...parts: unknown[]): number {
  let chars = 0;
  let images = 0;
  const walk = (v: unknown, depth: number): void => {
    if (depth > MAX_DEPTH || typeof v !== "object" || v === null) return;
    if (Array.isArray(v)) {
      for (const item of v) walk(item, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.type === "string" && IMAGE_TYPES.has(o.type)) {
      images++;
      return;
    }
    for (const k in o) {
      const x = o[k];
      if (typeof x === "string") {
        if (TEXT_FIELDS.has(k) || k === "name") chars += x.length;
      } else if (k === "parameters" && typeof x === "object" && x !== null) {
        chars += jsonLength(x);
      } else walk(x, depth + 1);
    }
  };
  for (const p of parts) {
    if (typeof p === "string") chars += p.length;
    else walk(p, 0);
  }
  return Math.max(1, estimateTextTokens(chars) + images * IMAGE_TOKENS);
}

function jsonLength(v: unknown): number {
  try {
    return JSON.stringify(v).length;
  } catch {
    return 0;
  }
}
