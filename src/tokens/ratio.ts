/**
 * Per-model correction of the local token count, learned from the real
 * `prompt_tokens` the upstream reports for requests whose local count is known.
 *
 * The ratio is one of decayed sums, Σreported / Σlocal, pulled toward 1 by a
 * prior: large prompts (where a wrong count hurts) weigh the most, a few small
 * ones cannot swing it, and old observations fade. A model with no observations
 * borrows the ratio pooled over all models.
 */

export interface RatioOptions {
  /** Weight, in tokens, of the prior ratio of 1. */
  prior: number;
  /** Factor applied to the past at each observation. */
  decay: number;
  min: number;
  max: number;
}

export const DEFAULT_RATIO_OPTIONS: RatioOptions = { prior: 1000, decay: 0.9, min: 0.25, max: 4 };

const MAX_MODELS = 256;
const POOLED = "\u0000pooled";

interface Sums {
  reported: number;
  local: number;
}

export class RatioStore {
  private readonly sums = new Map<string, Sums>();

  constructor(private readonly opts: RatioOptions = DEFAULT_RATIO_OPTIONS) {}

  /** Multiply a local count by this to predict the upstream's count for `model`. */
  ratio(model: string): number {
    const s = this.sums.get(model) ?? this.sums.get(POOLED);
    if (!s) return 1;
    const { prior, min, max } = this.opts;
    const r = (s.reported + prior) / (s.local + prior);
    return Math.min(max, Math.max(min, r));
  }

  /** The upstream counted `reported` prompt tokens where the local count was `local`. */
  observe(model: string, local: number, reported: number): void {
    if (!(local > 0) || !(reported > 0) || !Number.isFinite(local) || !Number.isFinite(reported)) return;
    this.add(POOLED, local, reported);
    if (!this.sums.has(model) && this.sums.size > MAX_MODELS) return;
    this.add(model, local, reported);
  }

  private add(key: string, local: number, reported: number): void {
    const s = this.sums.get(key) ?? { reported: 0, local: 0 };
    s.reported = s.reported * this.opts.decay + reported;
    s.local = s.local * this.opts.decay + local;
    this.sums.set(key, s);
  }
}
