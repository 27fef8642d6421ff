/**
 * Anthropic Messages request → OpenAI-style chat completions request. Pure.
 *
 * Conversation shape rules (OpenAI requires them, Anthropic clients break them):
 * - tool results become `tool` messages right after the assistant turn that called them,
 *   in the order of its tool_calls; user text after the results follows as a user message;
 * - a tool call without a result gets a synthetic error result; a result whose call is
 *   gone becomes plain text; empty blocks and empty turns are dropped;
 * - a mid-conversation `system` turn becomes a system message; one that falls between a
 *   tool call and its results waits until the results are placed.
 *
 * Thinking in the history: `thinking` and `redacted_thinking` blocks are never sent
 * upstream, as text or otherwise. Blocks signed by someone else (Anthropic, after a
 * client switched models mid-session) cannot be verified or used by Grok. Our own
 * (signature prefix `grok2api.v1.`) are dropped too, on purpose: xAI's chat completions
 * take no prior reasoning as input (only its Responses API carries reasoning across
 * turns, encrypted), and resending it as text would bill it as input and let the model
 * mistake its old scratchpad for something the user said.
 */
import type {
  ContentBlock,
  DocumentBlock,
  ImageBlock,
  MessagesRequest,
  Tool,
  ToolChoice,
  ToolResultBlock,
} from "../anthropic/schema";
import { invalidRequest } from "../http/errors";
import type { ModelCaps } from "../models/capabilities";
import type { ChatMessage, ChatRequest, ChatToolChoice, ContentPart, FunctionTool, ToolCall } from "../openai/schema";
import { upstreamToolCallId } from "./ids";

export const INTERRUPTED_TOOL_RESULT = "Error: the tool call was interrupted before it returned a result.";

export interface TranslateOptions {
  /** Upstream model id (after the model map / routing). */
  model: string;
  caps: ModelCaps;
  stream: boolean;
}

export interface Translated {
  body: ChatRequest;
  /** Things dropped on purpose, for the log (never prompt text). */
  warnings: string[];
}

type Block = ContentBlock | { type: string };
type Turn = { role: "user" | "assistant" | "system"; blocks: Block[] };

const textOf = (b: Block) => (b.type === "text" ? (b as { text: string }).text : "");

/**
 * Claude Code opens its system prompt with a billing line for Anthropic
 * (`x-anthropic-billing-header: cc_version=2.1.197.1c0; …`) whose suffix changes
 * between sessions. It means nothing to the upstream and would break the cached prefix.
 */
const BILLING_LINE = /^x-anthropic-billing-header:[^\n]*(\n+|$)/;

export function systemText(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system.replace(BILLING_LINE, "");
  return system
    .map((b) => b.text.replace(BILLING_LINE, ""))
    .filter((t) => t.length > 0)
    .join("\n\n");
}

/** Consecutive turns of the same role are one turn (the Anthropic API merges them too). */
export function mergeTurns(messages: MessagesRequest["messages"]): Turn[] {
  const turns: Turn[] = [];
  for (const m of messages) {
    const blocks: Block[] = typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content;
    const last = turns[turns.length - 1];
    if (last && last.role === m.role) last.blocks = last.blocks.concat(blocks);
    else turns.push({ role: m.role, blocks: [...blocks] });
  }
  return turns;
}

export function imageUrl(img: ImageBlock): string {
  return img.source.type === "base64" ? `data:${img.source.media_type};base64,${img.source.data}` : img.source.url;
}

/** A document as text for the model. PDFs must have been turned into text sources before. */
export function documentText(doc: DocumentBlock): string {
  const src = doc.source;
  let body: string;
  if (src.type === "text") body = src.data;
  else if (src.type === "content") {
    body =
      typeof src.content === "string"
        ? src.content
        : src.content.map((b) => textOf(b as Block)).filter(Boolean).join("\n\n");
  } else {
    const kind = src.type === "base64" ? src.media_type : "url";
    throw invalidRequest(`document source of type ${src.type} (${kind}) is not supported; send text or PDF documents`);
  }
  const head = [doc.title ? `Document: ${doc.title}` : "Document", doc.context ? `Context: ${doc.context}` : ""]
    .filter(Boolean)
    .join("\n");
  return `<document>\n${head}\n\n${body}\n</document>`;
}

/** What the conversion needs to know about the target model. */
export interface ConvertOptions {
  /** The model accepts images; when false, each image becomes a short note instead. */
  vision?: boolean;
}

/** Counters the conversion fills in, for the log. */
interface ConvertStats {
  imagesOmitted: number;
}

const IMAGE_OMITTED = "[image omitted: the model this request was routed to does not accept images]";

function imagePart(img: ImageBlock, opts: ConvertOptions, stats: ConvertStats): ContentPart {
  if (opts.vision === false) {
    stats.imagesOmitted++;
    return { type: "text", text: IMAGE_OMITTED };
  }
  return { type: "image_url", image_url: { url: imageUrl(img) } };
}

