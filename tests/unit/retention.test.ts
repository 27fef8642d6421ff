/** What the process keeps after traffic is bounded: the PDF text cache by size, the tokenizer thread ended when idle. */
import { describe, expect, test } from "bun:test";
import { TextCache } from "../../src/documents/cache";
import { WorkerTokenizer } from "../../src/tokens/tokenizer";

describe("TextCache", () => {
  test("bounded by total characters as well as entries, least recently used out first", () => {
    const cache = new TextCache(32, 1000);
    for (let i = 0; i < 10; i++) cache.set(`doc${i}`, "x".repeat(300));
    expect(cache.totalChars).toBeLessThanOrEqual(1000);
    expect(cache.size).toBe(3);
    expect(cache.get("doc9")).toBeDefined();
    expect(cache.get("doc0")).toBeUndefined();
    cache.get("doc7"); // used: stays
    cache.set("doc10", "y".repeat(300));
    expect(cache.get("doc7")).toBeDefined();
    expect(cache.get("doc8")).toBeUndefined();
  });

  test("a text larger than the whole cache is not kept", () => {
    const cache = new TextCache(32, 1000);
    cache.set("small", "s");
    cache.set("huge", "h".repeat(5000));
    expect(cache.get("huge")).toBeUndefined();
    expect(cache.get("small")).toBe("s");
  });

  test("replacing an entry keeps the count right", () => {
    const cache = new TextCache(32, 1000);
    cache.set("a", "x".repeat(600));
    cache.set("a", "x".repeat(100));
    expect(cache.totalChars).toBe(100);
  });
});

test("the tokenizer thread is ended once idle, and starts again on the next count", async () => {
  const tok = new WorkerTokenizer(() => {}, 100);
  try {
    expect(await tok.count(["hello world"], 20_000)).toBe(2);
    expect(tok.started).toBe(true);
    for (let i = 0; i < 100 && tok.started; i++) await Bun.sleep(20);
    expect(tok.started).toBe(false);
    expect(await tok.count(["hello again world"], 20_000)).toBe(3);
  } finally {
    tok.stop();
  }
}, 30_000);
