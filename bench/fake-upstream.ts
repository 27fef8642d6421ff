/**
 * A fast fake xAI for the benchmark: `POST /v1/chat/completions` on 127.0.0.1,
 * answering in xAI's wire format from bytes prepared once at start-up, so that it
 * is never the bottleneck. Not used by the tests (see tests/helpers/fake-upstream.ts).
 *
 *   bun bench/fake-upstream.ts [--port N] [--chunks N] [--batch N] [--gap-ms N]
 *
 * Prints `ready <port>` on stdout once listening. The answer depends on the body:
 * - `"stream":true` → an SSE stream of --chunks text chunks (default 200), then a
 *   finish chunk, xAI's usage chunk (empty choices) and `data: [DONE]`; written
 *   --batch chunks per write (default 1: chunk by chunk, as xAI sends them);
 * - model `bench-idle` (streaming) → the first chunk, then nothing until the client
 *   goes away (the 1000-idle-streams scenario);
 * - model `bench-paced` (streaming) → the same stream, one chunk every --gap-ms (default 2),
 *   as a real model produces tokens;
 * - otherwise → a small non-streaming completion.
 * `POST /v1/responses` answers the same way in xAI's Responses format (as recorded from
 * api.x.ai): `event:` + `data:` per event, contiguous sequence_number, no `[DONE]`; a
 * stream of --chunks `response.output_text.delta` events, or a small response object.
 * `GET /__last` returns the last request body received, so the benchmark can send
 * the direct requests with exactly the body the gateway sends upstream.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    port: { type: "string", default: "0" },
    chunks: { type: "string", default: "200" },
    batch: { type: "string", default: "1" },
    "gap-ms": { type: "string", default: "2" },
  },
});
const CHUNKS = Number(values.chunks);
const BATCH = Math.max(1, Number(values.batch));
const GAP_MS = Number(values["gap-ms"]);

const enc = new TextEncoder();
const ID = "f0f0f217-c24d-1fee-5fe3-28fa1d3c8c94";
const WORDS = ["The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog. "];

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: ID,
  object: "chat.completion.chunk",
  created: 1770772287,
  model: "grok-3-mini",
  choices: [finish ? { index: 0, delta, finish_reason: finish } : { index: 0, delta }],
  system_fingerprint: "fp_2a885414fb",
});
const usage = (completion: number) => ({
  prompt_tokens: 12,
  completion_tokens: completion,
  total_tokens: 12 + completion,
  prompt_tokens_details: { text_tokens: 12, audio_tokens: 0, image_tokens: 0, cached_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  num_sources_used: 0,
  cost_in_usd_ticks: 1000,
});
const frame = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;

// ---- prepared answers ----
const frames: string[] = [];
for (let i = 0; i < CHUNKS; i++) {
  const delta: Record<string, unknown> = { content: WORDS[i % WORDS.length] };
  if (i === 0) delta.role = "assistant";
  frames.push(frame(chunk(delta)));
}
frames.push(frame(chunk({}, "stop")));
frames.push(
  frame({ id: ID, object: "chat.completion.chunk", created: 1770772288, model: "grok-3-mini", choices: [], usage: usage(CHUNKS), system_fingerprint: "fp_2a885414fb" }),
);
frames.push("data: [DONE]\n\n");
const pieces: Uint8Array[] = [];
for (let i = 0; i < frames.length; i += BATCH) pieces.push(enc.encode(frames.slice(i, i + BATCH).join("")));
const firstFrame = enc.encode(frames[0]!);

const COMPLETION = enc.encode(
  JSON.stringify({
    id: ID,
    object: "chat.completion",
    created: 1770772214,
    model: "grok-3-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "Hello! How can I help you today?", refusal: null }, finish_reason: "stop" }],
    usage: usage(9),
    system_fingerprint: "fp_2a885414fb",
  }),
);
// ---- prepared Responses answers ----
const RESP = "1c1cae28-e3a2-9687-8eb0-6f07b789a60e";
const respUsage = (output: number) => ({
  input_tokens: 12,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: output,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 12 + output,
  num_sources_used: 0,
  num_server_side_tools_used: 0,
  cost_in_usd_ticks: 1000,
});
const respObject = (status: string, output: unknown[], u: unknown) => ({
  created_at: 1786401135,
  id: RESP,
  model: "grok-4.3",
  object: "response",
  output,
  status,
  store: false,
  usage: u,
  incomplete_details: null,
  error: null,
});
const message = (text: string) => ({
  content: [{ type: "output_text", text, logprobs: [], annotations: [] }],
  id: `msg_${RESP}`,
  role: "assistant",
  type: "message",
  status: "completed",
});
const rFrames: string[] = [];
{
  let seq = 0;
  const ev = (obj: Record<string, unknown>) => rFrames.push(`event: ${obj.type}\ndata: ${JSON.stringify({ sequence_number: seq++, ...obj })}\n\n`);
  ev({ type: "response.created", response: respObject("in_progress", [], null) });
  ev({ type: "response.in_progress", response: respObject("in_progress", [], null) });
  ev({ type: "response.output_item.added", item: { content: [], id: `msg_${RESP}`, role: "assistant", type: "message", status: "in_progress" }, output_index: 0 });
  ev({ type: "response.content_part.added", content_index: 0, item_id: `msg_${RESP}`, output_index: 0, part: { type: "output_text", text: "", logprobs: [], annotations: [] } });
  let text = "";
  for (let i = 0; i < CHUNKS; i++) {
    const w = WORDS[i % WORDS.length]!;
    text += w;
    ev({ type: "response.output_text.delta", content_index: 0, delta: w, item_id: `msg_${RESP}`, output_index: 0, logprobs: [] });
  }
  ev({ type: "response.output_text.done", content_index: 0, item_id: `msg_${RESP}`, output_index: 0, text, logprobs: [] });
  ev({ type: "response.content_part.done", content_index: 0, item_id: `msg_${RESP}`, output_index: 0, part: message(text).content[0] });
  ev({ type: "response.output_item.done", item: message(text), output_index: 0 });
  ev({ type: "response.completed", response: respObject("completed", [message(text)], respUsage(CHUNKS)) });
}
const rPieces: Uint8Array[] = [];
for (let i = 0; i < rFrames.length; i += BATCH) rPieces.push(enc.encode(rFrames.slice(i, i + BATCH).join("")));
const R_COMPLETION = enc.encode(JSON.stringify(respObject("completed", [message("Hello! How can I help you today?")], respUsage(9))));

const JSON_HEADERS = { "content-type": "application/json" };
const SSE_HEADERS = { "content-type": "text/event-stream" };

function streamResponse(parts: Uint8Array[] = pieces): Response {
  const body = new ReadableStream({
    type: "direct",
    async pull(c: ReadableStreamDirectController) {
      for (const p of parts) {
        c.write(p);
        const f = c.flush();
        if (typeof f !== "number") await f;
      }
      c.close();
    },
  });
  return new Response(body, { headers: SSE_HEADERS });
}

function pacedResponse(signal: AbortSignal): Response {
  const body = new ReadableStream({
    type: "direct",
    async pull(c: ReadableStreamDirectController) {
      for (const f of frames) {
        if (signal.aborted) break;
        c.write(f);
        c.flush();
        await Bun.sleep(GAP_MS);
      }
      c.close();
    },
  });
  return new Response(body, { headers: SSE_HEADERS });
}

function idleResponse(signal: AbortSignal): Response {
  const body = new ReadableStream({
    type: "direct",
    async pull(c: ReadableStreamDirectController) {
      c.write(firstFrame);
      c.flush();
      // Hold the stream open until the client goes away.
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      try {
        c.close();
      } catch {
        // already gone
      }
    },
  });
  return new Response(body, { headers: SSE_HEADERS });
}

let last = "";
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  idleTimeout: 0,
  async fetch(req) {
    if (req.method === "GET") {
      return req.url.endsWith("/__last") ? new Response(last, { headers: JSON_HEADERS }) : new Response("not found", { status: 404 });
    }
    const text = await req.text();
    last = text;
    if (req.url.endsWith("/responses")) return text.includes('"stream":true') ? streamResponse(rPieces) : new Response(R_COMPLETION, { headers: JSON_HEADERS });
    if (!text.includes('"stream":true')) return new Response(COMPLETION, { headers: JSON_HEADERS });
    if (text.includes('"model":"bench-idle"')) return idleResponse(req.signal);
    if (text.includes('"model":"bench-paced"')) return pacedResponse(req.signal);
    return streamResponse();
  },
});

process.stdout.write(`ready ${server.port}\n`);
const stop = () => {
  server.stop(true);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
