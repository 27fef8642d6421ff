/**
 * Input-token counts for a Messages request, for `count_tokens` and for the
 * estimate in `message_start`.
 * - `count`: exact from the upstream's tokenizer when it answers in time; otherwise
 *   the local tokenizer's count times the ratio learned for the model.
 * - `measure`: local and synchronous (never waits for the network or the tokenizer
 *   to load); its `learn` feeds the real `prompt_tokens` back into the ratio.
 */
import type { MessagesRequest } from "../anthropic/schema";
import type { Logger } from "../http/log";
import { estimateInputTokens, IMAGE_TOKENS } from "../translate/usage";
import type { UpstreamClient } from "../upstream/client";
import { tokenizeRemote } from "../upstream/tokenize";
import { promptParts, type PromptParts } from "./prompt-parts";
import { RatioStore } from "./ratio";
import { LocalTokenizer } from "./tokenizer";

type CountableRequest = Pick<MessagesRequest, "system" | "messages" | "tools">;

export interface CounterOptions {
  /** How long to wait for the upstream's tokenizer. */
  remoteTimeoutMs: number;
  /** Longer prompts are counted locally: the upstream's answer would list every token. */
  remoteMaxChars: number;
  /** After a failure, the upstream's tokenizer is left alone this long (per model). */
  remoteBackoffMs: number;
}

export const DEFAULT_COUNTER_OPTIONS: CounterOptions = {
  remoteTimeoutMs: 2500,
  remoteMaxChars: 400_000,
  remoteBackoffMs: 60_000,
};

export interface Measured {
  /** Estimated input tokens (never 0). */
  estimate: number;
  /** Tell the counter what the upstream really counted for this request. */
  learn(promptTokens: number | undefined): void;
}

export interface Counted {
  tokens: number;
  /** `upstream`: the upstream's own tokenizer; `estimate`: local count × learned ratio. */
  source: "upstream" | "estimate";
}

const noLearning = () => {};

export class TokenCounter {
  private readonly tokenizer: LocalTokenizer;
  private readonly ratios = new RatioStore();
  private readonly remoteDownUntil = new Map<string, number>();

  constructor(
    private readonly upstream: UpstreamClient,
    private readonly logger: Logger,
    private readonly opts: CounterOptions = DEFAULT_COUNTER_OPTIONS,
  ) {
    this.tokenizer = new LocalTokenizer((err) => logger.warn("local tokenizer failed to load", { error: String(err) }));
  }

  /** Local count without correction; the tokenizer must be ready. */
  private localCount(parts: PromptParts): number {
    let n = parts.fixedTokens + parts.images * IMAGE_TOKENS;
    for (const t of parts.texts) n += this.tokenizer.tokens(t);
    return n;
  }

  private corrected(raw: number, model: string): number {
    return Math.max(1, Math.round(raw * this.ratios.ratio(model)));
  }

  measure(req: CountableRequest, model: string): Measured {
    if (!this.tokenizer.ready) {
      void this.tokenizer.load();
      return { estimate: estimateInputTokens(req), learn: noLearning };
    }
    const raw = this.localCount(promptParts(req));
    return {
      estimate: this.corrected(raw, model),
      learn: (promptTokens) => {
        if (promptTokens !== undefined) this.ratios.observe(model, raw, promptTokens);
      },
    };
  }

  async count(req: CountableRequest, model: string, call: { key: string; signal: AbortSignal }): Promise<Counted> {
    const loading = this.tokenizer.load(); // in parallel with the upstream, in case it fails
    const parts = promptParts(req);
    const remote = await this.remoteCount(parts, model, call);
    if (remote !== undefined) return { tokens: remote, source: "upstream" };
    await loading;
    const tokens = this.tokenizer.ready ? this.corrected(this.localCount(parts), model) : estimateInputTokens(req);
    return { tokens, source: "estimate" };
  }

  private async remoteCount(parts: PromptParts, model: string, call: { key: string; signal: AbortSignal }): Promise<number | undefined> {
    const downUntil = this.remoteDownUntil.get(model);
    if (downUntil !== undefined && Date.now() < downUntil) return undefined;
    let chars = 0;
    for (const t of parts.texts) chars += t.length + 1;
    if (chars > this.opts.remoteMaxChars) return undefined;
    try {
      const textTokens = await tokenizeRemote(this.upstream, {
        text: parts.texts.join("\n"),
        model,
        key: call.key,
        signal: AbortSignal.any([call.signal, AbortSignal.timeout(this.opts.remoteTimeoutMs)]),
      });
      this.remoteDownUntil.delete(model);
      return textTokens + parts.fixedTokens + parts.images * IMAGE_TOKENS;
    } catch (err) {
      if (call.signal.aborted) return undefined;
      if (this.remoteDownUntil.size >= 256) this.remoteDownUntil.clear();
      this.remoteDownUntil.set(model, Date.now() + this.opts.remoteBackoffMs);
      this.logger.warn("upstream tokenizer unavailable; counting tokens locally", {
        model,
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }
  }
}
