#!/usr/bin/env bun
/**
 * Translating a request of many consecutive same-role messages: the prompt walker merges
 * them into one turn in one linear pass (it used to concatenate arrays per message, which
 * was quadratic: 160,000 one-line user messages blocked the event loop for 75 s). Measured
 * here, never by a timed assertion in a test (tests/unit/responses-translate.test.ts checks
 * that such a request translates).
 *
 *   bun bench/prompt-merge.ts [--messages 160000]
 */
import { parseArgs } from "node:util";
import type { MessagesRequest } from "../src/anthropic/schema";
import { createCapabilityTable } from "../src/models/capabilities";
import { chatDialect, responsesDialect } from "../src/dialects";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { messages: { type: "string", default: "160000" } } });
const N = Number(values.messages);
const caps = createCapabilityTable().get("grok-4.3");
const req: MessagesRequest = {
  model: "grok-4.3",
  max_tokens: 100,
  messages: Array.from({ length: N }, (_, i) => ({ role: "user" as const, content: `message ${i}` })),
};
for (const d of [chatDialect, responsesDialect]) {
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    d.request(req, { model: "grok-4.3", caps, stream: true });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(`${d.api}: ${N} consecutive user messages translated in ${times[0]!.toFixed(1)} ms (best of 5; median ${times[2]!.toFixed(1)} ms)\n`);
}