function toPart(b: Block, opts: ConvertOptions, stats: ConvertStats): ContentPart | null {
  switch (b.type) {
    case "text": {
      const text = textOf(b);
      return text.length > 0 ? { type: "text", text } : null;
    }
    case "image":
      return imagePart(b as ImageBlock, opts, stats);
    case "document":
      return { type: "text", text: documentText(b as DocumentBlock) };
    default:
      return null;
  }
}

function userMessage(parts: ContentPart[]): ChatMessage | null {
  if (parts.length === 0) return null;
  if (parts.length === 1 && parts[0]!.type === "text") return { role: "user", content: parts[0]!.text };
  return { role: "user", content: parts };
}

/** A tool_result's content as text for a `tool` message, plus images to forward separately. */
export function toolResultContent(
  r: ToolResultBlock,
  opts: ConvertOptions = {},
  stats: ConvertStats = { imagesOmitted: 0 },
): { text: string; images: ContentPart[] } {
  const images: ContentPart[] = [];
  let text: string;
  if (r.content === undefined) text = "";
  else if (typeof r.content === "string") text = r.content;
  else {
    const texts: string[] = [];
    for (const b of r.content) {
      if (b.type === "image") {
        const part = imagePart(b, opts, stats);
        if (part.type === "text") texts.push(part.text);
        else images.push(part);
      } else if (b.type === "document") texts.push(documentText(b));
      else if (b.text.length > 0) texts.push(b.text);
    }
    text = texts.join("\n\n");
    if (!text && images.length > 0) text = `(${images.length} image${images.length > 1 ? "s" : ""} attached below)`;
  }
  if (r.is_error) text = text ? `Error: ${text}` : "Error: the tool failed without a message.";
  return { text: text || "(no output)", images };
}

function stringifyInput(input: unknown): string {
  if (input === undefined || input === null) return "{}";
  return typeof input === "string" ? input : JSON.stringify(input);
}

export function convertMessages(
  req: Pick<MessagesRequest, "system" | "messages">,
  opts: ConvertOptions = {},
  stats: ConvertStats = { imagesOmitted: 0 },
): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = systemText(req.system);
  if (system) out.push({ role: "system", content: system });

  /** Tool calls of the last assistant turn still waiting for results (client ids, call order). */
  let pending: string[] = [];
  /** System turns that arrived while calls were pending: placed after the results. */
  let heldSystem: string[] = [];
  const placeHeldSystem = () => {
    for (const content of heldSystem) out.push({ role: "system", content });
    heldSystem = [];
  };
  const toolMessage = (id: string, content: string): ChatMessage => ({
    role: "tool",
    tool_call_id: upstreamToolCallId(id),
    content,
  });
  const answerMissing = () => {
    for (const id of pending) out.push(toolMessage(id, INTERRUPTED_TOOL_RESULT));
    pending = [];
    placeHeldSystem();
  };

  for (const turn of mergeTurns(req.messages)) {
    if (turn.role === "system") {
      const text = turn.blocks.map(textOf).filter(Boolean).join("\n\n");
      if (!text) continue;
      if (pending.length > 0) heldSystem.push(text);
      else out.push({ role: "system", content: text });
      continue;
    }

    if (turn.role === "assistant") {
      answerMissing();
      const texts: string[] = [];
      const calls: ToolCall[] = [];
      const ids: string[] = [];
      for (const b of turn.blocks) {
        if (b.type === "text" && textOf(b)) texts.push(textOf(b));
        else if (b.type === "tool_use") {
          const u = b as Extract<ContentBlock, { type: "tool_use" }>;
          if (ids.includes(u.id)) continue; // a repeated id would make the results ambiguous
          ids.push(u.id);
          calls.push({
            id: upstreamToolCallId(u.id),
            type: "function",
            function: { name: u.name, arguments: stringifyInput(u.input) },
          });
        }
        // thinking / redacted_thinking: never forwarded (see the note at the top).
      }
      if (texts.length === 0 && calls.length === 0) continue;
      const msg: ChatMessage = { role: "assistant", content: texts.length ? texts.join("\n\n") : null };
      if (calls.length) msg.tool_calls = calls;
      out.push(msg);
      pending = ids;
      continue;
    }

    // user turn
    const results = new Map<string, ToolResultBlock>();
    const parts: ContentPart[] = [];
    const resultImages: ContentPart[] = [];
    const orphanTexts: ContentPart[] = [];
    for (const b of turn.blocks) {
      if (b.type === "tool_result") {
        const r = b as ToolResultBlock;
        if (pending.includes(r.tool_use_id) && !results.has(r.tool_use_id)) results.set(r.tool_use_id, r);
        else {
          const { text, images } = toolResultContent(r, opts, stats);
          orphanTexts.push({ type: "text", text: `[Result of tool call ${r.tool_use_id}]\n${text}` }, ...images);
        }
      } else {
        const part = toPart(b, opts, stats);
        if (part) parts.push(part);
      }
    }
    for (const id of pending) {
      const r = results.get(id);
      if (!r) {
        out.push(toolMessage(id, INTERRUPTED_TOOL_RESULT));
        continue;
      }
      const { text, images } = toolResultContent(r, opts, stats);
      out.push(toolMessage(id, text));
      resultImages.push(...images);
    }
    pending = [];
    placeHeldSystem();
    const user = userMessage([...resultImages, ...orphanTexts, ...parts]);
    if (user) out.push(user);
  }
  answerMissing();
  return out;
}

