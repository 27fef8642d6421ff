/**
 * A client's Responses API request (`POST /v1/responses`), fitted to xAI's
 * Responses API: the model name replaced by the mapped one, and what xAI rejects
 * or lacks adjusted — OpenAI's tool types and fields xAI does not have, parameters
 * the model rejects (from the capability table), replayed reasoning items xAI would
 * refuse. Everything else is left exactly as sent; `store` and `include` (Codex
 * sends `store:false` with `include:["reasoning.encrypted_content"]`) go as sent.
 * Each change is named in `adjusted` (names and enum words, never content). Pure.
 */
import type { ModelCaps } from "../../models/capabilities";
import { nearestEffort } from "../../models/effort";
import { isRecord } from "../../is-record";
import type { ModelBody } from "../openai/proxy";

export interface FittedResponsesRequest {
  body: ModelBody;
  /** What was changed, for the log and the `grok2api-adjusted-params` header. */
  adjusted: string[];
}

type Obj = Record<string, unknown>;

/** Tool types xAI's Responses API knows (docs.x.ai, and the recordings in xai-responses.md §1.3). */
const XAI_TOOL_TYPES = new Set([
  "function",
  "web_search",
  "x_search",
  "code_interpreter",
  "code_execution",
  "file_search",
  "mcp",
  "image_generation",
  "view_image",
  "view_x_video",
]);

/** OpenAI's names for the web search tool: `web_search_preview`, dated versions of both. */
const WEB_SEARCH_NAME = /^web_search(_preview)?(_\d{4}_\d{2}_\d{2})?$/;

/** The fields of xAI's `web_search` tool; OpenAI's others (search_context_size, user_location, …) are rejected. */
const WEB_SEARCH_FIELDS = new Set([
  "type",
  "allowed_domains",
  "excluded_domains",
  "filters",
  "enable_image_understanding",
  "enable_image_search",
]);

/** Fields xAI documents as unsupported on a tool type. */
const UNSUPPORTED_TOOL_FIELDS: Record<string, readonly string[]> = {
  code_interpreter: ["container"],
  code_execution: ["container"],
  mcp: ["require_approval", "connector_id"],
};

/** Top-level fields of OpenAI's Responses API that xAI does not take. */
const OPENAI_ONLY_FIELDS = ["metadata", "client_metadata", "stream_options", "prompt_cache_retention"] as const;

const SERVICE_TIERS = new Set(["default", "priority"]);
const KNOWN_SERVICE_TIERS = new Set(["auto", "default", "flex", "scale", "priority"]);
const PENALTIES = ["presence_penalty", "frequency_penalty"] as const;

/**
 * Fields with no xAI equivalent that cannot be dropped without changing the answer:
 * a 400 that says so (in OpenAI's envelope), rather than a quietly different request.
 */
export function unsupportedResponsesField(request: Obj): string | undefined {
  if (request.background === true) {
    return "background: true is not supported: grok2api relays the answer as it is made (send stream: true for a long answer)";
  }
  if (request.conversation !== undefined && request.conversation !== null) {
    return "conversation is not supported by the upstream: send the earlier turns in input, or previous_response_id";
  }
  if (request.prompt !== undefined && request.prompt !== null) {
    return "prompt (a stored prompt template) is not supported by the upstream: send instructions and input instead";
  }
  return undefined;
}

class Notes {
  readonly list: string[] = [];
  add(note: string): void {
    if (!this.list.includes(note)) this.list.push(note);
  }
}

/** One client tool → the xAI tool, or undefined when xAI has no such tool; a malformed one as it is. */
function fitTool(tool: unknown, notes: Notes): unknown {
  if (!isRecord(tool) || typeof tool.type !== "string") return tool; // malformed: xAI says what is wrong
  const type = tool.type;
  if (type === "function" && isRecord(tool.function) && tool.name === undefined) {
    // Chat Completions' nested form: xAI needs the flat one.
    const { function: fn, ...rest } = tool;
    notes.add("tools.function flattened");
    return { ...rest, ...fn, type: "function" };
  }
  if (WEB_SEARCH_NAME.test(type)) {
    if (tool.external_web_access === false) {
      // The client asked for cached results only; xAI searches live, so no search at all.
      notes.add("tools.web_search dropped (external_web_access false)");
      return undefined;
    }
    const out: Obj = { type: "web_search" };
    if (type !== "web_search") notes.add(`tools.${type} -> web_search`);
    for (const [k, v] of Object.entries(tool)) {
      if (k === "type") continue;
      if (WEB_SEARCH_FIELDS.has(k)) out[k] = v;
      else notes.add(`tools.web_search.${k} dropped`);
    }
    return out;
  }
  if (!XAI_TOOL_TYPES.has(type)) {
    notes.add(`tools.${/^[a-z0-9_]{1,64}$/.test(type) ? type : "unknown"} dropped`);
    return undefined;
  }
  const unsupported = UNSUPPORTED_TOOL_FIELDS[type]?.filter((k) => k in tool);
  if (!unsupported?.length) return tool;
  const out = { ...tool };
  for (const k of unsupported) {
    delete out[k];
    notes.add(`tools.${type}.${k} dropped`);
  }
  return out;
}

