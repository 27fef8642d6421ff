/**
 * xAI's tokenizer: `POST {base}/tokenize-text` with `{text, model}` answers
 * `{"token_ids":[{token_id, string_token, token_bytes}, …]}`. Only the count is used.
 */
import type { UpstreamClient } from "./client";
import { readJsonBounded } from "./read";

export interface TokenizeCall {
  text: string;
  model: string;
  /** The client's own key, or undefined when the key pool serves. */
  key: string | undefined;
  signal: AbortSignal;
}

export class TokenizeAnswerError extends Error {
  override name = "TokenizeAnswerError";
}

/** Number of tokens the upstream's tokenizer makes of `text`; throws when it cannot say. */
export async function tokenizeRemote(upstream: UpstreamClient, call: TokenizeCall): Promise<number> {
  const res = await upstream.post({
    path: "/tokenize-text",
    body: { text: call.text, model: call.model },
    key: call.key,
    signal: call.signal,
  });
  const body = (await readJsonBounded(res)) as { token_ids?: unknown } | null;
  if (!body || !Array.isArray(body.token_ids)) throw new TokenizeAnswerError("the tokenize-text answer has no token_ids list");
  return body.token_ids.length;
}
