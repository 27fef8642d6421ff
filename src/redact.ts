/**
 * Keeping secrets out of output. A field is secret when its name has a word
 * such as key, secret, token or password in it (`api_keys`, `clientKeys`,
 * `metrics.token`); its string values are replaced by the key's fingerprint,
 * which is enough to tell keys apart and never enough to use one.
 */
import { fingerprint } from "./upstream/keys";

const SECRET_WORDS = new Set(["key", "keys", "apikey", "secret", "secrets", "token", "password", "passwd", "authorization"]);

/** `clientKeys`, `api_keys`, `x-api-key`, `metricsToken` → true; `max_tokens`, `monkey` → false. */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w));
}

/** How a secret string is shown: its fingerprint, or nothing at all when it is empty. */
export const maskSecret = (s: string): string => (s ? `<${fingerprint(s)}>` : "");

/**
 * A copy of `value` with the string values of secret-named fields masked, at
 * any depth: a string right under such a field, or in a list right under it
 * (a tool's JSON schema with an `api_key` property keeps its `type: "string"`).
 */
export function redactSecrets(value: unknown, secret = false): unknown {
  if (typeof value === "string") return secret ? maskSecret(value) : value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, secret));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactSecrets(v, isSecretName(k));
    return out;
  }
  return value;
}

/** Every string found under a secret-named field (same rule as redactSecrets): what the log must never show. */
export function collectSecrets(value: unknown, secret = false, out: string[] = []): string[] {
  if (typeof value === "string") {
    if (secret && value) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectSecrets(v, secret, out);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collectSecrets(v, isSecretName(k), out);
  }
  return out;
}
