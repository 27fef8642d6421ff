/**
 * Client authentication, and whose key goes upstream.
 * - client keys configured: the client must present one; the upstream key comes from the pool;
 * - no client keys, upstream keys configured: anyone on loopback is served with the pool;
 * - neither: the client's own key is forwarded upstream (zero-configuration mode).
 */
import type { KeyPool } from "../upstream/keys";
import type { RequestContext } from "./context";
import { ApiError } from "./errors";

/** Virtual keys (teams): who a presented secret is, or a 401. */
export interface VirtualKeys {
  identify(secret: string): { id: string; name: string } | Promise<{ id: string; name: string }>;
}

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

/**
 * The client's own key to forward upstream, or undefined when the gateway's key pool serves the request.
 * With virtual keys, the key a request was made with goes on its context (`rc.key`); a key not in
 * memory yet is looked up in the store, hence the promise.
 */
export type Authenticator = (headers: Headers, rc?: RequestContext) => string | undefined | Promise<string | undefined>;

export function createAuthenticator(clientKeys: readonly string[], pool: KeyPool, virtualKeys?: () => VirtualKeys | Promise<VirtualKeys>): Authenticator {
  const isClientKey = createKeyChecker(clientKeys);
  if (virtualKeys) {
    // Virtual keys on: every request presents a key, a static client key or a virtual one; the pool serves it.
    const identify = (vk: VirtualKeys, presented: string, rc: RequestContext | undefined): undefined | Promise<undefined> => {
      const k = vk.identify(presented);
      if (k instanceof Promise) return k.then((v) => void (rc && (rc.key = { id: v.id, name: v.name })));
      if (rc) rc.key = { id: k.id, name: k.name };
      return undefined;
    };
    return (headers, rc) => {
      const presented = presentedKey(headers);
      if (!presented) throw new ApiError(401, "missing API key: send it as x-api-key or Authorization: Bearer", { retryable: false });
      if (clientKeys.length > 0 && isClientKey(presented)) return undefined;
      const vk = virtualKeys();
      return vk instanceof Promise ? vk.then((v) => identify(v, presented, rc)) : identify(vk, presented, rc);
    };
  }
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
