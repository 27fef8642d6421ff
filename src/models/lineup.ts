/**
 * The upstream's lineup: the models it serves right now, learned from it (see
 * src/upstream/models.ts), with their aliases, image input and prices. Pure.
 */

/**
 * Prices in USD ticks per token (10^10 ticks = 1 USD). xAI's `GET /v1/language-models` documents its
 * `*_token_price` fields as "USD cents per 100 million tokens" (xAI OpenAPI `LanguageModel`, mirrored by the
 * docs.rs `xai-openapi` crate; its example lists grok-3 at 30000 = $3 per 1M tokens): 1 cent / 10^8 tokens is
 * 10^-10 USD per token, one tick. So a price is the ticks one token costs, the unit of `cost_in_usd_ticks`.
 */
export interface Prices {
  promptText?: number;
  cachedPromptText?: number;
  promptImage?: number;
  completionText?: number;
}

export interface LineupModel {
  id: string;
  /** Other names the upstream serves this model under (`grok-4` → `grok-4.3`). */
  aliases: string[];
  /** Unix seconds; 0 when unknown. */
  created: number;
  owned_by: string;
  /** Accepts image input (from `input_modalities`); undefined when the upstream does not say. */
  vision?: boolean;
  prices?: Prices;
}

export type LineupSource = "language-models" | "models";

export class Lineup {
  private readonly byName = new Map<string, LineupModel>();

  constructor(
    readonly models: readonly LineupModel[],
    /** Which endpoint it came from: xAI's detailed list, or a plain OpenAI-style `/models`. */
    readonly source: LineupSource,
  ) {
    for (const m of models) {
      this.byName.set(m.id.toLowerCase(), m);
      for (const a of m.aliases) if (!this.byName.has(a.toLowerCase())) this.byName.set(a.toLowerCase(), m);
    }
  }

  /** The model served under `name` (its id or one of its aliases), case-insensitively. */
  model(name: string): LineupModel | undefined {
    return this.byName.get(name.toLowerCase());
  }

  serves(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }


  /** The served model ids closest to `name` (edit distance, then shared prefix), best first. */
  closest(name: string, n = 3): string[] {
    const q = name.toLowerCase().slice(0, 100);
    const scored = this.models.map((m) => {
      const best = Math.min(...[m.id, ...m.aliases].map((c) => distance(q, c.toLowerCase())));
      return { id: m.id, score: best };
    });
    scored.sort((a, b) => a.score - b.score || b.id.localeCompare(a.id));
    return scored.slice(0, n).map((s) => s.id);
  }
}

/** Levenshtein distance, O(a·b) with two rows; names are short. */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
