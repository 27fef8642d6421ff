/**
 * A fake xAI Responses upstream for tests, speaking exactly as the recordings in
 * tests/fixtures/xai-responses/ do: `event: <type>` + `data: <json>` per event, a contiguous
 * `sequence_number` from 0, no `[DONE]`, ids `rs_<resp>` / `msg_<resp>` / `fc_<resp>_<n>`,
 * call ids `call-<uuid>-<n>`, and `encrypted_content` only on `response.output_item.done`
 * and in `response.completed`. Scripted answers are built from the same shapes; the
 * recorded streams replay byte for byte.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { StreamEvent } from "../../src/anthropic/events";
import { MessageAccumulator } from "../../src/anthropic/accumulate";
import type { AnthropicMessage } from "../../src/anthropic/schema";
import { responsesDialect } from "../../src/dialects";
import { sseResponse, type Handler } from "./fake-upstream";

const DIR = join(import.meta.dir, "..", "fixtures", "xai-responses");
export const fixture = (name: string) => readFileSync(join(DIR, name), "utf8");
export const fixtureJson = (name: string) => JSON.parse(fixture(name));

export const RESP_ID = "1c1cae28-e3a2-9687-8eb0-6f07b789a60e";
export const CALL_UUID = "5386e269-cd64-432e-aa64-5c80dd4e0286";

/** The wire text of events: `event:` line equal to `data.type`, sequence numbers 0..n-1. */
export function responsesSse(events: Array<Record<string, unknown>>): string {
  let s = "";
  events.forEach((e, i) => {
    const data = { sequence_number: i, ...e };
    s += `event: ${String(e.type)}\ndata: ${JSON.stringify(data)}\n\n`;
  });
  return s;
}

/** The events of a recorded or scripted stream, parsed back. */
export function sseEvents(text: string): Array<Record<string, any>> {
  return text
    .split("\n\n")
    .filter((f) => f.trim())
    .map((f) => JSON.parse(f.split("\n").find((l) => l.startsWith("data: "))!.slice(6)));
}

export interface Usage {
  input?: number;
  cached?: number;
  output?: number;
  reasoning?: number;
}

export function responsesUsage(u: Usage = {}) {
  const input = u.input ?? 199;
  const output = u.output ?? 160;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cached ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
    total_tokens: input + output,
    num_sources_used: 0,
    num_server_side_tools_used: 0,
    cost_in_usd_ticks: 3515000,
  };
}

export interface Script {
  /** Reasoning summary pieces (one delta each), and the encrypted content given on `.done`. */
  reasoning?: { pieces: string[]; encrypted?: string };
  /** Output text pieces (one delta each). */
  text?: string[];
  /** Function calls; `args` pieces are one `arguments.delta` each. */
  calls?: Array<{ name: string; args: string[] }>;
  status?: "completed" | "incomplete";
  incompleteReason?: string;
  usage?: Usage;
  model?: string;
  respId?: string;
  /** Extra events inserted right after `response.in_progress` (unknown types, …). */
  extra?: Array<Record<string, unknown>>;
  /** Server-side calls xAI ran (`mcpCall()`, `codeInterpreterCall()` items, finished), after the reasoning and before the text. */
  serverItems?: Array<Record<string, any>>;
}

/**
 * An `mcp_call` output item in the shape of xAI's spec (`McpCall`: id, name, server_label,
 * arguments, output, error?, status) and its cookbook (`output` is the MCP result as JSON,
 * `{"content":[{"type":"text","text":…}],"isError":…}`; a failed call has "[tool] message" in
 * `error` instead). SYNTHESIZED from the spec: no recording of a real xAI `mcp_call` exists. The
 * id format is made up; `prefixed` gives the name as Grok sees the tool (`<label>___<tool>`).
 */
