/**
 * The upstream client: POSTs OpenAI-style JSON to the upstream and hands back the
 * Response, or throws an ApiError. It knows nothing about Anthropic.
 */
import { recordUpstreamError } from "../metrics";
import { fromNetworkError, fromUpstreamStatus } from "./errors";

export interface UpstreamCall {
  /** Path under the base URL, e.g. `/chat/completions`. */
  path: string;
  body: unknown;
  /** Bearer key for the upstream. */
  key: string;
  /** Aborts the upstream request (client gone, stop sequence hit, timeout). */
  signal: AbortSignal;
  headers?: Record<string, string>;
}

export class UpstreamClient {
  constructor(readonly baseUrl: string) {}

  async post(call: UpstreamCall): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + call.path, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${call.key}`,
          ...call.headers,
        },
        body: JSON.stringify(call.body),
        signal: call.signal,
      });
    } catch (err) {
      if (call.signal.aborted) throw err;
      recordUpstreamError(call.key, "network");
      throw fromNetworkError(err);
    }
    if (!res.ok) {
      recordUpstreamError(call.key, res.status);
      const text = await res.text().catch(() => "");
      throw fromUpstreamStatus(res.status, text, res.headers);
    }
    return res;
  }

  /** GET a JSON resource under the base URL (e.g. `/models`); errors as for `post`. */
  async get(call: Omit<UpstreamCall, "body">): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + call.path, {
        headers: { accept: "application/json", authorization: `Bearer ${call.key}`, ...call.headers },
        signal: call.signal,
      });
    } catch (err) {
      if (call.signal.aborted) throw err;
      throw fromNetworkError(err);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      throw fromUpstreamStatus(res.status, text, res.headers);
    }
    return res;
  }
}
