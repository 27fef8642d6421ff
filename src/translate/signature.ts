/**
 * Signatures for thinking blocks we produce. Claude Code drops thinking blocks
 * without one; the prefix lets us recognise ours when they come back.
 */

export const SIGNATURE_PREFIX = "grok2api.v1.";

export function isOurSignature(sig: string | undefined): boolean {
  return typeof sig === "string" && sig.startsWith(SIGNATURE_PREFIX);
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