export function mcpCall(o: { n?: number; label: string; name: string; args: Record<string, unknown>; text?: string; error?: string; prefixed?: boolean }) {
  const n = o.n ?? 0;
  return {
    type: "mcp_call",
    id: `mcp_${RESP_ID}_call-${CALL_UUID}-${n}`,
    name: o.prefixed ? `${o.label}___${o.name}` : o.name,
    server_label: o.label,
    arguments: JSON.stringify(o.args),
    output: o.error ? "" : JSON.stringify({ content: [{ type: "text", text: o.text ?? "" }], isError: false }),
    ...(o.error ? { error: `[${o.name}] ${o.error}` } : {}),
    status: o.error ? "failed" : "completed",
  };
}

/**
 * A `code_interpreter_call` output item. `recorded` (the default): the shape of the one real
 * recording (vercel-xai-code-execution-tool.1.json, grok-4-fast-reasoning: the code as JSON in
 * `arguments`, no output at all). `spec`: the `CodeInterpreterCall` of xAI's spec (`code`, and
 * `outputs` of `{type:"logs", logs}` / `{type:"image", url}`), SYNTHESIZED: never recorded.
 */
export function codeInterpreterCall(o: { n?: number; code: string; shape?: "recorded" | "spec"; logs?: string[]; images?: string[] }) {
  const n = o.n ?? 0;
  if (o.shape === "spec") {
    const outputs = [...(o.logs ?? []).map((logs) => ({ type: "logs", logs })), ...(o.images ?? []).map((url) => ({ type: "image", url }))];
    return { id: `ci_${RESP_ID}_${n}`, type: "code_interpreter_call", code: o.code, outputs, status: "completed" };
  }
  return { arguments: JSON.stringify({ code: o.code }), call_id: "", name: "code_execution", type: "code_interpreter_call", id: `fc_${RESP_ID}_${n}`, status: "completed" };
}

/**
 * The stream events of a finished `mcp_call` or `code_interpreter_call`, at output index `oi`:
 * the event names of Vercel's xAI schema (`response.mcp_call.*`, `response.mcp_call_arguments.*`,
 * `response.code_interpreter_call.*`, `response.code_interpreter_call_code.*`), SYNTHESIZED (none is
 * recorded; xAI's cookbook sees `output_item.added` with the name and the finished item at `.done`).
 */
export function serverItemEvents(item: Record<string, any>, oi: number): Array<Record<string, unknown>> {
  const base = { item_id: item.id, output_index: oi };
  const ev: Array<Record<string, unknown>> = [];
  if (item.type === "mcp_call") {
    const { error: _, ...rest } = item;
    ev.push({ type: "response.output_item.added", item: { ...rest, arguments: "", output: "", status: "in_progress" }, output_index: oi });
    ev.push({ type: "response.mcp_call.in_progress", ...base });
    ev.push({ type: "response.mcp_call_arguments.delta", ...base, delta: item.arguments });
    ev.push({ type: "response.mcp_call_arguments.done", ...base, arguments: item.arguments });
    ev.push({ type: `response.mcp_call.${item.error ? "failed" : "completed"}`, ...base });
  } else {
    const code = typeof item.code === "string" ? item.code : JSON.parse(item.arguments).code;
    const added = "code" in item ? { ...item, code: "", outputs: [], status: "in_progress" } : { ...item, arguments: "", status: "in_progress" };
    ev.push({ type: "response.output_item.added", item: added, output_index: oi });
    ev.push({ type: "response.code_interpreter_call.in_progress", ...base });
    ev.push({ type: "response.code_interpreter_call_code.delta", ...base, delta: code });
    ev.push({ type: "response.code_interpreter_call_code.done", ...base, code });
    ev.push({ type: "response.code_interpreter_call.interpreting", ...base });
    ev.push({ type: "response.code_interpreter_call.completed", ...base });
  }
  ev.push({ type: "response.output_item.done", item, output_index: oi });
  return ev;
}

