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
 * - fallbacks: when the primary is exhausted, each fallback target is tried in order,
 *   but for one whose dialect cannot serve the call (`build` refuses it), which is skipped;
 * - timeouts: connect (connect.ts) and first byte (attempt.ts) per attempt, then idle
 *   and total while the body is read (watchdog.ts);
 * - aborts: the caller's signal (client gone) aborts the fetch at once.
 *
 * Everything happens before the Response is handed over: nothing has been sent to
 * the client yet, so a retry is always safe.
 */
import type { Resilience } from "../config";
import { ApiError, invalidRequest } from "../http/errors";
import type { Logger } from "../http/log";
import { recordUpstreamError, recordUpstreamRetry } from "../metrics";
import { attempt } from "./attempt";
import { backoffMs, sleep } from "./backoff";
import { ConnectWatch } from "./connect";
import { PreparedBody } from "./prepared";
import { allKeysCooling, clientClosed, keysRejected, timeoutError, UpstreamError } from "./errors";
import { redact, type KeyPool } from "./keys";
import type { Watchdog } from "./watchdog";
import type { RequestTrace } from "../telemetry/tracing";

export interface UpstreamTarget {
  /** For the log: "primary", "fallback 1", … */
  label: string;
  baseUrl: string;
  /** The target's keys; null or empty: the client's own key is forwarded (zero-configuration mode). */
  pool: KeyPool | null;
  /** Model to ask this target for instead of the routed one. */
  model?: string;
  /** The target's API dialect (resolved: never "auto"); default chat completions. */
  api?: "chat" | "responses";
}

export interface UpstreamCall {
  /** Path under the base URL, e.g. `/chat/completions`. */
  path: string;
  /** JSON body; POST when given, GET otherwise. */
  body?: unknown;
  /** A multipart body instead (a file upload); POST. */
  form?: FormData;
  /** The method, when neither POST with a body nor GET without one (DELETE). */
  method?: "GET" | "POST" | "DELETE";
  /** The client's own key, forwarded to targets without a key pool. */
  key?: string;
  /** Aborts the upstream request (client gone, stop sequence hit). */
  signal: AbortSignal;
  headers?: Record<string, string>;
  /** The body to send when a fallback names another model; default: `body` with `model` replaced. */
  bodyFor?: (model: string) => unknown;
  /**
   * Per-dialect calls: the path and body for a target's API dialect and model (its own, or
   * the routed one when undefined). When given, `path`, `body` and `bodyFor` are not used.
   * A target whose dialect cannot serve the call (web search on chat completions, the Responses
   * API on a chat-only server) is answered `{ refused }`: it is skipped, and the client sees the
   * failure of the targets that were tried — or, when none could be, the first refusal.
   */
  build?: (api: "chat" | "responses", model: string | undefined) => BuiltCall | Refused;
  /** For the log. */
  requestId?: string;
  /** The request's trace: a span per attempt, retries and fallbacks as events. */
  trace?: RequestTrace;
}

export interface BuiltCall {
  path: string;
  body: { model: string };
}

/** What `build` answers for a target that cannot serve the call: why, as the error a client would get. */
export interface Refused {
  refused: ApiError;
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
  /** The API dialect of the target that answered. */
  api: "chat" | "responses";
  /** Fingerprint of the key that was used. */
  keyFingerprint: string | undefined;
}

/** What the access log says about how the upstream answered. */
export function upstreamLogFields(result: UpstreamResult, routedModel: string) {
  return {
    upstream_model: result.model ?? routedModel,
    upstream_attempts: result.attempts,
    ...(result.target !== "primary" ? { upstream_target: result.target } : {}),
    ...(result.keyFingerprint ? { upstream_key: result.keyFingerprint } : {}),
  };
}

export interface UpstreamClientOptions {
  targets: UpstreamTarget[];
  policy: Resilience;
  logger?: Logger;
  connect?: ConnectWatch;
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

  /** Parsed upstream URLs, by text: a target's base URL and an API path (a handful; never changed once made). */
  private readonly urls = new Map<string, URL>();
  private urlOf(text: string): URL {
    let url = this.urls.get(text);
    if (!url) {
      url = new URL(text);
      if (this.urls.size < 64) this.urls.set(text, url);
    }
    return url;
  }

  /** API dialect of the primary upstream. */
  get api(): "chat" | "responses" {
    return this.targets[0]!.api ?? "chat";
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
    let refusal: ApiError | undefined;
    for (let i = 0; i < this.targets.length; i++) {
      const target = this.targets[i]!;
      if (i > 0 && performance.now() >= deadline) break;
      const built = call.build?.(target.api ?? "chat", target.model);
      if (built && "refused" in built) {
        refusal ??= built.refused;
        this.logger?.info("upstream target cannot serve this request: skipped", {
          request_id: call.requestId,
          target: target.label,
          reason: built.refused.message,
        });
        continue;
      }
      if (last) {
        recordUpstreamRetry(call.key ?? "", "fallback");
        call.trace?.event("fallback", { target: target.label, error: last.message.slice(0, 200) });
        this.logger?.warn("upstream exhausted, trying fallback", {
          request_id: call.requestId,
          fallback: target.label,
          base_url: target.baseUrl,
          ...(target.model ? { model: target.model } : {}),
          error: last.message,
        });
      }
      try {
        return await this.tryTarget(target, call, built, deadline, tally);
      } catch (err) {
        if (call.signal.aborted) throw clientClosed();
        if (!(err instanceof UpstreamError)) throw err;
        last = err;
        if (!fallbackMayHelp(err, usesPool(target))) throw err;
      }
    }
    throw last ?? refusal ?? timeoutError("the request took longer than the total timeout");
  }

