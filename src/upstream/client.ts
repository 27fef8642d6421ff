/**
 * The upstream client: sends OpenAI-style JSON to the upstream and hands back
 * the Response once its status is good, or throws an ApiError. It knows nothing
 * about Anthropic. Around the single fetch it owns the resilience rules:
 *
 * - keys: round robin over the target's healthy keys; a rejected key (401/403,
 *   xAI's 400 "incorrect API key") leaves the rotation, a 429 rests the key for
 *   its retry-after, and the request moves on to the next key;
 * - retries: connection errors, timeouts, 408, 409, 429 and 5xx are retried with
 *   exponential backoff and jitter (or the upstream's retry-after), within
 *   `maxRetries` and `retryBudgetMs` per target and the request's total timeout;
 * - fallbacks: when the primary is exhausted, each fallback target is tried in order;
 * - timeouts: connect (see connect.ts), first byte (response headers), then idle and
 *   total while the body is read (see watchdog.ts);
 * - aborts: the caller's signal (client gone) aborts the fetch at once.
 *
 * Everything happens before the Response is handed over: nothing has been sent to
 * the client yet, so a retry is always safe.
 */
import type { Resilience } from "../config";
import { ApiError, invalidRequest } from "../http/errors";
import type { Logger } from "../http/log";
import { backoffMs, clampDelay, sleep } from "./backoff";
import { ConnectWatch } from "./connect";
import { fromNetworkError, fromUpstreamStatus, retryAfterHeaders, timeoutError, UpstreamError } from "./errors";
import { fingerprint, type KeyPool } from "./keys";
import { Watchdog } from "./watchdog";

export interface UpstreamTarget {
  /** For the log: "primary", "fallback 1", … */
  label: string;
  baseUrl: string;
  /** The target's keys; null or empty: the client's own key is forwarded (zero-configuration mode). */
  pool: KeyPool | null;
  /** Model to ask this target for instead of the routed one. */
  model?: string;
}

export interface UpstreamCall {
  /** Path under the base URL, e.g. `/chat/completions`. */
  path: string;
  /** JSON body; POST when given, GET otherwise. */
  body?: unknown;
  /** The client's own key, forwarded to targets without a key pool. */
  key?: string;
  /** Aborts the upstream request (client gone, stop sequence hit). */
  signal: AbortSignal;
  headers?: Record<string, string>;
  /** The body to send when a fallback names another model; default: `body` with `model` replaced. */
  bodyFor?: (model: string) => unknown;
  /** For the log. */
  requestId?: string;
}

export interface UpstreamResult {
  response: Response;
  /** The model the upstream was asked for (a fallback may have changed it). */
  model: string | undefined;
  /** Guards the body: idle and total timeouts, keep-alive pings. Stop it when done. */
  watchdog: Watchdog;
  /** Upstream requests made, the successful one included. */
  attempts: number;
  /** Label of the target that answered. */
  target: string;
  /** Fingerprint of the key that was used. */
  keyFingerprint: string | undefined;
}

export interface UpstreamClientOptions {
  targets: UpstreamTarget[];
  policy: Resilience;
  logger?: Logger;
  connect?: ConnectWatch;
}

/** Largest upstream error body read (the message is what matters). */
const MAX_ERROR_BODY = 64 * 1024;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export function clientClosed(): ApiError {
  return new ApiError(499, "the client closed the request", { type: "api_error" });
}

export class UpstreamClient {
  private readonly targets: UpstreamTarget[];
  private readonly policy: Resilience;
  private readonly logger: Logger | undefined;
  private readonly connect: ConnectWatch;

  constructor(opts: UpstreamClientOptions) {
    if (opts.targets.length === 0) throw new Error("UpstreamClient needs at least one target");
    this.targets = opts.targets;
    this.policy = opts.policy;
    this.logger = opts.logger;
    this.connect = opts.connect ?? new ConnectWatch();
  }

  /** Base URL of the primary upstream. */
  get baseUrl(): string {
    return this.targets[0]!.baseUrl;
  }

  /**
   * The Response of a successful call (status 2xx), with retries, keys, fallbacks and the
   * connect / first-byte timeouts. The idle and total timeouts of the body are left to the
   * caller: use `send` and feed its watchdog to have them.
   */
  async post(call: UpstreamCall): Promise<Response> {
    const result = await this.send(call);
    result.watchdog.stop(); // nobody would tell it about the chunks: it would cut a busy stream
    return result.response;
  }