/** A response object in xAI's shape (the `response` of created/completed, or a non-streaming body). */
export function responseObject(output: unknown[], s: Script, status: string): Record<string, unknown> {
  return {
    created_at: 1786401135,
    completed_at: status === "in_progress" ? null : 1786401136,
    id: s.respId ?? RESP_ID,
    max_output_tokens: null,
    model: s.model ?? "grok-4.3",
    object: "response",
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: status === "in_progress" ? { effort: null, summary: null } : { effort: "low", summary: "detailed" },
    temperature: 0.7,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 0.95,
    usage: status === "in_progress" ? null : responsesUsage(s.usage),
    user: null,
    incomplete_details: status === "incomplete" ? { reason: s.incompleteReason ?? "max_output_tokens" } : null,
    status,
    store: false,
    metadata: { system_fingerprint: "fp_eb3c003fc66c14ed" },
    error: null,
  };
}

/** The output items a script produces, complete (as in `response.completed` or a JSON answer). */
export function scriptOutput(s: Script): Array<Record<string, any>> {
  const id = s.respId ?? RESP_ID;
  const out: Array<Record<string, any>> = [];
  if (s.reasoning) {
    const item: Record<string, any> = {
      id: `rs_${id}`,
      summary: [{ text: s.reasoning.pieces.join(""), type: "summary_text" }],
      type: "reasoning",
      status: "completed",
    };
    if (s.reasoning.encrypted) item.encrypted_content = s.reasoning.encrypted;
    out.push(item);
  }
  out.push(...(s.serverItems ?? []));
  if (s.text) {
    out.push({
      content: [{ type: "output_text", text: s.text.join(""), logprobs: [], annotations: [] }],
      id: `msg_${id}`,
      role: "assistant",
      type: "message",
      status: "completed",
    });
  }
  (s.calls ?? []).forEach((c, n) =>
    out.push({ arguments: c.args.join(""), call_id: `call-${CALL_UUID}-${n}`, name: c.name, type: "function_call", id: `fc_${id}_${n}`, status: "completed" }),
  );
  return out;
}

/** The event list of a scripted stream, in the recorded order. */
export function scriptEvents(s: Script): Array<Record<string, unknown>> {
  const ev: Array<Record<string, unknown>> = [];
  const final = scriptOutput(s);
  ev.push({ type: "response.created", response: responseObject([], s, "in_progress") });
  ev.push({ type: "response.in_progress", response: responseObject([], s, "in_progress") });
  ev.push(...(s.extra ?? []));
  let oi = 0;
  for (const item of final) {
    if (item.type === "reasoning") {
      ev.push({ type: "response.output_item.added", item: { id: item.id, summary: [], type: "reasoning", status: "in_progress" }, output_index: oi });
      ev.push({ type: "response.reasoning_summary_part.added", item_id: item.id, output_index: oi, part: { text: "", type: "summary_text" }, summary_index: 0 });
      for (const p of s.reasoning!.pieces) ev.push({ type: "response.reasoning_summary_text.delta", delta: p, item_id: item.id, output_index: oi, summary_index: 0 });
      ev.push({ type: "response.reasoning_summary_text.done", item_id: item.id, output_index: oi, summary_index: 0, text: item.summary[0].text });
      ev.push({ type: "response.reasoning_summary_part.done", item_id: item.id, output_index: oi, part: item.summary[0], summary_index: 0 });
      ev.push({ type: "response.output_item.done", item, output_index: oi });
    } else if (item.type === "message") {
      ev.push({ type: "response.output_item.added", item: { content: [], id: item.id, role: "assistant", type: "message", status: "in_progress" }, output_index: oi });
      ev.push({ type: "response.content_part.added", content_index: 0, item_id: item.id, output_index: oi, part: { type: "output_text", text: "", logprobs: [], annotations: [] } });
      for (const p of s.text!) ev.push({ type: "response.output_text.delta", content_index: 0, delta: p, item_id: item.id, output_index: oi, logprobs: [] });
      ev.push({ type: "response.output_text.done", content_index: 0, item_id: item.id, output_index: oi, text: item.content[0].text, logprobs: [] });
      ev.push({ type: "response.content_part.done", content_index: 0, item_id: item.id, output_index: oi, part: item.content[0] });
      ev.push({ type: "response.output_item.done", item, output_index: oi });
    } else if (item.type === "mcp_call" || item.type === "code_interpreter_call") {
      ev.push(...serverItemEvents(item, oi));
    } else {
      const n = Number(item.id.split("_").at(-1));
      ev.push({ type: "response.output_item.added", item: { ...item, arguments: "", status: "in_progress" }, output_index: oi });
      for (const p of s.calls![n]!.args) ev.push({ type: "response.function_call_arguments.delta", delta: p, item_id: item.id, output_index: oi });
      ev.push({ type: "response.function_call_arguments.done", arguments: item.arguments, item_id: item.id, output_index: oi });
      ev.push({ type: "response.output_item.done", item, output_index: oi });
    }
    oi++;
  }
  const status = s.status ?? "completed";
  ev.push({ type: status === "incomplete" ? "response.incomplete" : "response.completed", response: responseObject(final, s, status) });
  return ev;
}

