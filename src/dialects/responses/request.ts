/**
 * Anthropic Messages request → xAI Responses request (`POST /v1/responses`). Pure.
 *
 * - `system` → `instructions` (billing line stripped); mid-conversation system turns → system items;
 * - user text / images / documents → a user item of `input_text` / `input_image` parts;
 * - an assistant turn → its items in block order: our reasoning (from the signature) as
 *   `{type:"reasoning", summary, encrypted_content}`, text as an assistant message,
 *   `tool_use` as `function_call` with the exact xAI `call_id`; a turn that carries no reasoning
 *   of ours gets what the reasoning store kept for it (`restored`, found by the route), each item
 *   put back before the element of the turn it came before (dialects/turn-digest.ts);
 * - `tool_result` → `function_call_output` right after, in call order (errors marked,
 *   images in a user item after the outputs); a call without a result gets an error output;
 * - thinking blocks signed by anyone else are dropped, never forwarded;
 * - custom tools and Anthropic's client tools (bash, text editor, memory, computer: the schema
 *   Claude knows, see anthropic/client-tools.ts) → function tools; what Anthropic adds to the
 *   system prompt for them goes first in `instructions`;
 * - Anthropic's web search tool → xAI's server-side `web_search` (and `x_search` when configured);
 *   a turn with our search blocks gives xAI back its own items, in place: reasoning with its id,
 *   the `web_search_call` items, the `tco_` tool outputs (from the results' encrypted_content)
 *   and the message with its inline links and annotations (from the citations' encrypted_index);
 *   anyone else's search blocks become plain text context;
 * - Anthropic's code execution tool (every version) → xAI's `code_interpreter`, and the MCP
 *   connector (`mcp_servers` + `mcp_toolset`) → one remote `mcp` tool per server
 *   (anthropic/mcp.ts); our code execution and MCP blocks sent back become xAI's
 *   `code_interpreter_call` / `mcp_call` items again, in place (code-interpreter.ts, mcp-calls.ts:
 *   xAI's spec takes output items as input; no recording shows it), anyone else's are plain text
 *   context (server-blocks-text.ts);
 * - never sent: `stop` (the gateway watches), penalties, `top_k`, `metadata`.
 */
import { withToolInstructions } from "../../anthropic/client-tools";
import type { MessagesRequest, Tool, ToolChoice } from "../../anthropic/schema";
import { mcpPlan } from "../../anthropic/mcp";
import { isCodeExecutionTool, refuseServerTools, webSearchSpec } from "../../anthropic/server-tools";
import { functionDefs } from "../../anthropic/tools";
import type { ModelCaps } from "../../models/capabilities";
import { reasoningEffort } from "../../models/effort";
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
} from "../prompt";
import { decodeReasoningSignature } from "../signature";
import { TurnPosition, type StoredReasoning } from "../turn-digest";
import { structuredOutput } from "../structured-output";
import { codeResultText, codeUseText, mcpResultBlockText, mcpUseText } from "../server-blocks-text";
import { codeInterpreterItem, codeItemOf, withResult } from "./code-interpreter";
import { mcpCallItem, mcpItemOf, withMcpResult } from "./mcp-calls";
import { decodeCitation, decodeResult, searchItemId, type ToolOutputItem } from "./search-codec";
import type {
  CodeInterpreterCallItem,
  FunctionToolDef,
  InputItem,
  InputPart,
  McpCallItem,
  ResponsesRequest,
  ResponsesToolChoice,
  ServerToolDef,
  UrlCitation,
} from "./wire";
import { assertNever } from "../../assert-never";
import { isRecord } from "../../is-record";

export interface ResponsesTranslateOptions {
  model: string;
  caps: ModelCaps;
  stream: boolean;
  /** The conversation's prompt-cache key (Claude Code session), when known. */
  cacheKey?: string;
  /** Leave out the encrypted reasoning (after xAI refused to decrypt it); summaries stay. */
  withoutEncryptedReasoning?: boolean;
  /** `[server_tools] x_search`: give xAI's x_search along with web_search. */
  xSearch?: boolean;
  /** What the reasoning store kept for assistant turns without reasoning of ours, by the turn's ordinal among the assistant turns. */
  restored?: ReadonlyMap<number, readonly StoredReasoning[]>;
}

