/**
 * The fake upstream's Responses API side: real xAI recordings
 * (tests/fixtures/xai-responses/) replayed as xAI sent them — `event:` + `data:`
 * frames, no `[DONE]` — and scripted variants built from them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sseResponse } from "./fake-upstream";

const DIR = join(import.meta.dir, "..", "fixtures", "xai-responses");
const enc = new TextEncoder();

export const fixture = (name: string): string => readFileSync(join(DIR, name), "utf8");
export const fixtureJson = (name: string): any => JSON.parse(fixture(name));

export const STREAM_TEXT = "rubyllm-grok-4.3-stream-text.sse";
export const STREAM_TOOL_CALL = "rubyllm-grok-4.3-stream-tool-call.1.sse";
export const STREAM_AFTER_TOOL = "rubyllm-grok-4.3-stream-tool-call.2.sse";
export const GENERATE_TEXT = "vercel-issue-17936-grok-4.3-generate.json";
export const PARALLEL_CALLS = "rubyllm-grok-4.3-parallel-tool-calls.1.json";
export const BAD_KEY = "rubyllm-grok-4.3-error-invalid-api-key.json";

/** A recorded stream's wire frames, each `event: …\ndata: …\n\n`. */
export function frames(sse: string): string[] {
  return sse.split(/(?<=\n\n)/).filter(Boolean);
}

/** The `{event, data}` pairs of Responses SSE text; comment lines (pings) skipped. */
export function events(sse: string): Array<{ event: string | null; data: any }> {
  const out: Array<{ event: string | null; data: any }> = [];
  for (const frame of sse.split("\n\n")) {
    let event: string | null = null;
    const data: string[] = [];
    for (const line of frame.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    if (event !== null || data.length) out.push({ event, data: data.length ? JSON.parse(data.join("\n")) : null });
  }
  return out;
}

/** A recorded stream replayed, whole or frame by frame with a pause before each. */
export function replay(name: string, opts: { delayMs?: number; hang?: boolean } = {}): Response {
  const sse = fixture(name);
  if (!opts.delayMs && !opts.hang) return sseResponse(sse);
  return sseResponse(
    frames(sse).map((f) => enc.encode(f)),
    opts,
  );
}

const RECORDED_ARGS = { latitude: "52.5200", longitude: "13.4050" };
const escaped = (v: unknown) => JSON.stringify(JSON.stringify(v)).slice(1, -1);

/**
 * The recorded streamed function call (`weather`, its arguments whole in one delta),
 * with another tool's name and arguments put in: how grok-4.3 calls a client's tool.
 */
export function functionCallStream(name: string, args: Record<string, unknown>): string {
  const sse = fixture(STREAM_TOOL_CALL);
  if (!sse.includes(escaped(RECORDED_ARGS))) throw new Error("the tool-call recording changed");
  return sse.replaceAll(escaped(RECORDED_ARGS), escaped(args)).replaceAll('"name":"weather"', `"name":${JSON.stringify(name)}`);
}

/** The call id in the recorded function call. */
export const RECORDED_CALL_ID = "call-5386e269-cd64-432e-aa64-5c80dd4e0286-0";

/** xAI's error body. */
export function xaiResponsesError(status: number, error: string, code = "invalid-argument"): Response {
  return Response.json({ code, error }, { status });
}
