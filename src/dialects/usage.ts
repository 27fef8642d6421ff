/** Token usage: upstream usage → Anthropic usage, and local estimates. */
import { toolInstructions } from "../anthropic/client-tools";
import type { MessagesRequest, Usage } from "../anthropic/schema";
import { planTool } from "../anthropic/tools";
import type { ChatUsage } from "./chat/wire";
import type { Slicer } from "../http/slicer";
import { count, isRecord } from "./malformed";

/**
 * xAI counts reasoning outside `completion_tokens` (total = prompt + completion + reasoning);
 * OpenAI counts it inside (total = prompt + completion). Anthropic's output_tokens counts all.
 */
export function toAnthropicUsage(u: ChatUsage | null | undefined, estimate: { input: number; output: number }): Usage {
  if (!u) {
    return {
      input_tokens: estimate.input,
      output_tokens: estimate.output,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    };
  }
  // Upstream numbers are untrusted: one that cannot be a count gives way to the estimate.
  const prompt = count(u.prompt_tokens, "", false) ?? estimate.input;
  const completion = count(u.completion_tokens, "", false) ?? estimate.output;
  const cached = Math.min(count(u.prompt_tokens_details?.cached_tokens, "", false) ?? 0, prompt);
  const reasoning = count(u.completion_tokens_details?.reasoning_tokens, "", false) ?? 0;
  const total = count(u.total_tokens, "", false);
  const reasoningOutside = reasoning > 0 && total !== undefined && total >= prompt + completion + reasoning;
  return {
    input_tokens: Math.max(0, prompt - cached),
    output_tokens: reasoningOutside ? completion + reasoning : completion,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/** Rough tokens for a piece of text (≈4 characters per token). */
export const estimateTextTokens = (chars: number) => Math.ceil(chars / 4);

/** An image costs about this much (xAI does not publish its image token formula). */
export const IMAGE_TOKENS = 1500;

/** Read field by field, never trusted: what a client sent (validated or not) costs what it holds, and nothing throws. */
function blockChars(b: unknown): { chars: number; images: number } {
  if (!isRecord(b)) return { chars: 0, images: 0 };
  switch (b.type) {
    case "text":
      return { chars: String(b.text ?? "").length, images: 0 };
    case "thinking":
      return { chars: 0, images: 0 };
    case "image":
      return { chars: 0, images: 1 };
    case "tool_use":
    case "server_tool_use":
    case "mcp_tool_use":
      return { chars: String(b.name ?? "").length + safeJsonLength(b.input), images: 0 };
    case "mcp_tool_result":
      return { chars: safeJsonLength(b.content), images: 0 };
    case "code_execution_tool_result": {
      const c = isRecord(b.content) ? b.content : undefined;
      return { chars: String(c?.stdout ?? "").length + String(c?.stderr ?? "").length, images: 0 };
    }
    case "web_search_tool_result": {
      // What goes back upstream for a search: its sources (xAI's own encrypted results are not text we can count).
      let chars = 0;
      for (const r of Array.isArray(b.content) ? b.content : []) {
        if (isRecord(r)) chars += String(r.url ?? "").length + String(r.title ?? "").length;
      }
      return { chars, images: 0 };
    }
    case "search_result": {
      // Sent as a tagged text: its source, title and texts, and about 60 characters of tags.
      let chars = 60 + String(b.source ?? "").length + String(b.title ?? "").length;
      for (const t of Array.isArray(b.content) ? b.content : []) chars += String((isRecord(t) ? t.text : undefined) ?? "").length + 8;
      return { chars, images: 0 };
    }
    case "tool_result": {
      if (typeof b.content === "string") return { chars: b.content.length, images: 0 };
      let chars = 0;
      let images = 0;
      for (const inner of Array.isArray(b.content) ? b.content : []) {
        const r = blockChars(inner);
        chars += r.chars;
        images += r.images;
      }
      return { chars, images };
    }
    case "document": {
      const src = isRecord(b.source) ? b.source : undefined;
      return { chars: typeof src?.data === "string" && src.type === "text" ? src.data.length : 2000, images: 0 };
    }
    default:
      return { chars: 0, images: 0 };
  }
}

function safeJsonLength(v: unknown): number {
  try {
    return JSON.stringify(v ?? {}).length;
  } catch {
    return 0;
  }
}

export interface PromptSize {
  /** Estimated input tokens (never 0). */
  tokens: number;
  /** Images anywhere in the messages, tool results included. */
  images: number;
}

/** A quick local estimate of the prompt's input tokens (never 0). */
export function estimateInputTokens(req: Pick<MessagesRequest, "messages" | "system" | "tools">): number {
  return inspectPrompt(req).tokens;
}

/** One walk over the prompt: its estimated tokens and its images. */
export function inspectPrompt(req: Pick<MessagesRequest, "messages" | "system" | "tools">): PromptSize {
  const walk = inspecting(req);
  while (!walk.next().done);
  return walk.result();
}

/** inspectPrompt for a large request, in slices (the event loop gets turns between them). */
export async function inspectPromptSliced(req: Pick<MessagesRequest, "messages" | "system" | "tools">, slicer: Slicer): Promise<PromptSize> {
  const walk = inspecting(req);
  while (!walk.next().done) await slicer.pause();
  return walk.result();
}

/** The walk, stopping after every few hundred blocks (`next()` until done, then `result()`). */
function inspecting(req: Pick<MessagesRequest, "messages" | "system" | "tools">) {
  let chars = 0;
  let images = 0;
  function* steps(): Generator<void> {
    if (typeof req.system === "string") chars += req.system.length;
    else for (const b of req.system ?? []) chars += b.text.length;
    let n = 0;
    for (const m of req.messages) {
      chars += 16;
      if (typeof m.content === "string") chars += m.content.length;
      else
        for (const b of m.content) {
          const r = blockChars(b);
          chars += r.chars;
          images += r.images;
          if ((++n & 255) === 0) yield;
        }
      if ((++n & 255) === 0) yield;
    }
    for (const text of toolInstructions(req.tools)) chars += text.length;
    for (const [i, t] of (req.tools ?? []).entries()) {
      // What goes upstream: Anthropic's client tools as the functions Claude knows (web search runs upstream).
      const plan = planTool(t, i);
      if ("kind" in plan && plan.kind === "function") chars += plan.def.name.length + (plan.def.description?.length ?? 0) + safeJsonLength(plan.def.parameters);
    }
  }
  const walk = steps();
  return {
    next: () => walk.next(),
    result: (): PromptSize => ({ tokens: Math.max(1, estimateTextTokens(chars) + images * IMAGE_TOKENS), images }),
  };
}
