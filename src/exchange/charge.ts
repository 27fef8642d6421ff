/**
 * What a request is charged, written where everything reads it (the access-log entry: the log
 * line, the metrics, the ledger row): exact when the upstream reported its usage, otherwise an
 * estimate (the input estimate and the output counted so far), marked `estimated`. Never nothing
 * for a request the upstream worked on.
 */
import type { RequestContext } from "../http/context";

export interface Charge {
  /** Input tokens, cached ones not included. */
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  /** What the upstream said it cost (xAI's `cost_in_usd_ticks`), when it did. */
  costTicks?: number;
  /** The upstream did not report usage: these are the gateway's estimates. */
  estimated: boolean;
}

export function charge(rc: RequestContext, c: Charge): void {
  Object.assign(rc.entry, {
    input_tokens: c.inputTokens,
    output_tokens: c.outputTokens,
    cached_tokens: c.cachedTokens,
    cost_ticks: c.costTicks,
    ...(c.estimated ? { estimated: true } : {}),
  });
  if (!c.estimated) delete rc.entry.estimated;
}
