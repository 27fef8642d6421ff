/**
 * What the two OpenAI faces (`/v1/chat/completions`, `/v1/responses`) share once their request
 * is routed, admitted and fitted: the exchange (keys, retries, fallbacks, the client's leaving:
 * src/exchange/exchange.ts), then the answer as the upstream sent it — a non-streamed body read
 * with a bound and checked, or a stream relayed frame by frame (src/exchange/relay.ts) and
 * watched by its dialect for the usage it is charged. Each face brings its checks, its wording
 * and its stream watch.
 */
import type { AppDeps } from "../../deps";
import { charge } from "../../exchange/charge";
import { Exchange, type ExchangeSpec } from "../../exchange/exchange";
import { relaySse } from "../../exchange/relay";
import type { StreamWatch, WatchedUsage } from "../../exchange/sse-frames";
import type { RequestContext } from "../../http/context";
import { stringifySliced } from "../../http/json-sliced";
import type { Slicer } from "../../http/slicer";
import { PreparedBody } from "../../upstream/prepared";

/** What an OpenAI face brings to the shared path. */
export interface RelayedFace {
  /** A non-streamed 200 checked (a 502 ApiError when it is not what the face promises), with its usage. */
  check(bytes: Uint8Array): { text: string; usage: WatchedUsage };
  /** A watch for a relayed stream of this face's dialect. */
  watch(): StreamWatch;
  /** The event that tells the client the stream failed: an upstream failure unless a status and code are given. */
  errorEvent(message: string, status?: number, code?: string): Uint8Array;
}

export interface ProxyCall {
  deps: AppDeps;
  request: Request;
  rc: RequestContext;
  stream: boolean;
  /** What was changed in the request, for `grok2api-adjusted-params`. */
  adjusted: string[];
  /** How each target is asked (path and body per dialect), and the face's wording of upstream errors. */
  spec: ExchangeSpec;
  face: RelayedFace;
}

/** A request body of an OpenAI face, fitted: the client's fields, with the upstream model. */
export type ModelBody = Record<string, unknown> & { model: string };

/** A large body written in slices before the call, sent as it is on every attempt (PreparedBody). */
export async function preparedBody(body: ModelBody, slicer: Slicer): Promise<PreparedBody> {
  return new PreparedBody(body.model, new Blob(await stringifySliced(body, slicer)), body);
}

/** Client headers that mean something to xAI and go along. */
const FORWARDED_HEADERS = ["x-grok-conv-id"];

export function forwardedHeaders(request: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const v = request.headers.get(name);
    if (v) out[name] = v;
  }
  return out;
}

/** The usage reported, charged; else the estimate: the input estimate and the output counted so far. */
function chargeWatched(rc: RequestContext, usage: WatchedUsage | undefined, inputEstimate: number, outputEstimate: number): void {
  const reported = usage !== undefined && (usage.inputTokens !== undefined || usage.outputTokens !== undefined);
  charge(rc, {
    inputTokens: usage?.inputTokens ?? inputEstimate,
    outputTokens: usage?.outputTokens ?? outputEstimate,
    cachedTokens: usage?.cachedTokens ?? 0,
    costTicks: usage?.costTicks,
    estimated: !reported,
  });
}

export async function proxyToUpstream(c: ProxyCall): Promise<Response> {
  const { deps, request, rc, spec } = c;
  const ex = await Exchange.open(deps, rc, request, spec);
  const res = ex.result.response;
  const headers: Record<string, string> = {
    "content-type": rc.secrets.text(res.headers.get("content-type") ?? (c.stream ? "text/event-stream" : "application/json")),
  };
  if (c.adjusted.length) headers["grok2api-adjusted-params"] = c.adjusted.join(", ");

  if (!c.stream) {
    let bytes: Uint8Array;
    try {
      bytes = await ex.readBytes();
    } finally {
      ex.close();
    }
    const { text, usage } = c.face.check(bytes);
    chargeWatched(rc, usage, spec.inputEstimate, Math.ceil(bytes.byteLength / 4));
    await ex.settle();
    return new Response(rc.secrets.text(text), { status: res.status, headers: { ...headers, "content-type": "application/json" } });
  }

  const body = ex.body();
  rc.deferred = true;
  rc.endOnShutdown(ex.client.abort); // a shutdown ends the stream with an error event
  const watch = c.face.watch();
  const chargeNow = () => chargeWatched(rc, watch.usage, spec.inputEstimate, watch.outputEstimate);
  const relayed = relaySse(body, {
    client: ex.client,
    watchdog: ex.result.watchdog,
    pingMs: deps.config.resilience.pingIntervalMs,
    watch,
    secrets: rc.secrets,
    errorEvent: (message, status, code) => c.face.errorEvent(rc.secrets.text(message), status, code),
    beforeEnd: () => {
      chargeNow();
      return ex.settle();
    },
    beforeError: () => {
      chargeNow();
      return ex.settleFailure();
    },
    onEnd: ({ status, error }) => {
      chargeNow();
      ex.close();
      rc.finish(status, error);
    },
  });
  return new Response(relayed, { headers: { ...headers, "cache-control": "no-cache", connection: "keep-alive" } });
}