  /** Call the upstream: retries, key rotation and fallbacks, until a 2xx or a final error. */
  async send(call: UpstreamCall): Promise<UpstreamResult> {
    const deadline = this.policy.totalTimeoutMs > 0 ? performance.now() + this.policy.totalTimeoutMs : Infinity;
    const tally = { attempts: 0 };
    let last: UpstreamError | undefined;
    for (let i = 0; i < this.targets.length; i++) {
      const target = this.targets[i]!;
      if (i > 0) {
        if (performance.now() >= deadline) break;
        this.logger?.warn("upstream exhausted, trying fallback", {
          request_id: call.requestId,
          fallback: target.label,
          base_url: target.baseUrl,
          ...(target.model ? { model: target.model } : {}),
          error: last?.message,
        });
      }
      try {
        return await this.tryTarget(target, call, deadline, tally);
      } catch (err) {
        if (call.signal.aborted) throw clientClosed();
        if (!(err instanceof UpstreamError)) throw err;
        last = err;
        if (!fallbackMayHelp(err, usesPool(target))) throw err;
      }
    }
    throw last ?? timeoutError("the request took longer than the total timeout");
  }

  /** All attempts against one target: keys, retries, backoff. */
  private async tryTarget(
    target: UpstreamTarget,
    call: UpstreamCall,
    deadline: number,
    tally: { attempts: number },
  ): Promise<UpstreamResult> {
    const p = this.policy;
    const started = performance.now();
    const pool = usesPool(target) ? target.pool : null;
    const { model, payload } = requestBody(call, target.model);
    const url = new URL(target.baseUrl + call.path);
    const maxTries = p.maxRetries + 1 + (pool?.size ?? 0);
    const mayWait = (ms: number) => {
      const at = performance.now() + ms;
      return at - started <= p.retryBudgetMs && at < deadline;
    };
    let tries = 0;
    let retries = 0;
    let last: UpstreamError | undefined;
    let lastKey: string | undefined;
    for (;;) {
      if (call.signal.aborted) throw clientClosed();
      if (performance.now() >= deadline) throw last ?? timeoutError("the request took longer than the total timeout");
      const key = pool ? pool.pick() : call.key;
      if (!key) {
        if (!pool) throw new ApiError(401, "missing API key: send your xAI API key as x-api-key or Authorization: Bearer", { retryable: false });
        const wait = pool.msUntilCooled();
        if (wait === null) throw keysRejected(pool.size, lastKey, last);
        if (retries >= p.maxRetries || !mayWait(wait)) throw allKeysCooling(pool.size, wait, last);
        await sleep(wait, call.signal).catch(() => {
          throw clientClosed();
        });
        retries++;
        continue;
      }
      if (tries >= maxTries && last) throw last;
      tries++;
      tally.attempts++;
      try {
        const { response, watchdog } = await this.attempt(url, key, payload, call, deadline);
        return {
          response,
          model,
          watchdog,
          attempts: tally.attempts,
          target: target.label,
          keyFingerprint: pool ? pool.fingerprintOf(key) : undefined,
        };
      } catch (err) {
        if (call.signal.aborted) throw clientClosed();
        if (!(err instanceof UpstreamError)) throw err;
        last = err;
        lastKey = key;
        const fields = {
          request_id: call.requestId,
          target: target.label,
          ...(pool ? { key: pool.fingerprintOf(key) } : {}),
          status: err.upstreamStatus,
          error: err.kind === "status" ? err.type : err.kind,
        };
        if (pool && err.badKey) {
          const out = pool.reject(key, p.badKeyQuarantineMs);
          this.logger?.warn(out ? "upstream rejected a key: out of rotation" : "upstream rejected the last usable key", {
            ...fields,
            ...(out ? { for_s: Math.round(p.badKeyQuarantineMs / 1000) } : {}),
            message: redact(err.message, key),
          });
          if (out) continue;
          throw keysRejected(pool.size, key, err);
        }
        if (!err.transient) throw err;
        if (pool && err.upstreamStatus === 429) {
          const rest = err.retryAfterMs ?? backoffMs(retries, p.backoffInitialMs, p.backoffMaxMs);
          pool.coolDown(key, rest);
          this.logger?.info("upstream key rate limited: cooling down", { ...fields, for_ms: Math.round(rest) });
          continue; // the next healthy key, or a wait for the first one to cool
        }
        const delay = err.retryAfterMs ?? backoffMs(retries, p.backoffInitialMs, p.backoffMaxMs);
        if (retries >= p.maxRetries || !mayWait(delay)) throw err;
        this.logger?.info("upstream attempt failed: retrying", { ...fields, retry: retries + 1, delay_ms: Math.round(delay) });
        await sleep(delay, call.signal).catch(() => {
          throw clientClosed();
        });
        retries++;
      }
    }
  }

