/**
 * The local tokenizer cannot be jammed: long runs are counted in slices (linear time),
 * a count that takes too long ends the thread and the answer falls back to the estimate,
 * and the queue of waiting counts is bounded.
 */
import { describe, expect, test } from "bun:test";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { countablePieces, MAX_RUN } from "../../src/tokens/pieces";
import { WorkerTokenizer } from "../../src/tokens/tokenizer";
import { TokenCounter, DEFAULT_COUNTER_OPTIONS } from "../../src/tokens/counter";
import { createLogger } from "../../src/http/log";
import { UpstreamClient } from "../../src/upstream/client";
import { RESILIENCE_DEFAULTS } from "../../src/config";
import { closedPort } from "../helpers/fake-upstream";

describe("countablePieces", () => {
  test("ordinary text is one piece", () => {
    const text = "The quick brown fox jumps over the lazy dog. ".repeat(100);
    expect(countablePieces(text)).toEqual([text]);
  });

  test("long runs are sliced; the pieces join back to the text", () => {
    const text = `start ${"a".repeat(1000)} middle ${"🙂".repeat(300)}${"-".repeat(129)} end`;
    const pieces = countablePieces(text);
    expect(pieces.join("")).toBe(text);
    for (const p of pieces) expect(/\S{129,}/.test(p)).toBe(false);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(Math.max(MAX_RUN, "start ".length + 10));
  });

  test("a sliced count stays close to the exact one", () => {
    const text = `${"x".repeat(5000)} and some words`;
    const sliced = countablePieces(text).reduce((n, p) => n + countTokens(p), 0);
    const exact = countTokens(text);
    expect(Math.abs(sliced - exact)).toBeLessThanOrEqual(Math.ceil(text.length / MAX_RUN) + 2);
  });
});

describe("the tokenizer thread", () => {
  test("many texts are handed over packed, and counted exactly as one by one", async () => {
    const tok = new WorkerTokenizer();
    try {
      const texts = Array.from({ length: 9000 }, (_, i) => (i % 97 === 0 ? "" : `text ${i} ${"é".repeat(i % 13)} 🙂 ${i % 3 ? "words and words" : ""}`));
      let oneByOne = 0;
      for (let i = 0; i < texts.length; i += 1000) oneByOne += await tok.count(texts.slice(i, i + 1000), 20_000);
      expect(await tok.count(texts, 20_000)).toBe(oneByOne);
      expect(oneByOne).toBeGreaterThan(9000);
    } finally {
      tok.stop();
    }
  });

  test("2 MB of one repeated character is counted (linear), and the next count is not held up", async () => {
    const tok = new WorkerTokenizer();
    try {
      const big = tok.count(["a".repeat(2 * 1024 * 1024)], 10_000); // quadratic BPE took 15 s here
      const small = tok.count(["hello world"], 20_000);
      expect(await big).toBeGreaterThan(1000);
      expect(await small).toBe(2);
    } finally {
      tok.stop();
    }
  }, 30_000);

  test("the queue is bounded: past it, counts are refused at once", async () => {
    const tok = new WorkerTokenizer();
    try {
      const calls = Array.from({ length: 200 }, () => tok.count(["some text to count"], 20_000).then(
        () => "counted",
        (e: Error) => e.message,
      ));
      const results = await Promise.all(calls);
      expect(results.filter((r) => r === "counted").length).toBeGreaterThan(0);
      expect(results.some((r) => /busy/.test(r))).toBe(true);
      expect(await tok.count(["after"], 20_000)).toBe(1);
    } finally {
      tok.stop();
    }
  }, 30_000);

  test("a count that takes too long ends the thread; the counter answers with its estimate", async () => {
    const port = await closedPort();
    const upstream = new UpstreamClient({ targets: [{ label: "primary", baseUrl: `http://127.0.0.1:${port}/v1`, pool: null }], policy: { ...RESILIENCE_DEFAULTS, maxRetries: 0, fallbacks: [] } });
    const counter = new TokenCounter(createLogger({ file: null, stdout: false, level: "error" }), { ...DEFAULT_COUNTER_OPTIONS, localTimeoutMs: 1, remoteMaxChars: 0 });
    try {
      const req = { model: "grok-4", messages: [{ role: "user" as const, content: "word ".repeat(20_000) }] };
      const counted = await counter.count(req, "grok-4", { upstream, key: "k", signal: new AbortController().signal });
      expect(counted.source).toBe("estimate");
      expect(counted.tokens).toBeGreaterThan(1000);
    } finally {
      counter.stop();
    }
  }, 30_000);
});
