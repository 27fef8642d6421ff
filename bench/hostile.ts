#!/usr/bin/env bun
/**
 * What hostile requests cost, in-process: each case once a bound or a better algorithm
 * was put on it (issue 15). Prints milliseconds per case; compare with the numbers the
 * probe found before (in brackets).
 *
 *   bun bench/hostile.ts
 */
import { StopSequenceWatcher } from "../src/dialects/stop-sequences";
import { WorkerTokenizer } from "../src/tokens/tokenizer";
import { pdfText } from "../src/documents/pdf";
import { makeRepeatedPagePdf } from "../tests/helpers/pdf";

async function time(label: string, before: string, f: () => unknown): Promise<void> {
  const t0 = performance.now();
  let outcome = "ok";
  try {
    await f();
  } catch (e) {
    outcome = `refused: ${(e as Error).message.slice(0, 60)}`;
  }
  console.log(`${label.padEnd(52)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms  [before: ${before}]  ${outcome}`);
}

await time("100,000 stop sequences, 2,000 chunks of a stream", "10 s", () => {
  const w = new StopSequenceWatcher(Array.from({ length: 100_000 }, (_, i) => `<stop-${i.toString(36)}>`));
  for (let i = 0; i < 2000; i++) w.push("some words <stop no ");
});

const tok = new WorkerTokenizer();
await time("tokenizer: load, then count 11 characters", "~1 s", () => tok.count(["hello world"], 20_000));
await time("tokenizer: 2 MB of one repeated character", "15 s", () => tok.count(["a".repeat(2 * 1024 * 1024)], 20_000));
tok.stop();

await time("PDF listing one page 20,000 times", "60 s", () => pdfText(makeRepeatedPagePdf("Same page", 20_000)));
await time("PDF of 99 pages, 250 lines each (text past the bound)", "a 4.2 MB prompt", () =>
  pdfText(makeRepeatedPagePdf("A".repeat(50), 99, 250)),
);
