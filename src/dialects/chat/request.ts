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
 *
 * Code execution and MCP blocks of an earlier answer (served on a Responses upstream, or by
 * Anthropic) are plain text context here: chat completions have no server-side tools, and a
 * request that asks for them is a 400 (anthropic/server-tools.ts).
 */
import { withToolInstructions } from "../../anthropic/client-tools";
import type { ImageBlock, MessagesRequest, Tool, ToolChoice } from "../../anthropic/schema";
import { refuseServerTools } from "../../anthropic/server-tools";
import { functionDefs } from "../../anthropic/tools";
import type { ModelCaps } from "../../models/capabilities";
import { reasoningEffort } from "../../models/effort";
import type { ChatMessage, ChatRequest, ChatToolChoice, ContentPart, FunctionTool, ToolCall } from "./wire";
import { upstreamToolCallId } from "../ids";
import {
  documentText,
  imageUrl,
  INTERRUPTED_TOOL_RESULT,
  stringifyInput,
  systemText,
  toolResultParts,
  walkConversation,
  type PromptBlock,
  type PromptToolResult,
} from "../prompt";
import { codeResultText, codeUseText, mcpResultBlockText, mcpUseText } from "../server-blocks-text";
import { structuredOutput } from "../structured-output";
import { assertNever } from "../../assert-never";

export { INTERRUPTED_TOOL_RESULT };

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

function toPart(b: PromptBlock, opts: ConvertOptions, stats: ConvertStats): ContentPart | null {
  switch (b.type) {
    case "text":
      return b.text.length > 0 ? { type: "text", text: b.text } : null;
    case "image":
      return imagePart(b, opts, stats);
    case "document":
      return { type: "text", text: documentText(b) };
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
  r: PromptToolResult,
  opts: ConvertOptions = {},
  stats: ConvertStats = { imagesOmitted: 0 },
): { text: string; images: ContentPart[] } {
  const { text, images } = toolResultParts(r);
  const parts = images.map((img) => imagePart(img, opts, stats));
  // An image the model cannot take stays in the text as a note (routing normally sends such requests elsewhere).
  const notes = parts.flatMap((p) => (p.type === "text" ? [p.text] : []));
  return { text: notes.length ? [text, ...notes].join("\n\n") : text, images: parts.filter((p) => p.type !== "text") };
}

export function convertMessages(
  req: Pick<MessagesRequest, "system" | "messages"> & Partial<Pick<MessagesRequest, "tools">>,
  opts: ConvertOptions = {},
  stats: ConvertStats = { imagesOmitted: 0 },
): ChatMessage[] {
  const out: ChatMessage[] = [];
  // What Anthropic adds for its own tools (computer use, memory) comes first, the client's system after.
  const system = withToolInstructions(systemText(req.system), req.tools);
  if (system) out.push({ role: "system", content: system });

  const toolMessage = (id: string, content: string): ChatMessage => ({ role: "tool", tool_call_id: upstreamToolCallId(id), content });
  /** Images of the turn's results: they go first in the user message after the tool messages. */
  let resultImages: ContentPart[] = [];
  walkConversation(req.messages, {
    system: (content) => void out.push({ role: "system", content }),
    assistant(blocks) {
      const texts: string[] = [];
      const calls: ToolCall[] = [];
      const ids: string[] = [];
      const seen = new Set<string>();
      for (const b of blocks) {
        if (b.type === "text" && b.text) texts.push(b.text);
        else if (b.type === "server_tool_use" && b.name === "code_execution") texts.push(codeUseText(b.input));
        else if (b.type === "code_execution_tool_result") texts.push(codeResultText(b));
        else if (b.type === "mcp_tool_use") texts.push(mcpUseText(b));
        else if (b.type === "mcp_tool_result") texts.push(mcpResultBlockText(b));
        else if (b.type === "tool_use") {
          if (seen.has(b.id)) continue; // a repeated id would make the results ambiguous
          ids.push(b.id);
          seen.add(b.id);
          calls.push({ id: upstreamToolCallId(b.id), type: "function", function: { name: b.name, arguments: stringifyInput(b.input) } });
        }
        // thinking / redacted_thinking: never forwarded (see the note at the top).
      }
      if (texts.length === 0 && calls.length === 0) return [];
      const msg: ChatMessage = { role: "assistant", content: texts.length ? texts.join("\n\n") : null };
      if (calls.length) msg.tool_calls = calls;
      out.push(msg);
      return ids;
    },
    result(id, r) {
      if (!r) return void out.push(toolMessage(id, INTERRUPTED_TOOL_RESULT));
      const { text, images } = toolResultContent(r, opts, stats);
      out.push(toolMessage(id, text));
      resultImages.push(...images);
    },
    user(orphans, rest) {
      const parts: ContentPart[] = resultImages;
      resultImages = [];
      for (const r of orphans) {
        const { text, images } = toolResultContent(r, opts, stats);
        parts.push({ type: "text", text: `[Result of tool call ${r.tool_use_id}]\n${text}` }, ...images);
      }
      for (const b of rest) {
        const part = toPart(b, opts, stats);
        if (part) parts.push(part);
      }
      const user = userMessage(parts);
      if (user) out.push(user);
    },
  });
  return out;
}

/**
 * Custom tools as they are, Anthropic's client tools (bash, text editor, …) as the functions
 * Claude knows; sorted by name (see anthropic/tools.ts). Anything else is a 400, never dropped.
 */
export function convertTools(tools: Tool[] | undefined): FunctionTool[] {
  refuseServerTools(tools, "chat"); // web search exists only on the Responses upstream
  return functionDefs(tools).map((fn) => ({ type: "function", function: fn }));
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
    default:
      return assertNever(choice, "tool_choice");
  }
}

export function toChatRequest(req: MessagesRequest, opts: TranslateOptions): Translated {
  refuseServerTools(req.tools, "chat", req.mcp_servers); // no server-side tools here: a 400 that says so
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

  const tools = convertTools(req.tools);
  if (tools.length) {
    body.tools = tools;
    Object.assign(body, convertToolChoice(req.tool_choice, new Set(tools.map((t) => t.function.name))));
  }

  const effort = reasoningEffort(req, opts.caps);
  if (effort) body.reasoning_effort = effort;

  const format = structuredOutput(req);
  if (format) body.response_format = { type: "json_schema", json_schema: { name: format.name, schema: format.schema, strict: true } };

  if (opts.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return { body, warnings };
}
