/**
 * A client's chat completions request, fitted to the upstream model: the model
 * name replaced by the mapped one, parameters the model rejects removed, an
 * effort it does not offer moved to the nearest one it does. Everything else is
 * left exactly as sent. Pure.
 */
import type { ModelCaps } from "../../models/capabilities";
import { nearestEffort } from "../../models/effort";
import { isRecord } from "../../is-record";
import type { ModelBody } from "../openai/proxy";

/** What routing and admission need of a chat request's messages: an input estimate (≈4 characters a token) and whether it has images. */
export function chatInputFacts(messages: readonly unknown[]): { inputTokens: number; images: boolean } {
  let chars = 0;
  let images = false;
  for (const m of messages) {
    if (!isRecord(m)) continue;
    const content = m.content;
    if (typeof content === "string") chars += content.length;
    else if (Array.isArray(content)) {
      for (const p of content) {
        if (!isRecord(p)) continue;
        if (p.type === "image_url") images = true;
        else if (typeof p.text === "string") chars += p.text.length;
      }
    }
    const calls = m.tool_calls;
    if (Array.isArray(calls)) for (const c of calls) chars += String((isRecord(c) && isRecord(c.function) ? c.function.arguments : undefined) ?? "").length;
  }
  return { inputTokens: Math.max(1, Math.ceil(chars / 4)), images };
}

export interface FittedChatRequest {
  body: ModelBody;
  /** What was changed, for the log and a response header: names and effort levels, never content. */
  adjusted: string[];
}

const PENALTIES = ["presence_penalty", "frequency_penalty"] as const;

function fitEffort(body: Record<string, unknown>, accepted: ModelCaps["reasoningEffort"], adjusted: string[]): void {
  if (!("reasoning_effort" in body)) return;
  const wanted = body.reasoning_effort;
  if (!accepted || accepted.length === 0) {
    delete body.reasoning_effort;
    adjusted.push("reasoning_effort dropped");
    return;
  }
  if (typeof wanted !== "string" || accepted.includes(wanted)) return;
  const nearest = nearestEffort(wanted, accepted);
  if (nearest) {
    body.reasoning_effort = nearest;
    adjusted.push(`reasoning_effort ${wanted} -> ${nearest}`); // both known effort words
  } else {
    delete body.reasoning_effort;
    adjusted.push("reasoning_effort dropped");
  }
}

export function fitChatRequest(request: Record<string, unknown>, opts: { model: string; caps: ModelCaps }): FittedChatRequest {
  const body: ModelBody = { ...request, model: opts.model };
  const adjusted: string[] = [];
  fitEffort(body, opts.caps.reasoningEffort, adjusted);
  if (!opts.caps.stop && "stop" in body) {
    delete body.stop;
    adjusted.push("stop dropped");
  }
  if (!opts.caps.penalties) {
    for (const p of PENALTIES) {
      if (p in body) {
        delete body[p];
        adjusted.push(`${p} dropped`);
      }
    }
  }
  return { body, adjusted };
}
