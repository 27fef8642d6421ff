/**
 * One upstream request, up to good response headers: the fetch with its connect
 * and first-byte timeouts, tied to the caller's signal. A status of 400 or more
 * becomes an UpstreamError carrying the upstream's message; a good Response comes
 * back with a Watchdog that guards the reading of its body (idle and total timeouts).
 */
import type { Resilience } from "../config";
import { clampDelay } from "./backoff";
import type { ConnectWatch } from "./connect";
import { clientClosed, fromNetworkError, fromUpstreamStatus, redirected, timeoutError, UpstreamError } from "./errors";
import { Watchdog } from "./watchdog";

export interface AttemptOptions {
  url: URL;
  key: string;
  /** JSON text (or bytes of it, or a multipart form); POST when given, GET otherwise. */
  payload: string | Uint8Array | Blob | FormData | undefined;
  /** Overrides the method the payload implies (DELETE). */
  method?: string;
  headers: Record<string, string> | undefined;
  /** The caller's signal: the client is gone, or the caller stopped reading. */
  signal: AbortSignal;
  /** The request's total deadline, on the `performance.now()` clock. */
  deadline: number;
  policy: Resilience;
  connect: ConnectWatch;
}

/**
 * From this size a body of bytes goes to fetch as a stream of slices, its length declared (so
 * it is still sent with a Content-Length, not chunked): handed over whole, fetch copies it at
 * once, which held the event loop 15–40 ms for 30 MB.
 */
const STREAMED_BODY_BYTES = 1024 * 1024;
const BODY_SLICE_BYTES = 1024 * 1024;

/** What fetch is given as the body; `length` when it is declared by hand (a stream of slices). */
function asBody(payload: AttemptOptions["payload"]): { init: AttemptOptions["payload"] | ReadableStream<Uint8Array>; length?: number } {
  if (!(payload instanceof Uint8Array) || payload.byteLength < STREAMED_BODY_BYTES) return { init: payload };
  let at = 0;
  // A plain stream (not a byte stream, whose enqueue would take the buffer away from a retry).
  const init = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= payload.byteLength) return controller.close();
      controller.enqueue(payload.subarray(at, at + BODY_SLICE_BYTES));
      at += BODY_SLICE_BYTES;
    },
  });
  return { init, length: payload.byteLength };
}

/** Largest upstream error body read (the message is what matters). */
const MAX_ERROR_BODY = 64 * 1024;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export async function attempt(o: AttemptOptions): Promise<{ response: Response; watchdog: Watchdog }> {
  const { url, policy: p } = o;
  // Everything below aborts this controller, with an UpstreamError as the reason when it is a timeout.
  const ac = new AbortController();
  const onParent = () => ac.abort(o.signal.reason);
  o.signal.addEventListener("abort", onParent, { once: true });

  const firstByte = p.firstByteTimeoutMs > 0 ? p.firstByteTimeoutMs : Infinity;
  const wait = Math.min(firstByte, o.deadline - performance.now());
  const timer =
    wait === Infinity
      ? null
      : setTimeout(() => {
          const what = wait === firstByte ? `no response within ${seconds(firstByte)}` : "the request took longer than the total timeout";
          ac.abort(timeoutError(what));
        }, clampDelay(wait));
  const endWatch = o.connect.watch(url, p.connectTimeoutMs, () =>
    ac.abort(timeoutError(`could not connect to ${url.host} within ${seconds(p.connectTimeoutMs)}`)),
  );

  const body = asBody(o.payload);
  let response: Response;
  try {
    response = await fetch(url, {
      method: o.method ?? (o.payload === undefined ? "GET" : "POST"),
      headers: {
        // JSON, as text or as bytes already serialized; a form sets its own multipart content type (with its boundary).
        ...(o.payload === undefined || o.payload instanceof FormData ? {} : { "content-type": "application/json" }),
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${o.key}`,
        ...o.headers,
        ...(body.length !== undefined ? { "content-length": String(body.length) } : {}),
      },
      body: body.init,
      signal: ac.signal,
      // Bun's own 5-minute socket timer would cut long reasoning silences; ours govern.
      timeout: false,
      // Never follow a redirect: it would re-send the prompt (and our key) to another host.
      redirect: "manual",
    });
    endWatch();
    if (response.status >= 300 && response.status < 400) {
      response.body?.cancel().catch(() => {});
      throw redirected(response.status);
    }
    if (!response.ok) {
      const text = await readSome(response, MAX_ERROR_BODY); // still under the first-byte timer
      throw fromUpstreamStatus(response.status, text, response.headers);
    }
  } catch (err) {
    endWatch();
    o.signal.removeEventListener("abort", onParent);
    if (o.signal.aborted) throw clientClosed();
    if (err instanceof UpstreamError) throw err; // a status, or one of our timeouts
    if (ac.signal.reason instanceof UpstreamError) throw ac.signal.reason;
    throw fromNetworkError(err);
  } finally {
    if (timer) clearTimeout(timer);
  }
  o.connect.alive(url);
  const watchdog = new Watchdog({ idleMs: p.idleTimeoutMs, deadline: o.deadline, abort: (reason) => ac.abort(reason) });
  return { response, watchdog };
}

/** Up to `limit` characters of a body; the rest is not read. */
async function readSome(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch (err) {
    if (err instanceof UpstreamError) throw err; // timed out while reading
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.slice(0, limit);
}
