/**
 * Reading PDFs, one document per worker thread: each thread is ended when its document
 * is read or its time is up, so a hostile PDF can hold a thread only so long and the
 * memory it made pdf.js take is given back. A few documents are read at once; a few
 * more may wait; past that, the request is turned away (overloaded) rather than queued
 * without end.
 */
import { ApiError } from "../http/errors";
import { bundledWorker } from "../workers/bundle" with { type: "macro" };
import { WorkerThread } from "../workers/thread";

const PDF_WORKER = bundledWorker("documents/pdf-worker.ts");

export interface PdfLimits {
  /** More pages than this: refused (Anthropic reads at most 100 pages of a PDF). */
  maxPages: number;
  /** Text longer than this: refused (a small PDF can repeat a page into megabytes of prompt). */
  maxChars: number;
  /** A document taking longer than this: its thread is ended, the document refused. */
  timeoutMs: number;
}

export const DEFAULT_PDF_LIMITS: PdfLimits = { maxPages: 100, maxChars: 1_000_000, timeoutMs: 30_000 };

/** Documents read at once, and documents that may wait for a thread. */
const MAX_THREADS = 2;
const MAX_WAITING = 16;

let running = 0;
const waiting: Array<() => void> = [];

function acquire(): Promise<void> {
  if (running < MAX_THREADS) {
    running++;
    return Promise.resolve();
  }
  if (waiting.length >= MAX_WAITING) {
    return Promise.reject(
      new ApiError(529, "too many PDF documents are being read right now; try again shortly", { type: "overloaded_error" }),
    );
  }
  return new Promise((resolve) => waiting.push(resolve));
}

/** The slot goes straight to the next document waiting, if any. */
function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}

/** Text of every page, pages separated by blank lines. Throws with a reason in plain words (an ApiError when overloaded). */
export async function pdfText(bytes: Uint8Array, limits: PdfLimits = DEFAULT_PDF_LIMITS): Promise<string> {
  await acquire();
  const thread = new WorkerThread<{ bytes: Uint8Array; maxPages: number; maxChars: number }, string>("PDF reader", PDF_WORKER);
  try {
    const copy = bytes.slice(); // handed over to the thread (pdf.js may take over the buffer)
    return await thread.call({ bytes: copy, maxPages: limits.maxPages, maxChars: limits.maxChars }, limits.timeoutMs, [copy.buffer]).catch(
      (err: Error) => {
        throw /took longer than/.test(err.message) ? new Error(`reading it took longer than ${Math.round(limits.timeoutMs / 1000)} s`) : err;
      },
    );
  } finally {
    thread.stop(); // the thread and everything pdf.js allocated go away
    release();
  }
}
