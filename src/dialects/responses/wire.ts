/**
 * xAI Responses API wire shapes (`POST /v1/responses`), as the recordings show them
 * (see tests/fixtures/xai-responses/). Only what the gateway writes or reads; unknown
 * fields and unknown item / event types are tolerated by the readers.
 */

export type InputText = { type: "input_text"; text: string };
export type InputImage = { type: "input_image"; image_url: string };
export type InputPart = InputText | InputImage;
export type SummaryText = { type: "summary_text"; text: string } | { text: string; type: "summary_text" };

export type InputItem =
  | { role: "user" | "system"; content: string | InputPart[] }
  | { role: "assistant"; content: Array<{ type: "output_text"; text: string }> }
  /** Replayed reasoning: exactly these keys, never a null (xAI takes any extra key as a modified blob). */
  | { type: "reasoning"; summary: SummaryText[]; encrypted_content?: string }
  | { type: "function_call"; call_id: string; name: string; arguments: string }
  | { type: "function_call_output"; call_id: string; output: string }
  /** Items of a turn with server-side searches, given back as xAI sent them (keys in xAI's order). */
  | { id: string; summary: SummaryText[]; type: "reasoning"; status: "completed"; encrypted_content: string }
  | { id: string; type: "web_search_call"; status: "completed"; action: { type: "search"; query: string; sources: Array<{ type: "url"; url: string }> } }
  | { content: [OutputTextWithAnnotations]; id: string; role: "assistant"; type: "message"; status: "completed" }
  | McpCallItem
  | CodeInterpreterCallItem;

/**
 * xAI's remote MCP call (spec `McpCall`), given back in place on the next turn: xAI's spec lists
 * it among the input items (`ModelInputPart` includes `ModelOutput`); no recording shows one.
 */
export interface McpCallItem {
  type: "mcp_call";
  id: string;
  name: string;
  server_label: string;
  /** JSON of the input. */
  arguments: string;
  /** JSON of the MCP result, `{content:[{type:"text",text}], isError}`; "" when the call failed. */
  output: string;
  error?: string;
  status: "completed";
}

/**
 * xAI's code interpreter call, given back in the shape xAI sent it: the recorded one (a
 * function-call shape: the code in `arguments`, keys in xAI's order) or the spec's
 * `CodeInterpreterCall` (`code`, and `outputs` holding what it printed).
 */
export type CodeInterpreterCallItem =
  | { arguments: string; call_id: string; name: "code_execution"; type: "code_interpreter_call"; id: string; status: "completed" }
  | { id: string; type: "code_interpreter_call"; code: string; outputs: Array<{ type: "logs"; logs: string }>; status: "completed" };

export interface UrlCitation {
  type: "url_citation";
  url: string;
  start_index: number;
  end_index: number;
  title: string;
}
export type OutputTextWithAnnotations = { type: "output_text"; text: string; logprobs: []; annotations: UrlCitation[] };

/** xAI's server-side web search; domain filters in `filters` (see request.ts). */
export interface WebSearchToolDef {
  type: "web_search";
  filters?: { allowed_domains?: string[]; excluded_domains?: string[] };
}
/** xAI's remote MCP tool: xAI connects to `server_url` (see anthropic/mcp.ts). */
export interface McpToolDef {
  type: "mcp";
  server_url: string;
  server_label: string;
  allowed_tools?: string[];
  authorization?: string;
}
export type ServerToolDef = WebSearchToolDef | { type: "x_search" } | { type: "code_interpreter" } | McpToolDef;

export interface FunctionToolDef {
  type: "function";
  name: string;
  description?: string;
  parameters: unknown;
}

export type ResponsesToolChoice = "auto" | "none" | "required" | { type: "function"; name: string };

export interface ResponsesRequest {
  model: string;
  input: InputItem[];
  instructions?: string;
  max_output_tokens: number;
  temperature?: number;
  top_p?: number;
  tools?: Array<FunctionToolDef | ServerToolDef>;
  tool_choice?: ResponsesToolChoice;
  parallel_tool_calls?: boolean;
  reasoning?: { effort: string };
  include?: string[];
  text?: { format: { type: "json_schema"; name: string; schema: Record<string, unknown>; strict: true } };
  prompt_cache_key?: string;
  store: false;
  stream?: true;
}

/** Usage as xAI reports it: output_tokens already includes reasoning. */
export interface ResponsesUsage {
  input_tokens?: number;
  output_tokens?: number;
  input_tokens_details?: { cached_tokens?: number };
  output_tokens_details?: { reasoning_tokens?: number };
}

export type OutputItem =
  | { type: "reasoning"; id?: string; summary?: SummaryText[]; encrypted_content?: string | null }
  | { type: "message"; id?: string; content?: Array<{ type: string; text?: string; refusal?: string }> }
  | { type: "function_call"; id?: string; call_id: string; name: string; arguments?: string }
  | { type: string; id?: string };

export interface ResponseObject {
  id?: string;
  status?: string;
  output?: OutputItem[];
  usage?: ResponsesUsage | null;
  incomplete_details?: { reason?: string } | null;
  error?: { code?: string; message?: string } | null;
}

/** One stream event: `type` names it; the fields depend on the type. */
export interface ResponsesEvent {
  type: string;
  sequence_number?: number;
  response?: ResponseObject;
  item?: OutputItem;
  output_index?: number;
  item_id?: string;
  summary_index?: number;
  delta?: string;
  code?: string;
  message?: string;
}