/** Server tools (web_search_*, bash_*, text_editor_*, …) have a versioned `type`; the upstream cannot run them. */
export function isServerTool(t: Tool): boolean {
  return typeof t.type === "string" && t.type !== "custom";
}

export function convertTools(tools: Tool[] | undefined): { tools: FunctionTool[]; dropped: string[] } {
  const out: FunctionTool[] = [];
  const dropped: string[] = [];
  for (const t of tools ?? []) {
    if (isServerTool(t)) {
      dropped.push(`${t.name} (${t.type})`);
      continue;
    }
    const fn: FunctionTool["function"] = {
      name: t.name,
      parameters: t.input_schema ?? { type: "object", properties: {} },
    };
    if (t.description) fn.description = t.description;
    out.push({ type: "function", function: fn });
  }
  // Sorted by name, so the translated prefix stays byte-stable for the upstream's prompt
  // cache even when a client lists the same tools in another order.
  out.sort((a, b) => (a.function.name < b.function.name ? -1 : a.function.name > b.function.name ? 1 : 0));
  return { tools: out, dropped };
}

export function convertToolChoice(
  choice: ToolChoice | undefined,
  toolNames: ReadonlySet<string>,
): { tool_choice?: ChatToolChoice; parallel_tool_calls?: boolean } {
  if (!choice || toolNames.size === 0) return {};
  const parallel =
    "disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use ? { parallel_tool_calls: false } : {};
  switch (choice.type) {
    case "auto":
      return { tool_choice: "auto", ...parallel };
    case "any":
      return { tool_choice: "required", ...parallel };
    case "none":
      return { tool_choice: "none" };
    case "tool":
      if (!toolNames.has(choice.name)) return parallel;
      return { tool_choice: { type: "function", function: { name: choice.name } }, ...parallel };
  }
}

const EFFORT_ORDER = ["none", "minimal", "low", "medium", "high", "xhigh", "max"];

/** The closest value the model accepts to the wanted effort. */
export function nearestEffort(wanted: string, accepted: readonly string[]): string | undefined {
  if (accepted.includes(wanted)) return wanted;
  const w = EFFORT_ORDER.indexOf(wanted);
  if (w === -1) return undefined;
  let best: string | undefined;
  let bestDist = Infinity;
  for (const a of accepted) {
    const i = EFFORT_ORDER.indexOf(a);
    if (i === -1 || (a === "none" && wanted !== "none")) continue;
    const d = Math.abs(i - w) + (i < w ? 0.5 : 0); // on a tie, prefer more effort
    if (d < bestDist) {
      bestDist = d;
      best = a;
    }
  }
  return best;
}

/** Anthropic thinking / output_config.effort → `reasoning_effort`, only if the model takes one. */
export function reasoningEffort(req: Pick<MessagesRequest, "thinking" | "output_config">, caps: ModelCaps): string | undefined {
  const accepted = caps.reasoningEffort;
  if (!accepted || accepted.length === 0) return undefined;
  let wanted: string | undefined;
  const effort = req.output_config?.effort;
  if (req.thinking?.type === "disabled") wanted = "none";
  else if (effort) wanted = effort;
  else if (req.thinking?.type === "enabled") {
    const budget = req.thinking.budget_tokens ?? 0;
    wanted = budget < 4096 ? "low" : budget < 16384 ? "medium" : "high";
  }
  if (!wanted) return undefined;
  return nearestEffort(wanted, accepted);
}

export function toChatRequest(req: MessagesRequest, opts: TranslateOptions): Translated {
  const warnings: string[] = [];
  const stats: ConvertStats = { imagesOmitted: 0 };
  const body: ChatRequest = {
    model: opts.model,
    messages: convertMessages(req, { vision: opts.caps.vision }, stats),
    max_completion_tokens: Math.min(req.max_tokens, opts.caps.maxOutput),
  };
  if (stats.imagesOmitted > 0) {
    warnings.push(`${stats.imagesOmitted} image(s) replaced by a note: model ${opts.model} does not accept images`);
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.top_p = req.top_p;
  if (req.top_k !== undefined) warnings.push("top_k dropped (the upstream has none)");
  // stop_sequences are not sent: the gateway watches the output itself, so it can say which one matched.
  const user = req.metadata?.user_id;
  if (typeof user === "string" && user) body.user = user;

  const { tools, dropped } = convertTools(req.tools);
  if (dropped.length) warnings.push(`server tools dropped: ${dropped.join(", ")}`);
  if (tools.length) {
    body.tools = tools;
    Object.assign(body, convertToolChoice(req.tool_choice, new Set(tools.map((t) => t.function.name))));
  }

  const effort = reasoningEffort(req, opts.caps);
  if (effort) body.reasoning_effort = effort;

  if (opts.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return { body, warnings };
}