  /** One fetch, up to good response headers. */
  private async attempt(
    url: URL,
    key: string,
    payload: string | undefined,
    call: UpstreamCall,
    deadline: number,
  ): Promise<{ response: Response; watchdog: Watchdog }> {
    const p = this.policy;
    const ac = new AbortController();
    const parent = call.signal;
    const onParent = () => ac.abort(parent.reason);
    parent.addEventListener("abort", onParent, { once: true });

    const untilDeadline = deadline - performance.now();
    const firstByte = p.firstByteTimeoutMs > 0 ? p.firstByteTimeoutMs : Infinity;
    const wait = Math.min(firstByte, untilDeadline);
    const timer =
      wait === Infinity
        ? null
        : setTimeout(
            () =>
              ac.abort(
                timeoutError(
                  wait === firstByte ? `no response within ${seconds(firstByte)}` : "the request took longer than the total timeout",
                ),
              ),
            clampDelay(wait),
          );
    const endWatch = this.connect.watch(url, p.connectTimeoutMs, () =>
      ac.abort(timeoutError(`could not connect to ${url.host} within ${seconds(p.connectTimeoutMs)}`)),
    );

    let response: Response;
    try {
      response = await fetch(url, {
        method: payload === undefined ? "GET" : "POST",
        headers: {
          ...(payload === undefined ? {} : { "content-type": "application/json" }),
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${key}`,
          ...call.headers,
        },
        body: payload,
        signal: ac.signal,
        // Bun's own 5-minute socket timeout would cut long reasoning silences; ours govern.
        timeout: false,
      });
      endWatch();
      if (!response.ok) {
        const text = await readSome(response, MAX_ERROR_BODY);
        throw fromUpstreamStatus(response.status, text, response.headers);
      }
    } catch (err) {
      endWatch();
      parent.removeEventListener("abort", onParent);
      if (parent.aborted) throw clientClosed();
      if (err instanceof UpstreamError) throw err; // a status, or one of our timeouts
      if (ac.signal.reason instanceof UpstreamError) throw ac.signal.reason;
      throw fromNetworkError(err);
    } finally {
      if (timer) clearTimeout(timer);
    }
    this.connect.alive(url);
    const watchdog = new Watchdog({ idleMs: p.idleTimeoutMs, deadline, abort: (reason) => ac.abort(reason) });
    return { response, watchdog };
  }
}

function usesPool(t: UpstreamTarget): boolean {
  return t.pool !== null && t.pool.size > 0;
}

/** Whether another target could succeed where this one failed. */
function fallbackMayHelp(err: UpstreamError, pooled: boolean): boolean {
  if (err.kind !== "status" || err.transient) return true;
  if (err.badKey) return pooled; // the client's own key is bad: say so, do not spend the operator's
  const s = err.upstreamStatus;
  return s === 402 || s === 404;
}

function requestBody(call: UpstreamCall, model: string | undefined): { model: string | undefined; payload: string | undefined } {
  const routed = typeof (call.body as { model?: unknown } | undefined)?.model === "string" ? (call.body as { model: string }).model : undefined;
  if (call.body === undefined) return { model: routed, payload: undefined };
  let body: unknown = call.body;
  if (model !== undefined && model !== routed) {
    body = call.bodyFor ? call.bodyFor(model) : { ...(call.body as object), model };
  }
  try {
    return { model: model ?? routed, payload: JSON.stringify(body) };
  } catch (err) {
    if (err instanceof RangeError) throw invalidRequest("request body is nested too deeply");
    throw err;
  }
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

function redact(message: string, key: string): string {
  return key.length >= 8 ? message.split(key).join(fingerprint(key)) : message;
}

/**
 * The pool's keys were refused by the upstream. Not the client's fault, so not a 401:
 * a 403 stays a 403 (permission_error), anything else is a 502; a retry will not help.
 */
function keysRejected(size: number, key: string | undefined, last: UpstreamError | undefined): UpstreamError {
  const which = size === 1 ? "the configured upstream key" : `every configured upstream key (${size})`;
  const fp = key ? fingerprint(key) : undefined;
  const detail = last ? `: ${key ? redact(last.message, key) : last.message}` : "";
  const forbidden = last?.upstreamStatus === 403;
  return new UpstreamError(
    forbidden ? 403 : 502,
    `the upstream rejected ${which}${fp ? ` (last tried: ${fp})` : ""}${detail} — check XAI_API_KEY / upstream.api_keys`,
    "status",
    { type: forbidden ? "permission_error" : "api_error", retryable: false, upstreamStatus: last?.upstreamStatus, badKey: true },
  );
}

function allKeysCooling(size: number, waitMs: number, last: UpstreamError | undefined): UpstreamError {
  const message =
    last?.upstreamStatus === 429 ? last.message : `all ${size} upstream key${size === 1 ? " is" : "s are"} rate limited`;
  return new UpstreamError(429, message, "status", {
    headers: retryAfterHeaders(waitMs),
    upstreamStatus: 429,
    retryAfterMs: waitMs,
  });
}
