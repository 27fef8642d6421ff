/**
 * Anthropic Messages API wire schemas (requests in, messages out).
 * Objects accept unknown fields: clients send many we ignore.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

const Obj = <T extends Record<string, TSchema>>(props: T) => Type.Object(props);

export const CacheControl = Type.Optional(Type.Unknown());

export const TextBlock = Obj({
  type: Type.Literal("text"),
  text: Type.String(),
  cache_control: CacheControl,
  /** Citations of an answer sent back (ours carry what xAI needs to see the turn again, see dialects/responses/search-codec.ts). */
  citations: Type.Optional(Type.Union([Type.Array(Type.Unknown()), Type.Null()])),
});

export const Base64Source = Obj({
  type: Type.Literal("base64"),
  media_type: Type.String({ minLength: 1 }),
  data: Type.String({ minLength: 1 }),
});
export const UrlSource = Obj({ type: Type.Literal("url"), url: Type.String({ minLength: 1 }) });
export const TextSource = Obj({ type: Type.Literal("text"), media_type: Type.Optional(Type.String()), data: Type.String() });
/** A file uploaded to /v1/files: read before translation (documents/resolver.ts), never sent upstream as a reference. */
export const FileSource = Obj({ type: Type.Literal("file"), file_id: Type.String({ minLength: 1 }) });

export const ImageBlock = Obj({
  type: Type.Literal("image"),
  source: Type.Union([Base64Source, UrlSource, FileSource]),
  cache_control: CacheControl,
});

export const DocumentBlock = Obj({
  type: Type.Literal("document"),
  source: Type.Union([
    Base64Source,
    UrlSource,
    TextSource,
    Obj({ type: Type.Literal("content"), content: Type.Union([Type.String(), Type.Array(Type.Unknown())]) }),
    FileSource,
  ]),
  title: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  context: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  cache_control: CacheControl,
});

export const ToolUseBlock = Obj({
  type: Type.Literal("tool_use"),
  id: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  input: Type.Unknown(),
  cache_control: CacheControl,
});

/**
 * A search result the client supplies (its own RAG, or a tool's answer): rendered as text in
 * place for the upstream (dialects/search-results.ts). Its text blocks must not be empty.
 */
export const SearchResultBlock = Obj({
  type: Type.Literal("search_result"),
  source: Type.String(),
  title: Type.String(),
  content: Type.Array(
    Obj({
      type: Type.Literal("text"),
      text: Type.String({ minLength: 1 }),
      cache_control: CacheControl,
      citations: Type.Optional(Type.Union([Type.Array(Type.Unknown()), Type.Null()])),
    }),
    { minItems: 1 },
  ),
  citations: Type.Optional(Type.Union([Obj({ enabled: Type.Optional(Type.Boolean()) }), Type.Null()])),
  cache_control: CacheControl,
});

export const ToolResultBlock = Obj({
  type: Type.Literal("tool_result"),
  tool_use_id: Type.String({ minLength: 1 }),
  content: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Union([TextBlock, ImageBlock, DocumentBlock, SearchResultBlock]))])),
  is_error: Type.Optional(Type.Boolean()),
  cache_control: CacheControl,
});

export const ThinkingBlock = Obj({
  type: Type.Literal("thinking"),
  thinking: Type.String(),
  signature: Type.Optional(Type.String()),
});
export const RedactedThinkingBlock = Obj({ type: Type.Literal("redacted_thinking"), data: Type.String() });

/** A server tool call sent back in an assistant turn (web_search: ours or real Anthropic's). */
export const ServerToolUseBlock = Obj({
  type: Type.Literal("server_tool_use"),
  id: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  input: Type.Unknown(),
  cache_control: CacheControl,
});

/** Its result: a list of `web_search_result`, or an error object. */
export const WebSearchToolResultBlock = Obj({
  type: Type.Literal("web_search_tool_result"),
  tool_use_id: Type.String({ minLength: 1 }),
  content: Type.Union([Type.Array(Type.Unknown()), Type.Unknown()]),
  cache_control: CacheControl,
});

/** A code execution's result sent back (ours: `code_execution_result`; real Anthropic's may be encrypted or an error). */
export const CodeExecutionToolResultBlock = Obj({
  type: Type.Literal("code_execution_tool_result"),
  tool_use_id: Type.String({ minLength: 1 }),
  content: Type.Unknown(),
  cache_control: CacheControl,
});

/** A call of a tool of an MCP server (the MCP connector), sent back in an assistant turn. */
export const McpToolUseBlock = Obj({
  type: Type.Literal("mcp_tool_use"),
  id: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  server_name: Type.String({ minLength: 1 }),
  input: Type.Unknown(),
  cache_control: CacheControl,
});

