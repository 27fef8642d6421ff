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
    // What JSON.stringify would show (a prepared request body shows its size, not its bytes).
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return redactSecrets(toJSON.call(value), secret);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactSecrets(v, isSecretName(k));
    return out;
  }
  return value;
}

/** A URL's password as written and as decoded (`postgres://user:pa%21ss@…` gives both forms); none when it has none. */
export function urlPasswords(url: string): string[] {
  let raw: string;
  try {
    raw = new URL(url).password;
  } catch {
    return [];
  }
  if (!raw) return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // not valid percent-encoding: only the written form
  }
  return decoded === raw ? [raw] : [raw, decoded];
}

/** `url`, `base_url`, `redisUrl`: a field that holds a URL, which may carry a password. */
const isUrlName = (name: string) => /url$/i.test(name);

/**
 * Every string found under a secret-named field (same rule as redactSecrets), and the password
 * of every URL under a URL-named field (a store or Redis URL): what no log line and no text
 * leaving the gateway may show.
 */
export function collectSecrets(value: unknown, secret = false, out: string[] = [], urlField = false): string[] {
  if (typeof value === "string") {
    if (secret && value) out.push(value);
    if (urlField) out.push(...urlPasswords(value));
  } else if (Array.isArray(value)) {
    for (const v of value) collectSecrets(v, secret, out, urlField);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collectSecrets(v, isSecretName(k), out, isUrlName(k));
  }
  return out;
}

/** No bytes held (one shared empty array: a relayed stream's scrubber holds nothing nearly always). */
const NOTHING = new Uint8Array(0);

/**
 * The secrets no text leaving the gateway may carry (the configured keys and tokens, and a
 * request's own, such as an MCP server's authorization token): error messages, SSE error events,
 * headers, relayed streams. One set per configuration (built with the app, so a reload never
 * changes what a request in flight scrubs); strings shorter than 8 characters are left alone
 * (they would mangle unrelated text and are no credential).
 */
export class Secrets {
  private readonly list: ReadonlyArray<{ secret: string; fp: string; bytes: Uint8Array; fpBytes: Uint8Array }>;

  constructor(secrets: readonly string[]) {
    this.list = [...new Set(secrets)]
      .filter((s) => s.length >= 8)
      // Longest first: a key that contains another is replaced whole.
      .sort((a, b) => b.length - a.length)
      .map((secret) => {
        const fp = maskSecret(secret);
        return { secret, fp, bytes: encoder.encode(secret), fpBytes: encoder.encode(fp) };
      });
  }

  /** These secrets and `more` (a request's own). */
  with(more: readonly string[]): Secrets {
    return more.length ? new Secrets([...this.list.map((s) => s.secret), ...more]) : this;
  }

  /** `text` with every secret replaced by its fingerprint. */
  text(text: string): string {
    for (const { secret, fp } of this.list) if (text.includes(secret)) text = text.replaceAll(secret, fp);
    return text;
  }

  /** Header values scrubbed the same way. */
  headers(headers: Record<string, string>): Record<string, string> {
    if (this.list.length === 0) return headers;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) out[k] = this.text(v);
    return out;
  }

  /**
   * A scrubber for a byte stream relayed as it arrives: each chunk goes out with the
   * secrets replaced; only when a chunk ends with the beginning of a secret are those
   * few bytes held back until the next chunk (or the end) tells whether it is one.
   */
  stream(): { push(chunk: Uint8Array): Uint8Array; end(): Uint8Array } {
    const outbound = this.list;
    let held: Uint8Array = NOTHING;
    const replaceAll = (buf: Buffer): Buffer => {
      for (const s of outbound) {
        let at = buf.indexOf(s.bytes);
        if (at < 0) continue;
        const parts: Buffer[] = [];
        let from = 0;
        while (at >= 0) {
          parts.push(buf.subarray(from, at), Buffer.from(s.fpBytes));
          from = at + s.bytes.byteLength;
          at = buf.indexOf(s.bytes, from);
        }
        parts.push(buf.subarray(from));
        buf = Buffer.concat(parts);
      }
      return buf;
    };
    /** Length of the longest tail of `buf` that is a proper prefix of some secret. */
    const pendingTail = (buf: Buffer): number => {
      let best = 0;
      for (const { bytes } of outbound) {
        for (let n = Math.min(bytes.byteLength - 1, buf.byteLength); n > best; n--) {
          if (buf[buf.byteLength - n] !== bytes[0]) continue;
          if (buf.subarray(buf.byteLength - n).equals(bytes.subarray(0, n))) {
            best = n;
            break;
          }
        }
      }
      return best;
    };
    return {
      push(chunk) {
        if (outbound.length === 0 && held.byteLength === 0) return chunk;
        let buf = held.byteLength ? Buffer.concat([held, chunk]) : chunk instanceof Buffer ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        buf = replaceAll(buf);
        const keep = pendingTail(buf);
        held = keep ? new Uint8Array(buf.subarray(buf.byteLength - keep)) : NOTHING;
        return keep ? buf.subarray(0, buf.byteLength - keep) : buf;
      },
      end() {
        const rest = held;
        held = NOTHING;
        return rest;
      },
    };
  }
}

const encoder = new TextEncoder();

/** No secrets: for code that runs without a configuration (tests of pure pieces). */
export const NO_SECRETS = new Secrets([]);
