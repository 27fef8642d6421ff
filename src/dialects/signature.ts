/**
 * Signatures for thinking blocks we produce. Claude Code drops thinking blocks without
 * one; the prefix lets us recognise ours when they come back.
 *
 * - `grok2api.v1.<sha256>`: chat completions reasoning. Only a hash: chat completions take
 *   no reasoning back, so there is nothing to carry.
 * - `grok2api.r1.<base64url(JSON)>`: a Responses reasoning item. Carries what replay needs,
 *   `{"e": encrypted_content, "i"?: item id}`; the summary is the thinking text itself.
 *   Opaque to clients, versioned so the payload can change.
 *
 * Anything else (Anthropic's own signatures, other gateways') is foreign and never forwarded.
 */
import { isRecord } from "../is-record";

export const SIGNATURE_PREFIX = "grok2api.v1.";
export const REASONING_PREFIX = "grok2api.r1.";

/** One of our signatures, of either kind. */
export function isOurSignature(sig: string | undefined): boolean {
  return typeof sig === "string" && (sig.startsWith(SIGNATURE_PREFIX) || sig.startsWith(REASONING_PREFIX));
}

/** Incremental signer: feed thinking text as it streams, sign at the end. */
export class ThinkingSigner {
  private hash = new Bun.CryptoHasher("sha256");
  update(text: string): void {
    this.hash.update(text);
  }
  sign(): string {
    return SIGNATURE_PREFIX + this.hash.digest("base64url");
  }
}

export function signThinking(text: string): string {
  const s = new ThinkingSigner();
  s.update(text);
  return s.sign();
}

/** What a Responses reasoning item needs to come back: its encrypted content, and its id if it had one. */
export interface CarriedReasoning {
  encryptedContent: string;
  id?: string;
}

export function encodeReasoningSignature(r: CarriedReasoning): string {
  const payload: { e: string; i?: string } = { e: r.encryptedContent };
  if (r.id) payload.i = r.id;
  return REASONING_PREFIX + Buffer.from(JSON.stringify(payload)).toString("base64url");
}

/** The reasoning a signature carries; undefined for foreign, hash-only or damaged ones. */
export function decodeReasoningSignature(sig: string | undefined): CarriedReasoning | undefined {
  if (typeof sig !== "string" || !sig.startsWith(REASONING_PREFIX)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(sig.slice(REASONING_PREFIX.length), "base64url").toString("utf8"));
    if (!isRecord(v)) return undefined;
    const { e, i } = v;
    if (typeof e !== "string" || e.length === 0) return undefined;
    return typeof i === "string" && i ? { encryptedContent: e, id: i } : { encryptedContent: e };
  } catch {
    return undefined;
  }
}
