/**
 * Input-token counts for a Messages request, for `count_tokens` and for the
 * estimate in `message_start`.
 * - `measure` (every /v1/messages request): local, synchronous and cheap — a
 *   character-based estimate times a per-model ratio learned from the real
 *   `prompt_tokens`; it never waits for the network or the tokenizer.
 * - `count` (count_tokens): exact from the upstream's tokenizer when it answers in
 *   time; otherwise gpt-tokenizer's count (in a worker thread) times a per-model
 *   ratio learned the same way. The tokenizer starts on the first count; until then
 *   the last few real requests are kept so its ratio can learn from them at once.
 */
import type { MessagesRequest } from "../anthropic/schema";
import type { Logger } from "../http/log";
import type { Slicer } from "../http/slicer";
import { estimateInputTokens, IMAGE_TOKENS } from "../dialects/usage";
import type { UpstreamClient } from "../upstream/client";
import { tokenizeRemote } from "../upstream/tokenize";
import { promptParts, promptPartsSliced, type PromptParts } from "./prompt-parts";
import { RatioStore } from "./ratio";
import { WorkerTokenizer } from "./tokenizer";

type CountableRequest = Pick<MessagesRequest, "system" | "messages" | "tools">;

export interface CounterOptions {
  /** How long to wait for the upstream's tokenizer. */
  remoteTimeoutMs: number;
  /** Longer prompts are counted locally: the upstream's answer would list every token. */
  remoteMaxChars: number;
  /** After a failure, the upstream's tokenizer is left alone this long (per model). */
  remoteBackoffMs: number;
  /**
   * How long a count may keep the local tokenizer thread before the thread is ended and the
   * answer falls back to the character estimate.
   */
  localTimeoutMs: number;
}

export const DEFAULT_COUNTER_OPTIONS: CounterOptions = {
  remoteTimeoutMs: 2500,
  remoteMaxChars: 400_000,
  remoteBackoffMs: 60_000,
  localTimeoutMs: 5_000,
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

export interface CountCall {
  /** Asked first: the upstream's own tokenizer. */
  upstream: UpstreamClient;
  /** The client's own key, or undefined when the key pool serves. */
  key: string | undefined;
  signal: AbortSignal;
}

interface Sample {
  parts: PromptParts;
  model: string;
  reported: number;
}

/** Real requests kept for the tokenizer's ratio until the tokenizer starts. */
const BACKLOG = 4;

/**
 * A prompt estimated past this many tokens teaches the tokenizer's ratio nothing: taking its
 * text apart (on the thread that serves requests) and counting it would cost more than it teaches.
 */
const LEARN_MAX_TOKENS = 100_000;

/** Past this many counts waiting for the thread, a real request teaches nothing. */
const LEARN_MAX_WAITING = 8;

const nonText = (parts: PromptParts) => parts.fixedTokens + parts.images * IMAGE_TOKENS;

export class TokenCounter {
  private readonly tokenizer: WorkerTokenizer;
  /** Ratio for the character estimate (message_start). */
  private readonly charRatios = new RatioStore();
  /** Ratio for the tokenizer's count (count_tokens). */
  private readonly tokenRatios = new RatioStore();
  private readonly remoteDownUntil = new Map<string, number>();
  private backlog: Sample[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly opts: CounterOptions = DEFAULT_COUNTER_OPTIONS,
  ) {
    this.tokenizer = new WorkerTokenizer((err) =>
      logger.warn("local tokenizer unavailable; counting tokens by characters", { error: String(err) }),
    );
  }

  /** `raw`: the character estimate, when the caller has it already. */
  measure(req: CountableRequest, model: string, raw = estimateInputTokens(req)): Measured {
    return {
      estimate: Math.max(1, Math.round(raw * this.charRatios.ratio(model))),
      learn: (reported) => {
        // The upstream's number, not to be trusted: a positive finite count or nothing.
        if (typeof reported !== "number" || !Number.isFinite(reported) || !(reported > 0)) return;
        this.charRatios.observe(model, raw, reported);
        if (raw > LEARN_MAX_TOKENS) return;
        const sample = { parts: promptParts(req), model, reported };
        if (this.tokenizer.started) this.learnTokens(sample);
        else this.backlog = [...this.backlog.slice(1 - BACKLOG), sample];
      },
    };
  }

  /** `slicer`: a large request, taken apart in slices. */
  async count(req: CountableRequest, model: string, call: CountCall, slicer?: Slicer): Promise<Counted> {
    const parts = slicer ? await promptPartsSliced(req, slicer) : promptParts(req);
    if (!this.tokenizer.started) {
      this.tokenizer.start(); // loads while the upstream is asked
      for (const s of this.backlog) this.learnTokens(s);
      this.backlog = [];
    }
    const remote = await this.remoteCount(parts, model, call);
    if (remote !== undefined) return { tokens: remote, source: "upstream" };
    try {
      // The thread answers in order, so what the backlog taught is already in the ratio.
      const text = await this.tokenizer.count(parts.texts, this.opts.localTimeoutMs, slicer);
      return { tokens: Math.max(1, Math.round((text + nonText(parts)) * this.tokenRatios.ratio(model))), source: "estimate" };
    } catch {
      return { tokens: this.measure(req, model).estimate, source: "estimate" };
    }
  }

  stop(): void {
    this.tokenizer.stop();
  }

  private learnTokens(s: Sample): void {
    // Learning is optional: it does not pile up behind a busy thread.
    if (this.tokenizer.waiting >= LEARN_MAX_WAITING) return;
    this.tokenizer.count(s.parts.texts, this.opts.localTimeoutMs).then(
      (text) => this.tokenRatios.observe(s.model, text + nonText(s.parts), s.reported),
      () => {},
    );
  }

  private async remoteCount(parts: PromptParts, model: string, call: CountCall): Promise<number | undefined> {
    const downUntil = this.remoteDownUntil.get(model);
    if (downUntil !== undefined && Date.now() < downUntil) return undefined;
    let chars = 0;
    for (const t of parts.texts) chars += t.length + 1;
    if (chars > this.opts.remoteMaxChars) return undefined;
    try {
      const textTokens = await tokenizeRemote(call.upstream, {
        text: parts.texts.join("\n"),
        model,
        key: call.key,
        signal: AbortSignal.any([call.signal, AbortSignal.timeout(this.opts.remoteTimeoutMs)]),
      });
      this.remoteDownUntil.delete(model);
      return textTokens + nonText(parts);
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