/** Its result: text (a string or text blocks), `is_error` when the tool failed. */
export const McpToolResultBlock = Obj({
  type: Type.Literal("mcp_tool_result"),
  tool_use_id: Type.String({ minLength: 1 }),
  content: Type.Optional(Type.Union([Type.String(), Type.Array(TextBlock)])),
  is_error: Type.Optional(Type.Boolean()),
  cache_control: CacheControl,
});

/** The block types we translate. Any other `type` is a 400 naming it (see validate.ts). */
export const KNOWN_BLOCKS = {
  text: TextBlock,
  image: ImageBlock,
  document: DocumentBlock,
  search_result: SearchResultBlock,
  tool_use: ToolUseBlock,
  tool_result: ToolResultBlock,
  thinking: ThinkingBlock,
  redacted_thinking: RedactedThinkingBlock,
  server_tool_use: ServerToolUseBlock,
  web_search_tool_result: WebSearchToolResultBlock,
  code_execution_tool_result: CodeExecutionToolResultBlock,
  mcp_tool_use: McpToolUseBlock,
  mcp_tool_result: McpToolResultBlock,
} as const;

export const OtherBlock = Obj({ type: Type.String() });

export const ContentBlock = Type.Union([
  TextBlock,
  ImageBlock,
  DocumentBlock,
  SearchResultBlock,
  ToolUseBlock,
  ToolResultBlock,
  ThinkingBlock,
  RedactedThinkingBlock,
  ServerToolUseBlock,
  WebSearchToolResultBlock,
  CodeExecutionToolResultBlock,
  McpToolUseBlock,
  McpToolResultBlock,
]);

export const Message = Obj({
  role: Type.Union([Type.Literal("user"), Type.Literal("assistant"), Type.Literal("system")]),
  content: Type.Union([Type.String(), Type.Array(OtherBlock)]),
});

/**
 * A tool: `name` is required of every type but `mcp_toolset`, which names its server instead
 * (`mcp_server_name`; checked with the request's `mcp_servers`, see mcp.ts); tools.ts says which.
 */
export const Tool = Obj({
  name: Type.Optional(Type.String({ minLength: 1 })),
  type: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  description: Type.Optional(Type.String()),
  input_schema: Type.Optional(Type.Unknown()),
});

export const ToolChoice = Type.Union([
  Obj({ type: Type.Literal("auto"), disable_parallel_tool_use: Type.Optional(Type.Boolean()) }),
  Obj({ type: Type.Literal("any"), disable_parallel_tool_use: Type.Optional(Type.Boolean()) }),
  Obj({ type: Type.Literal("tool"), name: Type.String({ minLength: 1 }), disable_parallel_tool_use: Type.Optional(Type.Boolean()) }),
  Obj({ type: Type.Literal("none") }),
]);

export const Thinking = Type.Union([
  Obj({ type: Type.Literal("enabled"), budget_tokens: Type.Optional(Type.Integer({ minimum: 0 })) }),
  Obj({ type: Type.Literal("adaptive") }),
  Obj({ type: Type.Literal("disabled") }),
]);

/**
 * An MCP server the MCP connector may call (`mcp_servers[]`, beta `mcp-client-2025-11-20`; the
 * older `mcp-client-2025-04-04` put the tool allowlist in `tool_configuration`). xAI reaches it,
 * never the gateway (see mcp.ts for what is checked).
 */
export const McpServer = Obj({
  type: Type.Literal("url"),
  url: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  authorization_token: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  tool_configuration: Type.Optional(
    Type.Union([
      Obj({
        enabled: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
        allowed_tools: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1 })), Type.Null()])),
      }),
      Type.Null(),
    ]),
  ),
});

/** Structured output: `{type:"json_schema", schema}`; other types are refused with a 400 (see dialects/structured-output.ts). */
export const OutputFormat = Obj({ type: Type.String({ minLength: 1 }), schema: Type.Optional(Type.Unknown()) });

