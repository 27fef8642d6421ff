/**
 * Large Messages requests are translated for the upstream on a thread of their own
 * (translation-worker.ts): the conversation walk and the serialization of a body of
 * megabytes took the event loop for a second or more. The request goes to the thread as
 * JSON written in slices (json-sliced.ts), and its upstream body comes back as bytes, sent
 * as they are (PreparedBody). Small requests are translated where they are: that is quicker.
 * When the thread cannot take a request (busy, failed), it is translated here, at once.
 */
import type { MessagesRequest } from "../anthropic/schema";
import { apiErrorFrom, type ApiErrorData } from "../http/errors";
import { stringifySliced } from "../http/json-sliced";
import type { Slicer } from "../http/slicer";
import { dialectFor, type RequestOptions, type TranslatedRequest, type UpstreamApi } from "../dialects";
import { PreparedBody } from "../upstream/prepared";
import { bundledWorker } from "./bundle" with { type: "macro" };
import { WorkerThread } from "./thread";

const SOURCE = bundledWorker("workers/translation-worker.ts");

/** A translation taking longer than this ends the thread (the request is then translated here). */
const TIMEOUT_MS = 60_000;
/** Translations that may wait for the thread; past it, the next is done here. */
const MAX_WAITING = 8;
/** The thread is ended after this long without work (its memory goes back). */
const IDLE_MS = 60_000;

type Outcome =
  | { payload: Uint8Array; model: string; warnings: string[]; replayedReasoning: number; restoredReasoning: number }
  | { refused: ApiErrorData };

export class TranslationThread {
  private readonly thread: WorkerThread<{ parts: Uint8Array[]; api: UpstreamApi; opts: RequestOptions }, Outcome>;
  /** The thread's last failure, told already (its pending calls fail with it too). */
  private told: Error | undefined;

  /** `onFailure`: the thread failed, or could not take a request (then translated here); told once each. */
  constructor(private readonly onFailure: (err: Error) => void = () => {}) {
    this.thread = new WorkerThread("translation", SOURCE, (err) => onFailure((this.told = err)), MAX_WAITING, IDLE_MS);
  }

  /** `dialect.request(req, opts)` of the dialect `api`, its body prepared as bytes. */
  async request(req: MessagesRequest, api: UpstreamApi, opts: RequestOptions, slicer: Slicer): Promise<TranslatedRequest> {
    const parts = await stringifySliced(req, slicer);
    let outcome: Outcome;
    try {
      outcome = await this.thread.call({ parts, api, opts }, TIMEOUT_MS, parts.map((p) => p.buffer as ArrayBuffer));
    } catch (err) {
      if (err !== this.told) this.onFailure(err instanceof Error ? err : new Error(String(err)));
      return dialectFor(api).request(req, opts);
    }
    if ("refused" in outcome) throw apiErrorFrom(outcome.refused);
    return {
      body: new PreparedBody(outcome.model, outcome.payload),
      warnings: outcome.warnings,
      replayedReasoning: outcome.replayedReasoning,
      restoredReasoning: outcome.restoredReasoning,
    };
  }

  stop(): void {
    this.thread.stop();
  }
}
