/**
 * Reading a request body whole (src/http/body.ts): the bytes come back exactly as sent, whether
 * the declared length is kept, exceeded or not given, and a body past the limit is refused.
 */
import { describe, expect, test } from "bun:test";
import { readAllLimited } from "../../src/http/body";

/** A stream of the given chunks; each is a fresh copy. */
function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!.slice());
      else controller.close();
    },
  });
}

/** `n` chunks of `size` bytes, each filled with its own number, and all of them joined. */
function chunked(n: number, size: number): { chunks: Uint8Array[]; whole: Uint8Array } {
  const chunks = Array.from({ length: n }, (_, k) => new Uint8Array(size).fill(k % 251));
  const whole = new Uint8Array(n * size);
  chunks.forEach((c, k) => whole.set(c, k * size));
  return { chunks, whole };
}

describe("readAllLimited", () => {
  const { chunks, whole } = chunked(150, 64 * 1024); // 9.4 MB: joined over more than one turn

  test("no declared length: the chunks joined in order", async () => {
    expect(await readAllLimited(streamOf(chunks), 16 * 1024 * 1024)).toEqual(whole);
  });

  test("the declared length kept: the same bytes, filled in place", async () => {
    expect(await readAllLimited(streamOf(chunks), 16 * 1024 * 1024, { expected: whole.byteLength })).toEqual(whole);
  });

  test("more than declared, or less: still every byte that came, in order", async () => {
    expect(await readAllLimited(streamOf(chunks), 16 * 1024 * 1024, { expected: whole.byteLength - 100_000 })).toEqual(whole);
    expect(await readAllLimited(streamOf(chunks), 16 * 1024 * 1024, { expected: whole.byteLength + 5 })).toEqual(whole);
  });

  test("past the limit: null, declared or not, drained or not", async () => {
    const limit = whole.byteLength - 1;
    expect(await readAllLimited(streamOf(chunks), limit)).toBeNull();
    expect(await readAllLimited(streamOf(chunks), limit, { expected: limit })).toBeNull();
    expect(await readAllLimited(streamOf(chunks), limit, { drainTo: 2 * limit, expected: limit })).toBeNull();
  });

  test("an empty body", async () => {
    expect(await readAllLimited(streamOf([]), 100, { expected: 0 })).toEqual(new Uint8Array(0));
    expect(await readAllLimited(streamOf([]), 100)).toEqual(new Uint8Array(0));
  });
});