export const MessagesRequest = Obj({
  model: Type.String({ minLength: 1 }),
  messages: Type.Array(Message, { minItems: 1 }),
  max_tokens: Type.Integer({ minimum: 1 }),
  system: Type.Optional(Type.Union([Type.String(), Type.Array(TextBlock)])),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  top_k: Type.Optional(Type.Integer({ minimum: 0 })),
  stop_sequences: Type.Optional(Type.Array(Type.String(), { maxItems: 8191 })), // the limit Anthropic documents (Bedrock)
  stream: Type.Optional(Type.Boolean()),
  metadata: Type.Optional(Obj({ user_id: Type.Optional(Type.Union([Type.String(), Type.Null()])) })),
  tools: Type.Optional(Type.Array(Tool)),
  tool_choice: Type.Optional(ToolChoice),
  thinking: Type.Optional(Thinking),
  output_config: Type.Optional(Obj({ effort: Type.Optional(Type.String()), format: Type.Optional(Type.Union([OutputFormat, Type.Null()])) })),
  /** The beta spelling of `output_config.format` (structured-outputs-2025-11-13). */
  output_format: Type.Optional(Type.Union([OutputFormat, Type.Null()])),
  /** The MCP connector's servers (see mcp.ts). */
  mcp_servers: Type.Optional(Type.Array(McpServer)),
  /** A code execution container to reuse: refused when set (xAI keeps no container, see server-tools.ts). */
  container: Type.Optional(Type.Unknown()),
});

/** `POST /v1/messages/count_tokens`: a Messages request without `max_tokens` (a sent one is ignored). */
export const CountTokensRequest = Type.Omit(MessagesRequest, ["max_tokens"]);

export type TextBlock = Static<typeof TextBlock>;
export type ImageBlock = Static<typeof ImageBlock>;
export type DocumentBlock = Static<typeof DocumentBlock>;
export type ToolUseBlock = Static<typeof ToolUseBlock>;
export type SearchResultBlock = Static<typeof SearchResultBlock>;
export type ToolResultBlock = Static<typeof ToolResultBlock>;
export type ThinkingBlock = Static<typeof ThinkingBlock>;
export type RedactedThinkingBlock = Static<typeof RedactedThinkingBlock>;
export type ServerToolUseBlock = Static<typeof ServerToolUseBlock>;
export type WebSearchToolResultBlock = Static<typeof WebSearchToolResultBlock>;
export type CodeExecutionToolResultBlock = Static<typeof CodeExecutionToolResultBlock>;
export type McpToolUseBlock = Static<typeof McpToolUseBlock>;
export type McpToolResultBlock = Static<typeof McpToolResultBlock>;
export type McpServer = Static<typeof McpServer>;
export type ContentBlock = Static<typeof ContentBlock>;
export type Tool = Static<typeof Tool>;
export type ToolChoice = Static<typeof ToolChoice>;
export type Thinking = Static<typeof Thinking>;
export type OutputFormat = Static<typeof OutputFormat>;
/** A request after validation: content blocks are known block types only where `type` is known. */
export type MessagesRequest = Omit<Static<typeof MessagesRequest>, "messages"> & {
  messages: Array<{ role: "user" | "assistant" | "system"; content: string | Array<ContentBlock | { type: string }> }>;
};

export type CountTokensRequest = Omit<MessagesRequest, "max_tokens">;

// ---- Responses ----

export type StopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | "model_context_window_exceeded";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** Searches the upstream ran for this answer (only when there were any). */
  server_tool_use?: { web_search_requests: number; web_fetch_requests: number };
}

/** A citation of a web search result in a text block; `encrypted_index` is ours (see dialects/responses/search-codec.ts). */
export interface WebSearchCitation {
  type: "web_search_result_location";
  url: string;
  title: string | null;
  cited_text: string;
  encrypted_index: string;
}

export interface WebSearchResult {
  type: "web_search_result";
  url: string;
  title: string;
  encrypted_content: string;
  page_age: string | null;
}

export type WebSearchResultContent =
  | WebSearchResult[]
  | { type: "web_search_tool_result_error"; error_code: "max_uses_exceeded" | "unavailable" | "invalid_tool_input" };

/**
 * A code execution's outcome, as Anthropic's 20250522 tool gives it (every version is served so,
 * see dialects/responses/code-interpreter.ts): what ran and printed, or an error code.
 */
export type CodeExecutionResultContent =
  | { type: "code_execution_result"; stdout: string; stderr: string; return_code: number; content: [] }
  | { type: "code_execution_tool_result_error"; error_code: "unavailable" };

export type McpResultText = { type: "text"; text: string };

export type ResponseBlock =
  | { type: "text"; text: string; citations?: WebSearchCitation[] }
  | { type: "server_tool_use"; id: string; name: "web_search"; input: { query: string } }
  | { type: "server_tool_use"; id: string; name: "code_execution"; input: { code: string } }
  | { type: "web_search_tool_result"; tool_use_id: string; content: WebSearchResultContent }
  | { type: "code_execution_tool_result"; tool_use_id: string; content: CodeExecutionResultContent }
  | { type: "mcp_tool_use"; id: string; name: string; server_name: string; input: unknown }
  | { type: "mcp_tool_result"; tool_use_id: string; is_error: boolean; content: McpResultText[] }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: unknown };

export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: ResponseBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: Usage;
}
