/**
 * Whether the configured upstream speaks xAI's Responses API (`POST /responses`),
 * which `/v1/responses` needs, or only Chat Completions (another OpenAI-compatible
 * server). One small function, to be replaced by the `[upstream] api` setting:
 * `GROK2API_UPSTREAM_API=responses` or `=chat` decides; otherwise ("auto", unset)
 * it is xAI's own hosts, api.x.ai and *.x.ai. Pure: the environment is a parameter.
 */

export type UpstreamApi = "responses" | "chat";

/** The override from the environment, if it names a dialect; anything else is "auto". */
function envChoice(env: Record<string, string | undefined>): UpstreamApi | undefined {
  const v = env.GROK2API_UPSTREAM_API?.trim().toLowerCase();
  return v === "responses" || v === "chat" ? v : undefined;
}

/** xAI's hosts: api.x.ai, and regional or other hosts under .x.ai. */
export function isXaiHost(baseUrl: string): boolean {
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === "api.x.ai" || host.endsWith(".x.ai");
}

export function upstreamSpeaksResponses(
  config: { upstream: { baseUrl: string } },
  env: Record<string, string | undefined> = process.env,
): boolean {
  const chosen = envChoice(env);
  if (chosen) return chosen === "responses";
  return isXaiHost(config.upstream.baseUrl);
}

/** The upstream's host, to name it in an error (never its path, user info or query). */
export function upstreamHost(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return "the configured upstream";
  }
}
