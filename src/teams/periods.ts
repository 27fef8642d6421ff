/** Budget periods and rate windows, in UTC. Pure. */
import type { BudgetPeriod } from "./keys";

/** When the period containing `now` began (ISO), or undefined for "total". */
export function periodStart(period: BudgetPeriod, now = new Date()): string | undefined {
  if (period === "day") return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())).toISOString();
  if (period === "month") return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
  return undefined;
}

/** When the period containing `now` ends and the budget resets (ISO), or null for "total". */
export function periodEnd(period: BudgetPeriod, now = new Date()): string | null {
  if (period === "day") return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
  if (period === "month") return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
  return null;
}

/** The ids of the current day and month, formatted once per second (they are asked on every request). */
let cached = { second: NaN, day: "", month: "" };

/** A short name of the period containing `now`: "d2026-11-29", "m2026-11", "total". */
export function periodId(period: BudgetPeriod, now = new Date()): string {
  if (period === "total") return "total";
  const second = Math.floor(now.getTime() / 1000);
  if (second !== cached.second) {
    const iso = now.toISOString();
    cached = { second, day: `d${iso.slice(0, 10)}`, month: `m${iso.slice(0, 7)}` };
  }
  return period === "day" ? cached.day : cached.month;
}

/** Seconds the period has left (for a counter's expiry), at least 1; undefined for "total". */
export function periodTtlSeconds(period: BudgetPeriod, now = new Date()): number | undefined {
  const end = periodEnd(period, now);
  return end ? Math.max(1, Math.ceil((Date.parse(end) - now.getTime()) / 1000)) : undefined;
}

/** Rate limits count in fixed one-minute windows. */
export const WINDOW_MS = 60_000;
export const windowOf = (nowMs: number) => Math.floor(nowMs / WINDOW_MS);
/** Whole seconds until the current window ends (retry-after), at least 1. */
export const secondsLeftInWindow = (nowMs: number) => Math.max(1, Math.ceil(((windowOf(nowMs) + 1) * WINDOW_MS - nowMs) / 1000));
