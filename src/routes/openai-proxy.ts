/**
 * What the two OpenAI faces (`/v1/chat/completions`, `/v1/responses`) share once their
 * request is fitted for the upstream: the call (keys, retries, fallbacks, the client's
 * disconnect), then the answer as the upstream sent it — a non-streamed body read with a
 * bound and checked, or a stream relayed as it arrives — with the usage and cost for the
 * access log. Each face brings its own checks, error wording and stream rules.
 */
import type { AppDeps } from "../deps";
import { abortWhenClientGoes } from "../http/client-gone";
import type { RequestContext } from "../http/context";
import { ApiError, networkErrorText } from "../http/errors";
import { stringifySliced } from "../http/json-sliced";
import type { Slicer } from "../http/slicer";
import { scrubText } from "../redact";
import { upstreamLogFields, type UpstreamResult } from "../upstream/client";
import { PreparedBody } from "../upstream/prepared";
import { readBounded } from "../upstream/read";
import { relaySse, type RelayOptions } from "./relay";

/** Token counts and cost for the access log (input without the cached tokens, as on /v1/messages). */
export interface LoggedUsage {
  input_tokens?: number;
  output_tokens?: number;
  cached_tokens?: number;
  cost_ticks?: number;
}

export interface ProxyCall {
  deps: AppDeps;
  request: Request;
  rc: RequestContext;
  /** The client's own key, forwarded to targets without a key pool. */
  key: string | undefined;
  /** Path under the upstream's base URL. */
  path: string;
  body: unknown;
  stream: boolean;
  /** What was changed in the request, for `grok2api-adjusted-params`. */
  adjusted: string[];
  /** The upstream's error, worded for this face (a 404 names the model and what to change). */
  explain(err: ApiError): ApiError;
  /** A non-streamed 200 checked (a 502 ApiError when it is not what the face promises), with its usage. */
  check(bytes: Uint8Array): { text: string } & LoggedUsage;
  /** The usage of a relayed stream, from the text of its last reads. */
  usageOfStream(lastText: string): LoggedUsage;
  /** How the relay tells a stream is complete, and the event that says it failed (default: chat's). */
  relay?: Pick<RelayOptions, "completion" | "errorEvent">;
  /** Set for a large request: its body is written in slices before the call, not all at once by the client. */
  slicer?: Slicer;
}

/** A large body written in slices, sent as it is (PreparedBody). */
async function prepared(body: unknown, slicer: Slicer): Promise<PreparedBody> {
  const source = body as Record<string, unknown>;
  return new PreparedBody(String(source.model), new Blob(await stringifySliced(body, slicer)), source);
}

/** Client headers that mean something to xAI and go along. */
const FORWARDED_HEADERS = ["x-grok-conv-id"];

function forwardedHeaders(request: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const v = request.headers.get(name);
    if (v) out[name] = v;
  }
  return out;
}

export async function proxyToUpstream(c: ProxyCall): Promise<Response> {
  const { deps, request, rc } = c;
  const body = c.slicer ? await prepared(c.body, c.slicer) : c.body;
  const { abort, release: done } = abortWhenClientGoes(request);

  let result: UpstreamResult;
  try {
    result = await deps.upstream.send({
      path: c.path,
      body,
      key: c.key,
      signal: abort.signal,
      headers: forwardedHeaders(request),
      requestId: rc.id,
    });
  } catch (err) {
    done();
    throw err instanceof ApiError ? c.explain(err) : err;
  }
  const { response: res, watchdog } = result;
  Object.assign(rc.entry, upstreamLogFields(result, rc.entry.upstream_model ?? ""));

  const headers: Record<string, string> = {
    "content-type": scrubText(res.headers.get("content-type") ?? (c.stream ? "text/event-stream" : "application/json")),
  };
  if (c.adjusted.length) headers["grok2api-adjusted-params"] = c.adjusted.join(", ");

  if (!c.stream) {
    let bytes: Uint8Array;
    try {
      bytes = await readBounded(res, deps.config.maxResponseBytes);
    } catch (err) {
      if (request.signal.aborted) throw new ApiError(499, "the client closed the request", { type: "invalid_request_error" });
      if (err instanceof ApiError) throw err;
      throw new ApiError(502, `the upstream connection failed: ${networkErrorText(err)}`, { type: "api_error" });
    } finally {
      watchdog.stop();
      done();
    }
    const { text, ...usage } = c.check(bytes);
    Object.assign(rc.entry, usage);
    return new Response(scrubText(text), { status: res.status, headers: { ...headers, "content-type": "application/json" } });
  }

  if (!res.body) {
    watchdog.stop();
    done();
    throw new ApiError(502, "the upstream sent an empty response", { type: "api_error" });
  }
  rc.deferred = true;
  rc.endOnShutdown(abort); // a shutdown ends the stream with an error event
  const relayed = relaySse(res.body, {
    abort,
    watchdog,
    pingMs: deps.config.resilience.pingIntervalMs,
    ...c.relay,
    onEnd: ({ status, error, lastText }) => {
      if (lastText) Object.assign(rc.entry, c.usageOfStream(lastText));
      done();
      rc.finish(status, error);
    },
  });
  return new Response(relayed, { headers: { ...headers, "cache-control": "no-cache", connection: "keep-alive" } });
}
