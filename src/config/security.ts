/** Cross-field rules that keep keys from being exposed by accident. */
import { ConfigError, type Config } from "./schema";

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function checkSecurity(c: Config): void {
  if (c.clientKeys.length > 0 && c.upstream.keys.length === 0) {
    throw new ConfigError(
      "client keys are configured (GROK2API_API_KEYS) but no upstream key: set XAI_API_KEY so authenticated clients can be served",
    );
  }
  if (c.admin && c.upstream.keys.length === 0) {
    throw new ConfigError("the admin API is on (GROK2API_ADMIN_TOKEN) but no upstream key: virtual keys need XAI_API_KEY to serve their clients");
  }
  const exposed = exposedKeys(c);
  if (exposed) throw new ConfigError(exposed);
  if (c.metrics.requireClientKey && c.clientKeys.length === 0) {
    throw new ConfigError("metrics.require_client_key = true but no client keys are configured (expected api_keys or GROK2API_API_KEYS)");
  }
}


/**
 * Why `c` would let anyone who reaches `listeningOn` (by default its own host) spend its
 * upstream key: a key and no client keys on an address that is not loopback. Undefined if not.
 * Checked at start-up, and on a reload against the address the server already listens on
 * (a new `host` takes a restart).
 */
export function exposedKeys(c: Config, listeningOn = c.host): string | undefined {
  const anyUpstreamKey = c.upstream.keys.length > 0 || (c.resilience?.fallbacks ?? []).some((f) => (f.keys?.length ?? 0) > 0);
  // With virtual keys on, every request must present a key (static or virtual).
  if (!anyUpstreamKey || c.clientKeys.length > 0 || c.admin || isLoopback(listeningOn)) return undefined;
  return `refusing to listen on ${listeningOn} with an upstream key and no client keys: set GROK2API_API_KEYS, or listen on 127.0.0.1`;
}
