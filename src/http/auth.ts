/**
 * Client authentication and the choice of upstream key.
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

export type Authenticator = (headers: Headers) => string;

export function createAuthenticator(clientKeys: readonly string[], pool: KeyPool): Authenticator {
  const allowed = clientKeys.map(digest);
  return (headers) => {
    const presented = presentedKey(headers);
    if (allowed.length > 0) {
      if (!presented) throw new ApiError(401, "missing API key: send it as x-api-key or Authorization: Bearer", { retryable: false });
      const d = digest(presented);
      let ok = false;
      for (const a of allowed) ok = crypto.timingSafeEqual(a, d) || ok; // compare with every key: no early exit
      if (!ok) throw new ApiError(401, "invalid API key", { retryable: false });
    }
    const pooled = pool.pick();
    if (pooled) return pooled;
    if (!presented) {
      throw new ApiError(401, "missing API key: send your xAI API key as x-api-key or Authorization: Bearer", {
        retryable: false,
      });
    }
    return presented;
  };
}