export interface ResponsesTranslated {
  body: ResponsesRequest;
  warnings: string[];
  /** Reasoning items replayed with their encrypted content (from signatures and the store). */
  replayedReasoning: number;
  /** Of those, the ones the reasoning store gave back. */
  restoredReasoning: number;
}

const IMAGE_OMITTED = "[image omitted: the model this request was routed to does not accept images]";

/** Reasoning models: every one that rejects `stop` (the capability table marks them so) or has an effort dial. */
export const isReasoningModel = (caps: ModelCaps) => !caps.stop || (caps.reasoningEffort?.length ?? 0) > 0;

interface Walk {
  items: InputItem[];
  vision: boolean;
  keepEncrypted: boolean;
  imagesOmitted: number;
  foreignThinking: number;
  replayed: number;
  /** Items the reasoning store gave back. */
  restored: number;
  /** Assistant turns walked so far. */
  assistantTurns: number;
  restoredByTurn: ReadonlyMap<number, readonly StoredReasoning[]> | undefined;
}

function userParts(blocks: readonly PromptBlock[], w: Walk): InputPart[] {
  const parts: InputPart[] = [];
  for (const b of blocks) {
    if (b.type === "text") {
      if (b.text) parts.push({ type: "input_text", text: b.text });
    } else if (b.type === "image") {
      if (w.vision) parts.push({ type: "input_image", image_url: imageUrl(b) });
      else {
        w.imagesOmitted++;
        parts.push({ type: "input_text", text: IMAGE_OMITTED });
      }
    } else if (b.type === "document") parts.push({ type: "input_text", text: documentText(b) });
  }
  return parts;
}

function pushUser(parts: InputPart[], w: Walk): void {
  if (parts.length === 0) return;
  const only = parts[0]!;
  w.items.push({ role: "user", content: parts.length === 1 && only.type === "input_text" ? only.text : parts });
}

type TextLike = { type: "text"; text: string; citations?: unknown[] | null };

/** A run of text blocks: the message item xAI sent when our citations say which, else a plain assistant message. */
function textItem(run: TextLike[], w: Walk): void {
  let messageId = "";
  for (const b of run) for (const c of b.citations ?? []) messageId ||= decodeCitation(isRecord(c) ? c.encrypted_index : undefined)?.m ?? "";
  if (!messageId) {
    const texts = run.map((b) => b.text).filter((t) => t);
    // Cited answers (anyone's) are one text cut into blocks: their pieces join as they are.
    const sep = run.some((b) => (b.citations?.length ?? 0) > 0) ? "" : "\n\n";
    if (texts.length) w.items.push({ role: "assistant", content: [{ type: "output_text", text: texts.join(sep) }] });
    return;
  }
  // Our blocks split the text exactly: their text and the links taken out, in order, give it back.
  let text = "";
  const annotations: UrlCitation[] = [];
  for (const b of run) {
    text += b.text;
    for (const c of b.citations ?? []) {
      const carried = decodeCitation(isRecord(c) ? c.encrypted_index : undefined);
      if (!carried) continue;
      const start = text.length + Math.max(0, carried.s.lastIndexOf("[["));
      text += carried.s;
      annotations.push({ type: "url_citation", url: carried.u, start_index: start, end_index: text.length, title: carried.n });
    }
  }
  w.items.push({
    content: [{ type: "output_text", text, logprobs: [], annotations }],
    id: messageId,
    role: "assistant",
    type: "message",
    status: "completed",
  });
}

/** Anyone else's web search (real Anthropic's), as plain text the model can read: the query… */
const foreignQueryText = (query: string) => (query ? `[Web search: ${query}]` : "[Web search]");

/** …and what it found (titles and URLs; the encrypted page contents are Anthropic's, unreadable here). */
function foreignResultsText(content: unknown): string {
  if (!Array.isArray(content)) {
    const code = isRecord(content) ? content.error_code : undefined;
    return `(the search failed${typeof code === "string" ? `: ${code}` : ""})`;
  }
  const lines: string[] = [];
  for (const r of content) {
    if (!isRecord(r)) continue;
    const { url, title } = r;
    if (typeof url === "string") lines.push(`- ${typeof title === "string" && title ? `${title}: ` : ""}${url}`);
  }
  return lines.length ? lines.join("\n") : "(no results)";
}

/**
 * A reasoning item given back: on a turn with our server tool calls (searches, code, MCP) as xAI sent it (id, status, its keys in
 * xAI's order), else bare. `text`: the summary the client saw ("" for none).
 */
