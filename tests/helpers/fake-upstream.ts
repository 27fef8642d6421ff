/**
 * A fake xAI on 127.0.0.1 for tests: speaks OpenAI-style chat completions the
 * way xAI does (whole tool calls in one chunk, reasoning_content, usage in a
 * last chunk with empty choices), records every request, and is scriptable per test.
 */
import type { Server } from "bun";

export interface Recorded {
  method: string;
  path: string;
  headers: Headers;
  body: any;
  /** The body as sent (a multipart upload's bytes). */
  raw: Uint8Array;
  /** The query string's parameters. */
  query: URLSearchParams;
  /** Resolves when the client (the gateway) closed or aborted this request. */
  closed: Promise<void>;
  aborted: () => boolean;
}

export type Handler = (req: Recorded, n: number) => Response | Promise<Response>;

const enc = new TextEncoder();

export const XAI_ID = "f0f0f217-c24d-1fee-5fe3-28fa1d3c8c94";

/** One xAI-format stream chunk. */
export function chunk(delta: Record<string, unknown>, finish: string | null = null, model = "grok-3-mini") {
  const choice: Record<string, unknown> = { index: 0, delta };
  if (finish) choice.finish_reason = finish;
  return {
    id: XAI_ID,
    object: "chat.completion.chunk",
    created: 1770772287,
    model,
    choices: [choice],
    system_fingerprint: "fp_2a885414fb",
  };
}

export function usage(prompt = 12, completion = 5, opts: { cached?: number; reasoning?: number } = {}) {
  const reasoning = opts.reasoning ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion + reasoning,
    prompt_tokens_details: { text_tokens: prompt, audio_tokens: 0, image_tokens: 0, cached_tokens: opts.cached ?? 0 },
    completion_tokens_details: { reasoning_tokens: reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    num_sources_used: 0,
    cost_in_usd_ticks: 1000,
  };
}

/** The usage chunk xAI sends last: empty choices. */
export function usageChunk(u = usage()) {
  return { id: XAI_ID, object: "chat.completion.chunk", created: 1770772288, model: "grok-3-mini", choices: [], usage: u, system_fingerprint: "fp_2a885414fb" };
}

/** SSE wire text of chunks, ending with `data: [DONE]` unless told otherwise. */
export function sseText(chunks: unknown[], opts: { done?: boolean } = {}): string {
  let s = "";
  for (const c of chunks) s += `data: ${JSON.stringify(c)}\n\n`;
  if (opts.done !== false) s += "data: [DONE]\n\n";
  return s;
}

/** Chunks of a plain text answer, word by word, then finish and usage. */
export function textChunks(text: string, opts: { finish?: string; usage?: ReturnType<typeof usage> | null; reasoning?: string } = {}) {
  const out: unknown[] = [];
  let first = true;
  for (const piece of (opts.reasoning ?? "").match(/\S+\s*/g) ?? []) {
    out.push(chunk(first ? { reasoning_content: piece, role: "assistant" } : { reasoning_content: piece }));
    first = false;
  }
  for (const piece of text.match(/\s*\S+\s*/g) ?? [text]) {
    out.push(chunk(first ? { content: piece, role: "assistant" } : { content: piece }));
    first = false;
  }
  out.push(chunk({}, opts.finish ?? "stop"));
  if (opts.usage !== null) out.push(usageChunk(opts.usage ?? usage()));
  return out;
}

/** A streaming response; `pieces` may split the wire text anywhere (even mid UTF-8). */
export function sseResponse(
  body: string | Uint8Array[],
  opts: { delayMs?: number; status?: number; hang?: boolean } = {},
): Response {
  const parts = typeof body === "string" ? [enc.encode(body)] : body;
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const p of parts) {
        if (opts.delayMs) await Bun.sleep(opts.delayMs);
        try {
          controller.enqueue(p);
        } catch {
          return;
        }
      }
      if (opts.hang) return; // never close: simulates a stalled upstream
      controller.close();
    },
  });
  return new Response(stream, { status: opts.status ?? 200, headers: { "content-type": "text/event-stream" } });
}

export function streamOf(chunks: unknown[], opts: { delayMs?: number; done?: boolean } = {}): Response {
  if (!opts.delayMs) return sseResponse(sseText(chunks, opts));
  const pieces = chunks.map((c) => enc.encode(`data: ${JSON.stringify(c)}\n\n`));
  if (opts.done !== false) pieces.push(enc.encode("data: [DONE]\n\n"));
  return sseResponse(pieces, opts);
}

/** A non-streaming completion in xAI's shape. */
export function completion(message: Record<string, unknown>, finish = "stop", u = usage()) {
  return {
    id: XAI_ID,
    object: "chat.completion",
    created: 1770772214,
    model: "grok-3-mini",
    choices: [{ index: 0, message: { role: "assistant", refusal: null, ...message }, finish_reason: finish }],
    usage: u,
    system_fingerprint: "fp_2a885414fb",
  };
}

