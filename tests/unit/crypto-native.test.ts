/** Hashes, signatures and ids made with Bun's native crypto match what node:crypto gives. */
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createAuthenticator } from "../../src/http/auth";
import { randomId } from "../../src/dialects/ids";
import { signThinking, ThinkingSigner } from "../../src/dialects/signature";
import { fingerprint, KeyPool } from "../../src/upstream/keys";

test("thinking signatures are sha256 base64url of the text, fed in pieces or whole", () => {
  const text = "Let me think… about ünïcode and 🙂";
  const expected = "grok2api.v1." + createHash("sha256").update(text).digest("base64url");
  expect(signThinking(text)).toBe(expected);
  const s = new ThinkingSigner();
  for (const piece of ["Let me ", "think… about ", "ünïcode and 🙂"]) s.update(piece);
  expect(s.sign()).toBe(expected);
});

test("key fingerprints are the first 8 hex digits of sha256", () => {
  expect(fingerprint("xai-secret")).toBe("key_" + createHash("sha256").update("xai-secret").digest("hex").slice(0, 8));
});

test("random ids have the prefix, the length and the alphabet", () => {
  const id = randomId("msg_");
  expect(id).toMatch(/^msg_[0-9A-Za-z]{24}$/);
  expect(randomId("msg_")).not.toBe(id);
});

test("client keys are checked against every configured key", () => {
  const auth = createAuthenticator(["client-a", "client-b"], new KeyPool(["xai-up"]));
  // Accepted: the key pool serves the request (no client key goes upstream).
  expect(auth(new Headers({ "x-api-key": "client-b" }))).toBeUndefined();
  expect(auth(new Headers({ authorization: "Bearer client-a" }))).toBeUndefined();
  expect(() => auth(new Headers({ "x-api-key": "client-c" }))).toThrow("invalid API key");
  expect(() => auth(new Headers())).toThrow("missing API key");
});
