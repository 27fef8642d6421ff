/**
 * What a request cost, in USD ticks (10^10 ticks = 1 USD, xAI's unit: docs.x.ai "Cost Tracking").
 * The upstream's own `usage.cost_in_usd_ticks` when it sent one (what xAI billed, discounts included);
 * otherwise the usage × the catalog's prices, which are ticks per token (see lineup.ts), cached input
 * at the cached price. Integer arithmetic: exact. Pure.
 */
import type { Lineup, Prices } from "./lineup";

export const TICKS_PER_USD = 10_000_000_000;

export interface CostFacts {
  /** Input tokens not read from the upstream's cache. */
  input_tokens?: number;
  /** Input tokens read from the upstream's cache. */
  cached_tokens?: number;
  output_tokens?: number;
  /** The upstream's own figure, when it sent one. */
  cost_ticks?: number;
}

const count = (n: number | undefined) => (typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 0);

/** Ticks, or undefined when neither the upstream nor the prices say. */
export function costTicks(u: CostFacts, prices: Prices | undefined): number | undefined {
  if (typeof u.cost_ticks === "number" && Number.isFinite(u.cost_ticks) && u.cost_ticks >= 0) return u.cost_ticks;
  if (!prices || prices.promptText === undefined || prices.completionText === undefined) return undefined;
  if (u.input_tokens === undefined && u.output_tokens === undefined) return undefined;
  return (
    count(u.input_tokens) * prices.promptText +
    count(u.cached_tokens) * (prices.cachedPromptText ?? prices.promptText) +
    count(u.output_tokens) * prices.completionText
  );
}

/** Ticks as an exact decimal USD string: 5409000 → "0.0005409". */
export function formatUsd(ticks: number): string {
  if (!Number.isSafeInteger(ticks)) return (ticks / TICKS_PER_USD).toFixed(10).replace(/\.?0+$/, "");
  const digits = String(ticks).padStart(11, "0");
  const whole = digits.slice(0, -10);
  const frac = digits.slice(-10).replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : whole;
}

/** A request's cost in ticks, from what its access entry recorded and the upstream model that served it. */
export type Pricer = (model: string | undefined, u: CostFacts) => number | undefined;

/** Prices from the current catalog (read on each call), an alias priced as its model. */
export function createPricer(lineup: () => Lineup | undefined): Pricer {
  return (model, u) => {
    const prices = model ? lineup()?.model(model)?.prices : undefined;
    return costTicks(u, prices);
  };
}

/** `cost_in_usd_ticks` of an upstream usage object (any shape), if it is a number. */
export function ticksOf(usage: unknown): number | undefined {
  const t = (usage as { cost_in_usd_ticks?: unknown } | null | undefined)?.cost_in_usd_ticks;
  return typeof t === "number" && Number.isFinite(t) && t >= 0 ? t : undefined;
}
