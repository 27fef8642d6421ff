/**
 * The worker thread (src/workers/thread.ts) that large requests, uploads, PDFs and the tokenizer
 * use: answers by id, a thread that rests past its idle time is ended and comes back on the next
 * call, a stopped one refuses, and a busy one refuses past its queue.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { WorkerThread } from "../../src/workers/thread";

/** Echoes `n * 2` after `ms` milliseconds. */
const SOURCE = `self.onmessage = (e) => setTimeout(() => self.postMessage({ id: e.data.id, result: e.data.n * 2 }), e.data.ms ?? 0);`;

const threads: Array<WorkerThread<{ n: number; ms?: number }, number>> = [];
afterEach(() => {
  for (const t of threads.splice(0)) t.stop();
});
const make = (maxPending = 64, idleMs?: number) => {
  const t = new WorkerThread<{ n: number; ms?: number }, number>("echo", SOURCE, () => {}, maxPending, idleMs);
  threads.push(t);
  return t;
};

describe("WorkerThread", () => {
  test("answers each call with its own result", async () => {
    const t = make();
    expect(await Promise.all([t.call({ n: 1, ms: 20 }), t.call({ n: 2 }), t.call({ n: 3, ms: 5 })])).toEqual([2, 4, 6]);
  });

  test("with an idle time: ended once it rested that long, started again by the next call", async () => {
    const t = make(64, 400);
    expect(await t.call({ n: 4 })).toBe(8);
    expect(t.started).toBe(true);
    // Work keeps it: a call within the idle time starts the wait again.
    await Bun.sleep(100);
    expect(await t.call({ n: 5 })).toBe(10);
    await Bun.sleep(100);
    expect(t.started).toBe(true);
    await Bun.sleep(800);
    expect(t.started).toBe(false);
    expect(await t.call({ n: 6 })).toBe(12);
    expect(t.started).toBe(true);
  });

  test("without one it stays; busy past its queue or stopped, a call is refused", async () => {
    const t = make(1);
    const first = t.call({ n: 1, ms: 50 });
    await expect(t.call({ n: 2 })).rejects.toThrow("busy");
    expect(await first).toBe(2);
    await Bun.sleep(80);
    expect(t.started).toBe(true);
    t.stop();
    await expect(t.call({ n: 3 })).rejects.toThrow("stopped");
  });
});
