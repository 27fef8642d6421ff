/**
 * What a request may cost at most, held against its key's budget from admission until it ends
 * (see counters.ts): its input estimate and its output cap at the model's catalog prices. Pure.
 */
import type { Prices } from "../models/lineup";

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