  /** Whether any target speaks `api` (the primary or a fallback). */
  speaks(api: "chat" | "responses"): boolean {
    return this.targets.some((t) => (t.api ?? "chat") === api);
  }

  /** All attempts against one target: keys, retries, backoff. */
  private async tryTarget(
    target: UpstreamTarget,
    call: UpstreamCall,
    built: BuiltCall | undefined,
    deadline: number,
    tally: { attempts: number },
  ): Promise<UpstreamResult> {
    const p = this.policy;
    const started = performance.now();
    const pool = usesPool(target) ? target.pool : null;
    const api = target.api ?? "chat";
    const { model, payload } = built ? serialize(built.body) : requestBody(call, target.model);
    const url = this.urlOf(target.baseUrl + (built ? built.path : call.path));
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
      const span = call.trace?.attempt({ target: target.label, url: url.href, model, n: tally.attempts });
      try {
        const { response, watchdog } = await attempt({
          url,
          key,
          payload,
          method: call.method,
          headers: span?.traceparent ? { ...call.headers, traceparent: span.traceparent } : call.headers,
          signal: call.signal,
          deadline,
          policy: p,
          connect: this.connect,
        });
        span?.end({ status: response.status });
        return {
          response,
          model,
          watchdog,
          attempts: tally.attempts,
          target: target.label,
          api,
          keyFingerprint: pool ? pool.fingerprintOf(key) : undefined,
        };
      } catch (err) {
        span?.end(err instanceof UpstreamError ? { status: err.upstreamStatus, error: err.kind === "status" ? err.type : err.kind } : { error: "error" });
        if (call.signal.aborted) throw clientClosed();
        if (!(err instanceof UpstreamError)) throw err;
        last = err;
        lastKey = key;
        recordUpstreamError(key, err.kind === "status" ? (err.upstreamStatus ?? err.status) : err.kind);
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
          recordUpstreamRetry(key, "429");
          this.logger?.info("upstream key rate limited: cooling down", { ...fields, for_ms: Math.round(rest) });
          continue; // the next healthy key, or a wait for the first one to cool
        }
        const delay = err.retryAfterMs ?? backoffMs(retries, p.backoffInitialMs, p.backoffMaxMs);
        if (retries >= p.maxRetries || !mayWait(delay)) throw err;
        const reason = err.kind === "status" ? (err.upstreamStatus === 429 ? "429" : `${String(err.upstreamStatus ?? 500)[0]}xx`) : err.kind;
        recordUpstreamRetry(key, reason);
        call.trace?.event("retry", { reason, retry: retries + 1, delay_ms: Math.round(delay) });
        this.logger?.info("upstream attempt failed: retrying", { ...fields, retry: retries + 1, delay_ms: Math.round(delay) });
        await sleep(delay, call.signal).catch(() => {
          throw clientClosed();
        });
        retries++;
      }
    }
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

/** What an attempt sends: JSON text, or bytes serialized before (prepared.ts). */
/** What goes upstream: JSON text, JSON already serialized (a large request's), or a multipart form (an upload). */
export type Payload = string | Uint8Array | Blob | FormData;

function serialize(body: { model: string }): { model: string; payload: Payload } {
  if (body instanceof PreparedBody) return { model: body.model, payload: body.bytes };
  try {
    return { model: body.model, payload: JSON.stringify(body) };
  } catch (err) {
    if (err instanceof RangeError) throw invalidRequest("request body is nested too deeply");
    throw err;
  }
}

function requestBody(call: UpstreamCall, model: string | undefined): { model: string | undefined; payload: Payload | undefined } {
  if (call.form) return { model: undefined, payload: call.form };
  const routed = typeof (call.body as { model?: unknown } | undefined)?.model === "string" ? (call.body as { model: string }).model : undefined;
  if (call.body === undefined) return { model: routed, payload: undefined };
  let body: unknown = call.body;
  if (model !== undefined && model !== routed) {
    const from = body instanceof PreparedBody ? body.source : body;
    body = call.bodyFor ? call.bodyFor(model) : { ...(from as object), model };
  } else if (body instanceof PreparedBody) return { model: body.model, payload: body.bytes };
  try {
    return { model: model ?? routed, payload: JSON.stringify(body) };
  } catch (err) {
    if (err instanceof RangeError) throw invalidRequest("request body is nested too deeply");
    throw err;
  }
}
