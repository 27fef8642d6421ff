/**
 * Client authentication, and whose key goes upstream.
 * - client keys configured: the client must present one; the upstream key comes from the pool;
 * - no client keys, upstream keys configured: anyone on loopback is served with the pool;
 * - neither: the client's own key is forwarded upstream (zero-configuration mode).
 */
import type { KeyPool } from "../upstream/keys";
import { ApiError } from "./errors";

/** The key a client presented: `x-api-key: K` or `Authorization: Bearer K`. */
export function presentedKey(headers: Headers): string | null {
  const x = headers.get("x-api-key");
  if (x && x.trim()) return x.trim();
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m && m[1]!.trim()) return m[1]!.trim();
  }
  return null;
}

const digest = (s: string) => new Bun.CryptoHasher("sha256").update(s).digest();

/** A constant-time check of a presented key against `keys` (compared with every one: no early exit). */
export function createKeyChecker(keys: readonly string[]): (presented: string) => boolean {
  const allowed = keys.map(digest);
  return (presented) => {
    const d = digest(presented);
    let ok = false;
    for (const a of allowed) ok = crypto.timingSafeEqual(a, d) || ok;
    return ok;
  };
}

/** The client's own key to forward upstream, or undefined when the gateway's key pool serves the request. */
export type Authenticator = (headers: Headers) => string | undefined;

export function createAuthenticator(clientKeys: readonly string[], pool: KeyPool): Authenticator {
  const isClientKey = createKeyChecker(clientKeys);
  return (headers) => {
    const presented = presentedKey(headers);
    if (clientKeys.length > 0) {
      if (!presented) throw new ApiError(401, "missing API key: send it as x-api-key or Authorization: Bearer", { retryable: false });
      if (!isClientKey(presented)) throw new ApiError(401, "invalid API key", { retryable: false });
    }
    // The upstream client picks a healthy key from the pool per attempt.
    if (pool.size > 0) return undefined;
    if (!presented) {
      throw new ApiError(401, "missing API key: send your xAI API key as x-api-key or Authorization: Bearer", {
        retryable: false,
      });
    }
    return presented;
  };
}