function pushReasoning(w: Walk, serverTurn: boolean, encrypted: string, id: string | undefined, text: string): void {
  if (serverTurn && id) {
    const summary = text ? [{ text, type: "summary_text" as const }] : [];
    w.items.push({ id, summary, type: "reasoning", status: "completed", encrypted_content: encrypted });
  } else {
    const summary = text ? [{ type: "summary_text" as const, text }] : [];
    w.items.push({ type: "reasoning", summary, encrypted_content: encrypted });
  }
  w.replayed++;
}

function assistantItems(blocks: readonly PromptBlock[], w: Walk): string[] {
  const ids: string[] = [];
  const seen = new Set<string>();
  let run: TextLike[] = [];
  const flushText = () => {
    if (run.length) textItem(run, w);
    run = [];
  };
  // A turn with our server tool calls is given back as xAI sent it: reasoning keeps its id and status.
  const serverTurn = blocks.some(
    (b) =>
      (b.type === "server_tool_use" && (searchItemId(b.id) !== undefined || codeItemOf(b.id) !== undefined)) ||
      (b.type === "mcp_tool_use" && mcpItemOf(b.id) !== undefined),
  );
  // What the store kept for this turn (only asked for turns that carry no reasoning themselves).
  const stored = w.keepEncrypted ? w.restoredByTurn?.get(w.assistantTurns) : undefined;
  w.assistantTurns++;
  let nextStored = 0;
  const position = stored ? new TurnPosition() : undefined;
  /** The stored items that go before element `at` (all that are left when undefined). */
  const placeStored = (at?: number) => {
    if (!stored || nextStored >= stored.length || (at !== undefined && stored[nextStored]!.at > at)) return;
    flushOutputs(); // the searches' tool outputs come right after them, before any later reasoning
    flushText();
    for (; nextStored < stored.length && (at === undefined || stored[nextStored]!.at <= at); nextStored++) {
      const r = stored[nextStored]!;
      pushReasoning(w, serverTurn, r.e, r.i, "");
      w.restored++;
    }
  };
  const queries = new Map<string, string>();
  // Our code execution and MCP calls, given back where they stand; their results fill them in.
  const codeCalls = new Map<string, CodeInterpreterCallItem>();
  const mcpCalls = new Map<string, McpCallItem>();
  // The tool outputs of the searches just replayed: they follow the run of searches, as xAI sent them.
  let outputs: ToolOutputItem[] = [];
  const flushOutputs = () => {
    for (const o of outputs) w.items.push({ id: o.i, summary: [], type: "reasoning", status: "completed", encrypted_content: o.e });
    w.replayed += outputs.length; // encrypted too: xAI's "could not decrypt" retry leaves them out
    outputs = [];
  };
  for (const b of blocks) {
    if (position) {
      const at = position.next(b);
      if (at !== undefined) placeStored(at);
    }
    if (b.type === "server_tool_use" && b.name === "code_execution") {
      flushOutputs();
      const item = codeInterpreterItem(b);
      if (item) {
        flushText();
        codeCalls.set(b.id, item);
        w.items.push(item);
      } else run.push({ type: "text", text: codeUseText(b.input) }); // anyone else's: context
      continue;
    }
    if (b.type === "code_execution_tool_result") {
      flushOutputs();
      const item = codeCalls.get(b.tool_use_id);
      if (item) withResult(item, b);
      else run.push({ type: "text", text: codeResultText(b) });
      continue;
    }
    if (b.type === "mcp_tool_use") {
      flushOutputs();
      const item = mcpCallItem(b);
      if (item) {
        flushText();
        mcpCalls.set(b.id, item);
        w.items.push(item);
      } else run.push({ type: "text", text: mcpUseText(b) });
      continue;
    }
    if (b.type === "mcp_tool_result") {
      flushOutputs();
      const item = mcpCalls.get(b.tool_use_id);
      if (item) withMcpResult(item, b);
      else run.push({ type: "text", text: mcpResultBlockText(b) });
      continue;
    }
    if (b.type === "server_tool_use") {
      const item = searchItemId(b.id);
      const query = isRecord(b.input) && typeof b.input.query === "string" ? b.input.query : "";
      if (item) {
        flushText();
        queries.set(b.id, query);
      } else run.push({ type: "text", text: `\n${foreignQueryText(query)}\n` });
      continue;
    }
    if (b.type === "web_search_tool_result") {
      const query = queries.get(b.tool_use_id);
      const item = searchItemId(b.tool_use_id);
      if (query === undefined || !item) {
        run.push({ type: "text", text: `${foreignResultsText(b.content)}\n\n` });
        continue;
      }
      // A search past max_uses (an error result) never finished for us: xAI gets nothing for it.
      if (!Array.isArray(b.content)) continue;
      const sources: Array<{ type: "url"; url: string }> = [];
      b.content.forEach((r, k) => {
        const url = isRecord(r) ? r.url : undefined;
        if (typeof url === "string") sources.push({ type: "url", url });
        const carried = k === 0 && isRecord(r) ? decodeResult(r.encrypted_content) : undefined;
        if (carried?.o && w.keepEncrypted) outputs.push(carried.o);
      });
      w.items.push({ id: item, type: "web_search_call", status: "completed", action: { type: "search", query, sources } });
      continue;
    }
    flushOutputs();
    if (b.type === "text") {
      if (b.text || (b.citations?.length ?? 0) > 0) run.push(b);
    } else if (b.type === "thinking") {
      const carried = decodeReasoningSignature(b.signature);
      if (!carried) {
        w.foreignThinking++;
        continue;
      }
      flushText();
      if (w.keepEncrypted) {
        pushReasoning(w, serverTurn, carried.encryptedContent, carried.id, b.thinking);
        continue;
      }
      const summary = b.thinking ? [{ type: "summary_text" as const, text: b.thinking }] : [];
      if (summary.length) {
        // xAI could not decrypt it: the readable summary still tells the model what it thought.
        w.items.push({ type: "reasoning", summary });
      }
    } else if (b.type === "redacted_thinking") {
      w.foreignThinking++;
    } else if (b.type === "tool_use") {
      if (seen.has(b.id)) continue; // a repeated id would make the results ambiguous
      flushText();
      ids.push(b.id);
      seen.add(b.id);
      w.items.push({ type: "function_call", call_id: upstreamToolCallId(b.id), name: b.name, arguments: stringifyInput(b.input) });
    }
  }
  flushOutputs();
  placeStored();
  flushText();
  return ids;
}

