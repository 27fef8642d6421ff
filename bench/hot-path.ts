#!/usr/bin/env bun
/**
 * The per-chunk path of a stream, in-process and without sockets: upstream SSE bytes →
 * chunk decoder → stream translator → Anthropic SSE frames, as src/exchange/pump.ts and
 * src/faces/anthropic/messages.ts drive them. Prints ns per upstream chunk (best of several runs),
 * which moves far less with machine noise than the end-to-end figures of bench/run.ts.
 *
 *   bun bench/hot-path.ts [--chunks 200] [--streams 2000] [--runs 7] [--dialect chat|responses]
 *
 * `--dialect responses` runs the same text as xAI Responses events (`event:` + `data:`, the
 * recorded shapes) through the Responses decoder and translator instead.
 */
import { parseArgs } from "node:util";
import { encodeEvent, type StreamEvent } from "../src/anthropic/events";
import { dialectFor } from "../src/dialects";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    chunks: { type: "string", default: "200" },
    streams: { type: "string", default: "2000" },
    runs: { type: "string", default: "7" },
    warmup: { type: "string", default: "300" },
    dialect: { type: "string", default: "chat" },
  },
});
const DIALECT = dialectFor(values.dialect === "responses" ? "responses" : "chat");
const CHUNKS = Number(values.chunks);
const STREAMS = Number(values.streams);
const RUNS = Number(values.runs);

// The same wire text as bench/fake-upstream.ts sends, one network read per chunk.
const enc = new TextEncoder();
const WORDS = ["The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog. "];
const base = { id: "f0f0f217-c24d-1fee-5fe3-28fa1d3c8c94", object: "chat.completion.chunk", created: 1770772287, model: "grok-3-mini" };
const frames: Uint8Array[] = [];
for (let i = 0; i < CHUNKS; i++) {
  const delta: Record<string, unknown> = { content: WORDS[i % WORDS.length] };
  if (i === 0) delta.role = "assistant";
  frames.push(enc.encode(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta }], system_fingerprint: "fp_2a885414fb" })}\n\n`));
}
frames.push(enc.encode(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], system_fingerprint: "fp_2a885414fb" })}\n\n`));
frames.push(
  enc.encode(
    `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 12, completion_tokens: CHUNKS, total_tokens: 12 + CHUNKS }, system_fingerprint: "fp_2a885414fb" })}\n\n`,
  ),
);
frames.push(enc.encode("data: [DONE]\n\n"));
if (DIALECT.api === "responses") {
  // The same text as Responses events, as bench/fake-upstream.ts sends them on /v1/responses.
  frames.length = 0;
  const RESP = "1c1cae28-e3a2-9687-8eb0-6f07b789a60e";
  const item = `msg_${RESP}`;
  let seq = 0;
  const ev = (o: Record<string, unknown>) => frames.push(enc.encode(`event: ${o.type}\ndata: ${JSON.stringify({ sequence_number: seq++, ...o })}\n\n`));
  const response = (status: string, output: unknown[], usage: unknown) => ({ id: RESP, object: "response", model: "grok-4.3", status, output, usage, store: false, error: null });
  ev({ type: "response.created", response: response("in_progress", [], null) });
  ev({ type: "response.output_item.added", item: { content: [], id: item, role: "assistant", type: "message", status: "in_progress" }, output_index: 0 });
  let text = "";
  for (let i = 0; i < CHUNKS; i++) {
    const w = WORDS[i % WORDS.length]!;
    text += w;
    ev({ type: "response.output_text.delta", content_index: 0, delta: w, item_id: item, output_index: 0, logprobs: [] });
  }
  const done = { content: [{ type: "output_text", text, logprobs: [], annotations: [] }], id: item, role: "assistant", type: "message", status: "completed" };
  ev({ type: "response.output_item.done", item: done, output_index: 0 });
  ev({ type: "response.completed", response: response("completed", [done], { input_tokens: 12, output_tokens: CHUNKS, input_tokens_details: { cached_tokens: 0 } }) });
}

let sink = 0;
/** What messages.ts does with a batch of events: encode them into one write. */
function write(events: StreamEvent[]): void {
  let frames = "";
  for (const e of events) frames += encodeEvent(e);
  sink += frames.length;
}

function oneStream(): void {
  const translator = DIALECT.stream({ id: "msg_bench", model: "grok-3-mini", inputTokensEstimate: 7, thinking: true });
  const decoder = DIALECT.decoder();
  write(translator.start());
  for (const bytes of frames) {
    const events: StreamEvent[] = [];
    for (const item of decoder.push(bytes)) {
      if (item.kind === "chunk") for (const e of translator.push(item.chunk)) events.push(e);
    }
    if (events.length) write(events);
  }
  const rest = decoder.end();
  if (rest.length > 0 && rest[0]!.kind === "error") throw new Error("decoder error");
  write(translator.finish());
}

oneStream();
const bytesPerStream = sink;
for (let i = 0; i < Number(values.warmup); i++) oneStream(); // warm-up: let the JIT settle
const perChunk: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const t0 = Bun.nanoseconds();
  for (let i = 0; i < STREAMS; i++) oneStream();
  perChunk.push((Bun.nanoseconds() - t0) / (STREAMS * frames.length));
}
perChunk.sort((a, b) => a - b);
process.stdout.write(
  `hot path (${DIALECT.api}): ${perChunk[0]!.toFixed(0)} ns per upstream chunk (best of ${RUNS}; median ${perChunk[Math.floor(RUNS / 2)]!.toFixed(0)}), ` +
    `${frames.length} chunks per stream, ${bytesPerStream} characters out per stream\n`,
);
