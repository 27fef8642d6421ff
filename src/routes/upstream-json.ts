/**
 * The one reader of a non-streaming upstream body, bounded by `max_response_bytes` (502
 * past it). A 200 whose body is empty, cut short, not JSON, or whose connection drops
 * mid-body is the upstream's fault: MalformedUpstream, which the route answers with 502
 * `api_error` (never a 500).
 */
import { ApiError } from "../http/errors";
import { MalformedUpstream } from "../translate/malformed";
import { answerFailure } from "./answer-failure";
import { readBounded } from "../upstream/read";

export async function readUpstreamJson(res: Response, maxBytes?: number): Promise<unknown> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readBounded(res, maxBytes));
  } catch (err) {
    // An idle or total timeout aborts the read with its own ApiError (504 timeout_error).
    if (err instanceof ApiError) throw err;
    throw answerFailure({ kind: "connection", cause: err });
  }
  if (text.trim() === "") throw new MalformedUpstream("the upstream sent an empty response");
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedUpstream("the upstream sent a response that is not valid JSON");
  }
}
