/**
 * Which dialect a client speaks, for the shape of answers and of errors:
 * `/chat/completions` and `/responses` are OpenAI's; `/v1/models` is shared, and a request with
 * `anthropic-version` or `x-api-key` comes from an Anthropic client.
 */

export const isAnthropicClient = (headers: Headers) => headers.has("anthropic-version") || headers.has("x-api-key");

const isModelsPath = (path: string) => /\/models(\/|$)/.test(path);

export function speaksOpenAI(path: string, headers: Headers): boolean {
  if (path.endsWith("/chat/completions") || path.endsWith("/responses")) return true;
  return isModelsPath(path) && !isAnthropicClient(headers);
}
