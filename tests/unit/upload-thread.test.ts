/**
 * Large uploads are parsed and hashed on the upload thread (src/files/upload-thread.ts): the file
 * comes back whole with its SHA-256, a refusal comes back as the same ApiError a small upload gets,
 * and past the uploads that may wait for the thread the next is turned away (529), never read on
 * the thread that serves requests.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ApiError } from "../../src/http/errors";
import { MAX_WAITING, UploadThread } from "../../src/files/upload-thread";

const threads: UploadThread[] = [];
afterEach(() => {
  for (const t of threads.splice(0)) t.stop();
});

const BOUNDARY = "test-boundary-1f2e";
const TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const LIMITS = { limit: 10 * 1024 * 1024, why: "([files] max_bytes)", maxExpirySeconds: 7_776_000 };

/** A multipart body holding one file part. */
function multipart(content: Uint8Array, filename: string, type: string): Uint8Array {
  const head = new TextEncoder().encode(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`);
  const tail = new TextEncoder().encode(`\r\n--${BOUNDARY}--\r\n`);
  const out = new Uint8Array(head.byteLength + content.byteLength + tail.byteLength);
  out.set(head, 0);
  out.set(content, head.byteLength);
  out.set(tail, head.byteLength + content.byteLength);
  return out;
}

const text = new TextEncoder().encode(Array.from({ length: 40_000 }, (_, i) => `line ${i}\n`).join(""));
const sha = new Bun.CryptoHasher("sha256").update(text).digest("hex");

describe("the upload thread", () => {
  test("the file back whole, with its SHA-256; a refusal as the ApiError a small upload gets", async () => {
    const t = new UploadThread();
    threads.push(t);
    const up = await t.parse(multipart(text, "notes.txt", "text/plain"), TYPE, LIMITS);
    expect(up).toMatchObject({ filename: "notes.txt", mimeType: "text/plain", sha256: sha, expiresInSeconds: undefined });
    expect(up.bytes).toEqual(text);
    const bad = await t.parse(multipart(text, "notes.pdf", "application/pdf"), TYPE, LIMITS).catch((e) => e);
    expect(bad).toBeInstanceOf(ApiError);
    expect(bad.status).toBe(400);
    expect(bad.message).toContain("file: the content is not application/pdf");
  });

  test(`past ${MAX_WAITING} uploads waiting, the next is turned away with a 529`, async () => {
    const t = new UploadThread();
    threads.push(t);
    const calls = Array.from({ length: MAX_WAITING + 1 }, () => t.parse(multipart(text, "n.txt", "text/plain"), TYPE, LIMITS).catch((e) => e));
    const results = await Promise.all(calls);
    for (const r of results.slice(0, MAX_WAITING)) expect(r.sha256).toBe(sha);
    const last = results[MAX_WAITING];
    expect(last).toBeInstanceOf(ApiError);
    expect(last.status).toBe(529);
    expect(last.type).toBe("overloaded_error");
    // Once they are read, the thread takes uploads again.
    expect((await t.parse(multipart(text, "n.txt", "text/plain"), TYPE, LIMITS)).sha256).toBe(sha);
  });
});