/** xAI's error body shape. */
export function xaiError(status: number, error: string, code = "Client specified an invalid argument") {
  return Response.json({ code, error }, { status });
}

/** xAI's model list (`GET /v1/models`). */
export function modelList(ids: string[], created = 1770000000) {
  return { object: "list", data: ids.map((id, i) => ({ id, object: "model", created: created + i, owned_by: "xai" })) };
}

/** xAI's tokenize-text answer (`POST /v1/tokenize-text`) listing `count` tokens. */
export function tokenizeAnswer(count: number) {
  return { token_ids: Array.from({ length: count }, (_, i) => ({ token_id: i, string_token: "x", token_bytes: [120] })) };
}

export class FakeUpstream {
  readonly requests: Recorded[] = [];
  private handler: Handler = (req) =>
    req.body?.stream ? streamOf(textChunks("Hello from fake Grok!")) : Response.json(completion({ content: "Hello from fake Grok!" }));
  private server: Server<undefined>;

  constructor() {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0,
      fetch: async (request) => {
        const url = new URL(request.url);
        const raw = new Uint8Array(await request.arrayBuffer());
        const text = new TextDecoder().decode(raw);
        let body: any = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // keep raw text
        }
        let aborted = false;
        const closed = new Promise<void>((resolve) => {
          if (request.signal.aborted) {
            aborted = true;
            resolve();
          }
          request.signal.addEventListener("abort", () => {
            aborted = true;
            resolve();
          });
        });
        const rec: Recorded = {
          method: request.method,
          path: url.pathname,
          headers: request.headers,
          body,
          raw,
          query: url.searchParams,
          closed,
          aborted: () => aborted,
        };
        this.requests.push(rec);
        return this.handler(rec, this.requests.length);
      },
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Base URL to give the gateway (XAI_BASE_URL). */
  get baseUrl(): string {
    return `${this.url}/v1`;
  }

  get last(): Recorded {
    const r = this.requests[this.requests.length - 1];
    if (!r) throw new Error("the fake upstream has received no request");
    return r;
  }

  on(handler: Handler): this {
    this.handler = handler;
    return this;
  }

  reset(): this {
    this.requests.length = 0;
    return this;
  }

  stop(): void {
    this.server.stop(true);
  }
}

// ---- Fault injection ----

/** Answers the n-th request (1-based) with the n-th handler; the last one repeats. */
export function sequence(...handlers: Handler[]): Handler {
  if (handlers.length === 0) throw new Error("sequence() needs at least one handler");
  return (req, n) => handlers[Math.min(n, handlers.length) - 1]!(req, n);
}

/** Never answers: the response only settles (empty) once the gateway gives up on the request. */
export function hang(req: Recorded): Promise<Response> {
  return req.closed.then(() => new Response(null, { status: 499 }));
}

/**
 * A stream the test drives by hand: push chunks (objects become `data:` lines, strings go
 * as they are), end it cleanly, or cut the connection. `cancelled` resolves when the
 * gateway stopped reading.
 */
export interface StreamControl {
  response: Response;
  push(item: unknown): void;
  end(opts?: { done?: boolean }): void;
  /** Drop the connection mid-stream (the gateway sees a connection reset). */
  cut(): void;
  cancelled: Promise<void>;
}

export function controlledStream(): StreamControl {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  let onCancel!: () => void;
  const cancelled = new Promise<void>((r) => (onCancel = r));
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c;
    },
    cancel() {
      onCancel();
    },
  });
  const safe = (f: () => void) => {
    try {
      f();
    } catch {
      // the gateway already went away
    }
  };
  return {
    response: new Response(stream, { headers: { "content-type": "text/event-stream" } }),
    push: (item) => safe(() => ctrl.enqueue(enc.encode(typeof item === "string" ? item : `data: ${JSON.stringify(item)}\n\n`))),
    end: (opts = {}) =>
      safe(() => {
        if (opts.done !== false) ctrl.enqueue(enc.encode("data: [DONE]\n\n"));
        ctrl.close();
      }),
    // Errored with no reason: the connection is reset all the same, and Bun prints no stack
    // trace into a passing test run (it prints any Error a served stream fails with).
    cut: () => safe(() => ctrl.error()),
    cancelled,
  };
}

/**
 * A loopback port with nothing listening on it (connections are refused). Port 1 when it
 * is free: privileged, so no parallel test can take it over; else a port just released.
 */
export async function closedPort(): Promise<number> {
  const refused = await Bun.connect({ hostname: "127.0.0.1", port: 1, socket: { data() {} } }).then(
    (s) => (s.end(), false),
    () => true,
  );
  if (refused) return 1;
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Resolves true when `p` settles within `ms`, false otherwise (a bounded wait, not a timing assertion). */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