export const scriptStream = (s: Script) => sseResponse(responsesSse(scriptEvents(s)));
export const scriptJson = (s: Script) => Response.json(responseObject(scriptOutput(s), s, s.status ?? "completed"));

/** Answers a stream or JSON as the request asks, from a script. */
export const answer =
  (s: Script): Handler =>
  (req) =>
    req.body?.stream ? scriptStream(s) : scriptJson(s);

/** A recorded `.sse` file served as it was recorded. */
export const recordedStream = (name: string): Handler => () => sseResponse(fixture(name));

/** xAI's error body: `{code, error}`. */
export const xaiError = (status: number, error: string, code = "invalid-argument") => Response.json({ code, error }, { status });

/** Runs wire pieces through the Responses decoder and translator (as the pump does), to the final message. */
export function translateResponsesPieces(
  pieces: Uint8Array[],
  opts: { stopSequences?: string[]; thinking?: boolean } = {},
): { events: StreamEvent[]; message: AnthropicMessage } {
  const decoder = responsesDialect.decoder();
  // Thinking shown unless a test says otherwise: these tests are about how reasoning is translated.
  const t = responsesDialect.stream({ id: "msg_test", model: "claude-test", inputTokensEstimate: 10, ...opts, thinking: opts.thinking ?? true });
  const events = [...t.start()];
  const feed = (items: ReturnType<typeof decoder.push>) => {
    for (const item of items) {
      if (t.stopped) return;
      if (item.kind === "chunk") events.push(...t.push(item.chunk));
      else if (item.kind === "error") throw new Error(`decoder error: ${item.message}`);
    }
  };
  for (const p of pieces) feed(decoder.push(p));
  feed(decoder.end());
  events.push(...t.finish());
  const acc = new MessageAccumulator();
  acc.applyAll(events);
  return { events, message: acc.message! };
}

/** Splits text into pieces of `n` characters (the last may be shorter). */
const pieces = (text: string, n: number) => {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += n) out.push(text.slice(i, i + n));
  return out;
};

/**
 * The stream xAI sends for a recorded (non-streaming) response, event by event as reference §3.2
 * records them: a `web_search_call` is added with an empty action, goes through
 * `web_search_call.in_progress` / `.searching` / `.completed`, and has its query and sources only on
 * `output_item.done`; a `tco_` or duplicate `rs_` reasoning item has no summary; the message text
 * comes in deltas of `textPiece` characters, its `url_citation` annotations in
 * `output_text.annotation.added` events after all of them; MCP and code interpreter calls as
 * `serverItemEvents` gives them; `response.completed` carries the whole output.
 */
