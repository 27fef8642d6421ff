/**
 * Whose a file or a batch is: the virtual key a request was made with, else the key the
 * client presented (by its hash: no secret is stored), else "open" (no key at all: a
 * gateway open on loopback). Another owner asking for it gets a 404, never its content.
 */
import { presentedKey } from "../http/auth";
import type { RequestContext } from "../http/context";

export type Owner = string;

export function ownerOf(headers: Headers, rc: RequestContext | undefined): Owner {
  if (rc?.key) return `key:${rc.key.id}`;
  const presented = presentedKey(headers);
  if (!presented) return "open";
  return `sha256:${new Bun.CryptoHasher("sha256").update(presented).digest("hex").slice(0, 40)}`;
}

/** An owner as shown to an operator (command line, dashboard): the virtual key's name when there is one. */
export function ownerLabel(owner: Owner, keyName: string | null | undefined): string {
  if (keyName) return keyName;
  if (owner.startsWith("key:")) return owner.slice(4);
  if (owner.startsWith("sha256:")) return `key ${owner.slice(7, 15)}…`;
  return owner;
}