/** The conversation as Responses input items: one walk over the turns. */
export function convertInput(req: Pick<MessagesRequest, "messages">, w: Walk): void {
  const output = (id: string, text: string) => w.items.push({ type: "function_call_output", call_id: upstreamToolCallId(id), output: text });
  /** Images of the turn's results: they go first in the user message after the outputs. */
  let resultImages: PromptBlock[] = [];
  walkConversation(req.messages, {
    system: (content) => void w.items.push({ role: "system", content }),
    assistant: (blocks) => assistantItems(blocks, w),
    result(id, r) {
      if (!r) return output(id, INTERRUPTED_TOOL_RESULT);
      const { text, images } = toolResultParts(r);
      output(id, text);
      resultImages.push(...images);
    },
    user(orphans, rest) {
      const blocks: PromptBlock[] = resultImages;
      resultImages = [];
      for (const r of orphans) {
        const { text, images } = toolResultParts(r);
        blocks.push({ type: "text", text: `[Result of tool call ${r.tool_use_id}]\n${text}` }, ...images);
      }
      pushUser(userParts([...blocks, ...rest], w), w);
    },
  });
}

/**
 * Custom tools as they are, Anthropic's client tools (bash, text editor, …) as the functions
 * Claude knows, flat; sorted by name (see anthropic/tools.ts). Web search goes in serverTools;
 * anything else is a 400, never dropped.
 */
export function convertResponsesTools(tools: Tool[] | undefined): FunctionToolDef[] {
  return functionDefs(tools).map((fn) => ({ type: "function", ...fn }));
}

/**
 * Anthropic's server tools → xAI's server-side tools, in this order: web search (and x_search
 * when configured), the code interpreter, one remote MCP tool per server (in `mcp_servers` order).
 * Web search's domain lists go in `filters{}`: the shape xAI's and OpenAI's Responses
 * documentation give (and LiteLLM and chenyme/grok2api send to xAI); Vercel's flat fields are the
 * other form in use, with nothing saying xAI prefers them. `max_uses` is kept by the gateway
 * (search.ts); `user_location` has no xAI counterpart. Code execution has no settings to pass.
 */
