/**
 * Large uploads are read on a thread of their own (upload-worker.ts): parsing the multipart
 * body and hashing a file of hundreds of megabytes held the event loop for a quarter of a
 * second or more. The body goes to the thread without a copy (transferred), the file's bytes
 * come back the same way. Past MAX_WAITING uploads waiting for it, the next is turned away
 * (529, overloaded: reading it here would hold the event loop for a quarter of a second); when
 * the thread itself fails, the upload is read here, at once.
 */
import { ApiError, apiErrorFrom, type ApiErrorData } from "../http/errors";
import { bundledWorker } from "../workers/bundle" with { type: "macro" };
import { WorkerThread } from "../workers/thread";
import { parseUpload, type Upload, type UploadLimits } from "./upload";

const SOURCE = bundledWorker("files/upload-worker.ts");

/** An upload taking longer than this ends the thread (it is then read here). */
const TIMEOUT_MS = 60_000;
/** Uploads that may wait for the thread; past it, the next is turned away. */
export const MAX_WAITING = 8;
/** The thread is ended after this long without work (its memory goes back). */
const IDLE_MS = 30_000;

type Outcome = Upload | { refused: ApiErrorData };

export class UploadThread {
  private readonly thread: WorkerThread<{ raw: Uint8Array; contentType: string; limits: UploadLimits }, Outcome>;
  /** The thread's last failure, told already (its pending calls fail with it too). */
  private told: Error | undefined;

  /** `onFailure`: the thread failed (the upload is then read here); told once each. */
  constructor(private readonly onFailure: (err: Error) => void = () => {}) {
    this.thread = new WorkerThread("upload", SOURCE, (err) => onFailure((this.told = err)), MAX_WAITING, IDLE_MS);
  }

  /** parseUpload(raw, contentType, limits), on the thread. `raw` is handed over: it is not to be used after. */
  async parse(raw: Uint8Array, contentType: string, limits: UploadLimits): Promise<Upload> {
    if (this.thread.pendingCount >= MAX_WAITING) {
      throw new ApiError(529, "too many large uploads are being read right now; try again shortly", { type: "overloaded_error" });
    }
    let outcome: Outcome;
    try {
      outcome = await this.thread.call({ raw, contentType, limits }, TIMEOUT_MS, [raw.buffer as ArrayBuffer]); // cast: a body read here is never a SharedArrayBuffer
    } catch (err) {
      if (err !== this.told) this.onFailure(err instanceof Error ? err : new Error(String(err)));
      // The body went to the thread (and with it) unless the call was refused before it was sent.
      if (raw.byteLength === 0) throw new ApiError(503, "the upload could not be read: try again", { type: "api_error" });
      return parseUpload(raw, contentType, limits);
    }
    if ("refused" in outcome) throw apiErrorFrom(outcome.refused);
    return outcome;
  }

  stop(): void {
    this.thread.stop();
  }
}
