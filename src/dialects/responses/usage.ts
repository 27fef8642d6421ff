/**
 * xAI Responses usage → Anthropic usage. Unlike chat completions, `output_tokens` already
 * includes the reasoning tokens: it is taken as is, never added to. Cached input is a part
 * of `input_tokens` (when a model reports more cached than input, input is taken as is).
 */
import type { Usage } from "../../anthropic/schema";
import { ticksOf } from "../../models/pricing";
import { count, isRecord, MalformedUpstream } from "../malformed";

export interface ReadUsage {
  usage: Usage;
  /** The prompt tokens the upstream counted (cached included), to learn from. */
  promptTokens: number | undefined;
  /** What the upstream said the request cost (`cost_in_usd_ticks`, 10^10 per USD). */
  costTicks: number | undefined;
}

export function responsesUsage(u: unknown, estimate: { input: number; output: number }, strict = true): ReadUsage {
  if (u === undefined || u === null) {
    return {
      usage: { input_tokens: estimate.input, output_tokens: estimate.output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      promptTokens: undefined,
      costTicks: undefined,
    };
  }
  if (!isRecord(u)) {
    if (strict) throw new MalformedUpstream("the upstream sent a usage that is not an object");
    return responsesUsage(undefined, estimate);
  }
  const input = count(u.input_tokens, "usage.input_tokens", strict);
  const output = count(u.output_tokens, "usage.output_tokens", strict);
  const details = u.input_tokens_details;
  const cachedRaw = isRecord(details) ? count(details.cached_tokens, "usage.input_tokens_details.cached_tokens", strict) : undefined;
  const cached = cachedRaw !== undefined && input !== undefined && cachedRaw <= input ? cachedRaw : 0;
  return {
    usage: {
      input_tokens: input !== undefined ? input - cached : estimate.input,
      output_tokens: output ?? estimate.output,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: cached,
    },
    promptTokens: input,
    costTicks: ticksOf(u),
  };
}
