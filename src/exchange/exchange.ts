/**
 * One upstream exchange, the same for every face: the call (keys, retries, fallbacks and their
 * dialects: src/upstream/client.ts), the client's side (its leaving aborts the upstream after a
 * bounded drain: client-watch.ts), bounded reading of a whole answer, and settling (what must
 * happen before the answer's last bytes: the reasoning kept, the request charged and committed).
 * A face builds the request body for each target's dialect and encodes the answer; it never
 * deals with retries, timeouts, aborts or bounds.
 */
import type { AppDeps } from "../deps";
import type { RequestContext } from "../http/context";
import { ApiError } from "../http/errors";
import { MalformedUpstream } from "../dialects/malformed";
import { upstreamLogFields, type UpstreamCall, type UpstreamResult } from "../upstream/client";
import { UpstreamError } from "../upstream/errors";
import { readBounded } from "../upstream/read";
import { answerFailure } from "./answer-failure";
import { upstreamLimits } from "../teams/rate-headers";
import { charge } from "./charge";
import { ClientWatch, type DrainPolicy } from "./client-watch";

/** What a face asks of the upstream. */
export interface ExchangeSpec {
  /** Path and body for a target's dialect and model (a fallback's own model, or the routed one when undefined). */
  build: NonNullable<UpstreamCall["build"]>;
  /** The client's own key, forwarded to targets without a key pool. */
  key: string | undefined;
  headers?: Record<string, string>;
  /** The face's wording of an upstream error before the 200 (a 404 names the model and the setting). */
  explain(err: ApiError): ApiError;
  /** An upstream error worth one more try with a changed request (the face changes what `build` gives). */
  retryOnce?(err: UpstreamError): boolean;
  /** The request's input tokens, estimated: what it is charged when the client goes before any usage is known. */
  inputEstimate: number;
}

/** The default drain: read a gone client's upstream for half a second, a mebibyte at most. */
export const DEFAULT_DRAIN: DrainPolicy = { ms: 500, bytes: 1024 * 1024 };

export class Exchange {
  private settlers: Array<() => void | Promise<void>> = [];
  private closed = false;

  private constructor(
    readonly deps: AppDeps,
    readonly rc: RequestContext,
    readonly result: UpstreamResult,
    readonly client: ClientWatch,
  ) {}

  /**
   * Calls the upstream until a 2xx (retries, keys, fallbacks), or throws the face's error.
   * A client gone before the answer came is answered 499 (its log line says so).
   */
  static async open(deps: AppDeps, rc: RequestContext, request: Request, spec: ExchangeSpec): Promise<Exchange> {
    // A client that goes leaves the upstream read on for its usage (the drain), before the answer too.
    const client = new ClientWatch(request, deps.config.resilience.drain ?? DEFAULT_DRAIN);
    const send = () =>
      deps.upstream.send({
        path: "",
        build: spec.build,
        key: spec.key,
        signal: client.abort.signal,
        requestId: rc.id,
        headers: spec.headers,
        trace: rc.trace,
      });
    let result: UpstreamResult;
    try {
      try {
        result = await send();
      } catch (err) {
        if (!(err instanceof UpstreamError) || !spec.retryOnce?.(err)) throw err;
        result = await send();
      }
    } catch (err) {
      client.release();
      if (client.isGone) {
        // Gone before the answer: the upstream had the prompt, and bills it.
        charge(rc, { inputTokens: spec.inputEstimate, outputTokens: 0, cachedTokens: 0, estimated: true });
        rc.finish(499, "client_closed");
      }
      throw err instanceof ApiError ? spec.explain(err) : err;
    }
    Object.assign(rc.entry, upstreamLogFields(result, rc.entry.upstream_model ?? ""));
    // Passed on where no rate limit of the caller's key applies (teams/rate-headers.ts).
    rc.upstreamLimits = upstreamLimits(result.response.headers);
    return new Exchange(deps, rc, result, client);
  }

  /** The dialect of the target that answered. */
  get api(): "chat" | "responses" {
    return this.result.api;
  }

  /** The upstream's answer body, or a 502 when it has none. */
  body(): ReadableStream<Uint8Array> {
    const body = this.result.response.body;
    if (!body) {
      this.close();
      throw new ApiError(502, "the upstream sent an empty response", { type: "api_error" });
    }
    return body;
  }

  /** The whole answer, read with the bound (502 past it; a dropped connection is 502, a timeout 504). */
  async readBytes(): Promise<Uint8Array> {
    try {
      return await readBounded(this.result.response, this.deps.config.maxResponseBytes);
    } catch (err) {
      if (this.client.isGone) throw new ApiError(499, "the client closed the request", { type: "invalid_request_error" });
      if (err instanceof ApiError) throw err;
      throw answerFailure({ kind: "connection", cause: err });
    }
  }

  /** The whole answer as JSON (MalformedUpstream when it is empty or not JSON). */
  async readJson(): Promise<unknown> {
    const text = new TextDecoder().decode(await this.readBytes());
    if (text.trim() === "") throw new MalformedUpstream("the upstream sent an empty response");
    try {
      return JSON.parse(text);
    } catch {
      throw new MalformedUpstream("the upstream sent a response that is not valid JSON");
    }
  }

  /** Something to do before the answer's last bytes go out (keep the reasoning, commit the charge). */
  onSettle(f: () => void | Promise<void>): void {
    this.settlers.push(f);
  }

  /**
   * Runs what must happen before the last bytes (once), then commits the request: its ledger row
   * written and its admission settled, from the charge in its entry (RequestContext.commit), so
   * that an answer the client received is in the ledger whatever becomes of the process.
   */
  settle(): Promise<void> {
    const settlers = this.settlers;
    this.settlers = [];
    let pending: Promise<void> | undefined;
    for (const f of settlers) {
      const r = pending ? pending.then(f) : f();
      if (r instanceof Promise) pending = r;
    }
    return pending ? pending.then(() => this.rc.commit()) : this.rc.commit();
  }

  /**
   * A stream that failed after the 200: the request committed (its ledger row written, its hold
   * given back) before the client hears of it in the stream's error event. Nothing kept for the
   * next turn: a turn cut short is not one the client can send back as it was.
   */
  settleFailure(): Promise<void> {
    this.settlers = [];
    return this.rc.commit();
  }

  /** The exchange is over: timers stopped, listeners removed. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.result.watchdog.stop();
    this.client.release();
  }
}