/** `tool_choice` for the tools that remain; undefined to leave it out. */
function fitToolChoice(choice: unknown, tools: unknown[], notes: Notes): unknown {
  if (typeof choice === "string" || !isRecord(choice)) return choice;
  if (choice.type === "function") {
    const name = typeof choice.name === "string" ? choice.name : isRecord(choice.function) ? choice.function.name : undefined;
    if (typeof name !== "string") return choice;
    if (!tools.some((t) => isRecord(t) && t.type === "function" && t.name === name)) {
      notes.add("tool_choice dropped (tool not sent)");
      return undefined;
    }
    if (choice.name === undefined) notes.add("tool_choice.function flattened");
    return { type: "function", name };
  }
  // Hosted tools (web_search_preview, …), allowed_tools, mcp, custom: xAI forces only functions.
  notes.add(`tool_choice.${/^[a-z0-9_]{1,64}$/.test(String(choice.type)) ? String(choice.type) : "unknown"} dropped`);
  return undefined;
}

function fitTools(body: Obj, notes: Notes): void {
  if (!Array.isArray(body.tools)) return;
  const tools = body.tools.map((t) => fitTool(t, notes)).filter((t) => t !== undefined);
  if (tools.length === 0 && body.tools.length > 0) {
    delete body.tools;
    if (body.tool_choice !== undefined && body.tool_choice !== "auto" && body.tool_choice !== "none") {
      notes.add("tool_choice dropped (no tool left)");
    }
    delete body.tool_choice;
    return;
  }
  body.tools = tools;
  if (body.tool_choice !== undefined) {
    const choice = fitToolChoice(body.tool_choice, tools, notes);
    if (choice === undefined) delete body.tool_choice;
    else body.tool_choice = choice;
  }
}

/** `reasoning` for the model: dropped when it takes no effort dial, the effort moved to one it takes. */
function fitReasoning(body: Obj, accepted: ModelCaps["reasoningEffort"], notes: Notes): void {
  if (!isRecord(body.reasoning)) return;
  if (!accepted || accepted.length === 0) {
    // xAI rejects `reasoning` on models without an effort dial (grok-4.20, …).
    delete body.reasoning;
    notes.add("reasoning dropped");
    return;
  }
  const r: Obj = { ...body.reasoning };
  if ("generate_summary" in r) {
    if (r.summary === undefined && r.generate_summary != null) r.summary = r.generate_summary;
    delete r.generate_summary;
    notes.add("reasoning.generate_summary -> summary");
  }
  const wanted = r.effort;
  if (typeof wanted === "string" && !accepted.includes(wanted)) {
    const nearest = nearestEffort(wanted, accepted);
    if (nearest) {
      r.effort = nearest;
      notes.add(`reasoning.effort ${wanted} -> ${nearest}`);
    } else {
      delete r.effort;
      notes.add("reasoning.effort dropped");
    }
  }
  body.reasoning = r;
}

/**
 * Replayed reasoning items as xAI accepts them: no null fields (xAI takes `"content": null`
 * for a modified blob and answers 400), and always a `summary` (`[]` at least).
 */
function fitInput(body: Obj, notes: Notes): void {
  if (!Array.isArray(body.input)) return;
  // The input is only copied when an item needs fitting (a large input is otherwise left as it came).
  let input: unknown[] | undefined;
  const items: unknown[] = body.input;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!isRecord(item) || item.type !== "reasoning") continue;
    const nulls = Object.keys(item).filter((k) => item[k] === null);
    const noSummary = !Array.isArray(item.summary);
    if (nulls.length === 0 && !noSummary) continue;
    const out: Obj = { ...item };
    for (const k of nulls) delete out[k];
    if (noSummary) out.summary = [];
    (input ??= [...items])[i] = out;
  }
  if (input) {
    body.input = input;
    notes.add("input.reasoning null fields dropped");
  }
}

export function fitResponsesRequest(request: Obj, opts: { model: string; caps: ModelCaps }): FittedResponsesRequest {
  const body: ModelBody = { ...request, model: opts.model };
  const notes = new Notes();
  for (const f of OPENAI_ONLY_FIELDS) {
    if (f in body) {
      delete body[f];
      notes.add(`${f} dropped`);
    }
  }
  if (typeof body.service_tier === "string" && !SERVICE_TIERS.has(body.service_tier)) {
    notes.add(`service_tier ${KNOWN_SERVICE_TIERS.has(body.service_tier) ? body.service_tier : "value"} dropped`);
    delete body.service_tier;
  }
  if (isRecord(body.text) && "verbosity" in body.text) {
    const { verbosity: _, ...text } = body.text;
    notes.add("text.verbosity dropped");
    if (Object.keys(text).length) body.text = text;
    else delete body.text;
  }
  fitTools(body, notes);
  fitReasoning(body, opts.caps.reasoningEffort, notes);
  if (!opts.caps.stop && "stop" in body) {
    delete body.stop;
    notes.add("stop dropped");
  }
  if (!opts.caps.penalties) {
    for (const p of PENALTIES) {
      if (p in body) {
        delete body[p];
        notes.add(`${p} dropped`);
      }
    }
  }
  fitInput(body, notes);
  return { body, adjusted: notes.list };
}