export function streamEventsFor(response: Record<string, any>, textPiece = 7): Array<Record<string, unknown>> {
  const inProgress = { ...response, output: [], usage: null, status: "in_progress", completed_at: null };
  const ev: Array<Record<string, unknown>> = [
    { type: "response.created", response: inProgress },
    { type: "response.in_progress", response: inProgress },
  ];
  (response.output as Array<Record<string, any>>).forEach((item, oi) => {
    // (tests feed broken items too: the stream carries them as they are)
    const base = { item_id: item.id, output_index: oi };
    if (item.type === "reasoning") {
      ev.push({ type: "response.output_item.added", item: { id: item.id, summary: [], type: "reasoning", status: "in_progress" }, output_index: oi });
      (Array.isArray(item.summary) ? item.summary : []).forEach((part: { text: string }, si: number) => {
        if (typeof part?.text !== "string") return;
        ev.push({ type: "response.reasoning_summary_part.added", ...base, part: { text: "", type: "summary_text" }, summary_index: si });
        for (const p of pieces(part.text, textPiece)) ev.push({ type: "response.reasoning_summary_text.delta", delta: p, ...base, summary_index: si });
        ev.push({ type: "response.reasoning_summary_text.done", ...base, summary_index: si, text: part.text });
        ev.push({ type: "response.reasoning_summary_part.done", ...base, part, summary_index: si });
      });
    } else if (item.type === "web_search_call") {
      ev.push({ type: "response.output_item.added", item: { id: item.id, type: "web_search_call", status: "in_progress", action: { type: "search", query: "", sources: [] } }, output_index: oi });
      for (const s of ["in_progress", "searching", "completed"]) ev.push({ type: `response.web_search_call.${s}`, ...base });
    } else if (item.type === "message" && typeof item.content?.[0]?.text === "string") {
      const part = item.content[0];
      ev.push({ type: "response.output_item.added", item: { content: [], id: item.id, role: "assistant", type: "message", status: "in_progress" }, output_index: oi });
      ev.push({ type: "response.content_part.added", content_index: 0, ...base, part: { type: "output_text", text: "", logprobs: [], annotations: [] } });
      for (const p of pieces(part.text, textPiece)) ev.push({ type: "response.output_text.delta", content_index: 0, delta: p, ...base, logprobs: [] });
      (Array.isArray(part.annotations) ? part.annotations : []).forEach((annotation: unknown, ai: number) =>
        ev.push({ type: "response.output_text.annotation.added", annotation, annotation_index: ai, content_index: 0, ...base }),
      );
      ev.push({ type: "response.output_text.done", content_index: 0, ...base, text: part.text, logprobs: [] });
      ev.push({ type: "response.content_part.done", content_index: 0, ...base, part });
    } else if (item.type === "mcp_call" || item.type === "code_interpreter_call") {
      ev.push(...serverItemEvents(item, oi).slice(0, -1)); // the .done below
    } else if (item.type === "custom_tool_call") {
      ev.push({ type: "response.output_item.added", item: { ...item, input: "", status: "in_progress" }, output_index: oi });
      ev.push({ type: "response.custom_tool_call_input.delta", ...base, delta: item.input });
      ev.push({ type: "response.custom_tool_call_input.done", ...base, input: item.input });
    } else {
      ev.push({ type: "response.output_item.added", item, output_index: oi });
    }
    ev.push({ type: "response.output_item.done", item, output_index: oi });
  });
  ev.push({ type: "response.completed", response });
  return ev;
}

/** A recorded (non-streaming) response, as JSON or as the stream xAI sends for it (`streamEventsFor`), as the request asks. */
export const recordedResponse = (name: string, textPiece = 7): Handler => recordedSearch(name, textPiece);

/** The recorded grok-4.3 web search (turn one), as JSON or as the stream xAI sends for it, as the request asks. */
export const recordedSearch =
  (name = "rubyllm-grok-4.3-web-search.1.json", textPiece = 7): Handler =>
  (req) => {
    const json = fixtureJson(name);
    return req.body?.stream ? sseResponse(responsesSse(streamEventsFor(json, textPiece))) : Response.json(json);
  };
