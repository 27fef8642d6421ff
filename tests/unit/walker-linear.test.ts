/**
 * The conversation walker and both dialects' request translators take time in proportion to
 * the conversation, however its tool calls are grouped (issue 20 §5): 40,000 calls in one turn
 * once kept the event loop busy for seconds, because each result was looked for in the list
 * of the turn's calls (and each call in the list of the calls before it).
 *
 * Checked without a timed assertion: N calls made in one turn and answered in the next are
 * compared with the same N calls each in a pair of turns of its own — the same blocks, the
 * same bytes. Linear code does the same work for both (the one turn is cheaper: fewer turns);
 * a step quadratic in the calls of a turn makes the one turn ~N/1000 times dearer (≈40× here).
 * The ratio of the two, measured alike, side by side, in CPU time of this process, does not
 * depend on how fast or busy the machine is.
 */
import { describe, expect, test } from "bun:test";
import type { MessagesRequest } from "../../src/anthropic/schema";
import { DEFAULT_CAPS } from "../../src/models/capabilities";
import { chatDialect, responsesDialect } from "../../src/dialects";
import { walkConversation } from "../../src/dialects/prompt";

const N = 40_000;

const use = (i: number) => ({ type: "tool_use" as const, id: `toolu_${i}`, name: "bash", input: { command: "ls" } });
const result = (i: number) => ({ type: "tool_result" as const, tool_use_id: `toolu_${i}`, content: "ok" });

/** One assistant turn with `n` tool calls, then one user turn with their `n` results. */
function oneTurn(n: number): MessagesRequest["messages"] {
  return [
    { role: "user", content: "go" },
    { role: "assistant", content: Array.from({ length: n }, (_, i) => use(i)) },
    { role: "user", content: Array.from({ length: n }, (_, i) => result(i)) },
  ];
}

/** The same `n` calls, each in its own pair of turns. */
function manyTurns(n: number): MessagesRequest["messages"] {
  const messages: MessagesRequest["messages"] = [{ role: "user", content: "go" }];
  for (let i = 0; i < n; i++) messages.push({ role: "assistant", content: [use(i)] }, { role: "user", content: [result(i)] });
  return messages;
}

/** CPU time of this process, ms: other processes on a busy machine do not count in it. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU ms of the fastest of a few runs (after a warm-up run, so the JIT has compiled the code). */
function fastest(run: () => void, times = 3): number {
  run();
  let best = Infinity;
  for (let i = 0; i < times; i++) {
    Bun.gc(true);
    const t0 = cpuMs();
    run();
    best = Math.min(best, cpuMs() - t0);
  }
  return best;
}

/** How much dearer the one turn is than the many, for `translate`. */
function oneTurnOverMany(translate: (messages: MessagesRequest["messages"]) => void): number {
  const one = oneTurn(N);
  const many = manyTurns(N);
  return fastest(() => translate(one)) / Math.max(fastest(() => translate(many)), 0.05);
}

const sink = () => ({
  system() {},
  assistant: (blocks: readonly { type: string; id?: string }[]) => blocks.flatMap((b) => (b.type === "tool_use" ? [b.id!] : [])),
  result() {},
  user() {},
});
const opts = { model: "grok-4", caps: DEFAULT_CAPS, stream: true };

describe(`${N.toLocaleString("en")} tool calls in one turn cost no more than in ${N.toLocaleString("en")} turns`, () => {
  test("walkConversation", () => {
    expect(oneTurnOverMany((messages) => walkConversation(messages, sink() as never))).toBeLessThan(3);
  });
  for (const dialect of [chatDialect, responsesDialect]) {
    test(`${dialect.api} request translation`, () => {
      const calls = (r: ReturnType<typeof dialect.request>) => JSON.stringify(r.body).split('"call_id"').length + JSON.stringify(r.body).split('"tool_call_id"').length;
      // The same conversation either way, every call answered.
      expect(calls(dialect.request({ model: "grok-4", max_tokens: 10, messages: oneTurn(3) }, opts))).toBe(
        calls(dialect.request({ model: "grok-4", max_tokens: 10, messages: manyTurns(3) }, opts)),
      );
      expect(oneTurnOverMany((messages) => dialect.request({ model: "grok-4", max_tokens: 10, messages }, opts))).toBeLessThan(3);
    });
  }
});