export function serverTools(req: Pick<MessagesRequest, "tools" | "mcp_servers">, xSearch: boolean, warnings: string[]): ServerToolDef[] {
  const hosted: ServerToolDef[] = [];
  const spec = webSearchSpec(req.tools);
  if (spec) {
    const web: ServerToolDef = { type: "web_search" };
    if (spec.allowedDomains) web.filters = { allowed_domains: spec.allowedDomains };
    if (spec.blockedDomains) web.filters = { excluded_domains: spec.blockedDomains };
    if (spec.userLocation) warnings.push("web_search user_location ignored: the upstream's web search has no location setting");
    hosted.push(web);
    if (xSearch) hosted.push({ type: "x_search" });
  }
  if ((req.tools ?? []).some(isCodeExecutionTool)) hosted.push({ type: "code_interpreter" });
  const mcp = mcpPlan(req);
  warnings.push(...mcp.warnings);
  for (const s of mcp.servers) {
    hosted.push({
      type: "mcp",
      server_url: s.url,
      server_label: s.label,
      ...(s.allowedTools ? { allowed_tools: s.allowedTools } : {}),
      ...(s.authorization ? { authorization: s.authorization } : {}),
    });
  }
  return hosted;
}

export function convertResponsesToolChoice(
  choice: ToolChoice | undefined,
  names: ReadonlySet<string>,
): { tool_choice?: ResponsesToolChoice; parallel_tool_calls?: boolean } {
  if (!choice || names.size === 0) return {};
  const parallel = "disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use ? { parallel_tool_calls: false } : {};
  switch (choice.type) {
    case "auto":
      return { tool_choice: "auto", ...parallel };
    case "any":
      return { tool_choice: "required", ...parallel };
    case "none":
      return { tool_choice: "none" };
    case "tool":
      return names.has(choice.name) ? { tool_choice: { type: "function", name: choice.name }, ...parallel } : parallel;
    default:
      return assertNever(choice, "tool_choice");
  }
}

export function toResponsesRequest(req: MessagesRequest, opts: ResponsesTranslateOptions): ResponsesTranslated {
  const warnings: string[] = [];
  const w: Walk = {
    items: [],
    vision: opts.caps.vision,
    keepEncrypted: !opts.withoutEncryptedReasoning,
    imagesOmitted: 0,
    foreignThinking: 0,
    replayed: 0,
    restored: 0,
    assistantTurns: 0,
    restoredByTurn: opts.restored,
  };
  convertInput(req, w);
  const body: ResponsesRequest = { model: opts.model, input: w.items, max_output_tokens: Math.min(req.max_tokens, opts.caps.maxOutput), store: false };
  // What Anthropic adds for its own tools (computer use, memory) comes first, the client's system after.
  const instructions = withToolInstructions(systemText(req.system), req.tools);
  if (instructions) body.instructions = instructions;
  if (w.imagesOmitted > 0) warnings.push(`${w.imagesOmitted} image(s) replaced by a note: model ${opts.model} does not accept images`);
  if (w.foreignThinking > 0) warnings.push(`${w.foreignThinking} thinking block(s) not signed by this gateway dropped`);
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.top_p = req.top_p;
  if (req.top_k !== undefined) warnings.push("top_k dropped (the upstream has none)");

  refuseServerTools(req.tools, "responses");
  const tools = convertResponsesTools(req.tools);
  const hosted = serverTools(req, opts.xSearch ?? false, warnings);
  if (tools.length) {
    body.tools = [...tools, ...hosted];
    Object.assign(body, convertResponsesToolChoice(req.tool_choice, new Set(tools.map((t) => t.name))));
  } else if (hosted.length) body.tools = hosted;
  const choice = req.tool_choice;
  if (choice?.type === "tool" && (choice.name === "web_search" || choice.name === "code_execution") && !tools.some((t) => t.name === choice.name)) {
    warnings.push(`tool_choice ${choice.name} not forced: xAI cannot force its server-side tools (the model chooses)`);
  }
  const effort = reasoningEffort(req, opts.caps);
  if (effort) body.reasoning = { effort };
  if (isReasoningModel(opts.caps)) body.include = ["reasoning.encrypted_content"];
  const format = structuredOutput(req);
  if (format) body.text = { format: { type: "json_schema", name: format.name, schema: format.schema, strict: true } };
  if (opts.cacheKey) body.prompt_cache_key = opts.cacheKey;
  if (opts.stream) body.stream = true;
  return { body, warnings, replayedReasoning: w.replayed, restoredReasoning: w.restored };
}
