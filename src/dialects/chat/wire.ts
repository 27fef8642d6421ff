/**
 * OpenAI-style chat completions as xAI speaks them (the upstream side).
 * Schemas document the wire; the hot path never validates upstream chunks.
 */
import { Type, type Static } from "@sinclair/typebox";

export const ContentPart = Type.Union([
  Type.Object({ type: Type.Literal("text"), text: Type.String() }),
  Type.Object({
    type: Type.Literal("image_url"),
    image_url: Type.Object({ url: Type.String(), detail: Type.Optional(Type.String()) }),
  }),
]);

export const ToolCall = Type.Object({
  id: Type.String(),
  type: Type.Literal("function"),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
});

export const ChatMessage = Type.Union([
  Type.Object({ role: Type.Literal("system"), content: Type.String() }),
  Type.Object({ role: Type.Literal("user"), content: Type.Union([Type.String(), Type.Array(ContentPart)]) }),
  Type.Object({
    role: Type.Literal("assistant"),
    content: Type.Union([Type.String(), Type.Null()]),
    tool_calls: Type.Optional(Type.Array(ToolCall)),
    reasoning_content: Type.Optional(Type.String()),
  }),
  Type.Object({ role: Type.Literal("tool"), tool_call_id: Type.String(), content: Type.String() }),
]);

export const FunctionTool = Type.Object({
  type: Type.Literal("function"),
  function: Type.Object({
    name: Type.String(),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Unknown()),
  }),
});

export const ChatToolChoice = Type.Union([
  Type.Literal("auto"),
  Type.Literal("none"),
  Type.Literal("required"),
  Type.Object({ type: Type.Literal("function"), function: Type.Object({ name: Type.String() }) }),
]);

export const ChatRequest = Type.Object({
  model: Type.String(),
  messages: Type.Array(ChatMessage),
  max_completion_tokens: Type.Optional(Type.Integer()),
  max_tokens: Type.Optional(Type.Integer()),
  temperature: Type.Optional(Type.Number()),
  top_p: Type.Optional(Type.Number()),
  stop: Type.Optional(Type.Array(Type.String())),
  stream: Type.Optional(Type.Boolean()),
  stream_options: Type.Optional(Type.Object({ include_usage: Type.Boolean() })),
  tools: Type.Optional(Type.Array(FunctionTool)),
  tool_choice: Type.Optional(ChatToolChoice),
  parallel_tool_calls: Type.Optional(Type.Boolean()),
  reasoning_effort: Type.Optional(Type.String()),
  user: Type.Optional(Type.String()),
  response_format: Type.Optional(
    Type.Object({
      type: Type.Literal("json_schema"),
      json_schema: Type.Object({ name: Type.String(), schema: Type.Unknown(), strict: Type.Boolean() }),
    }),
  ),
});

export const ChatUsage = Type.Object({
  prompt_tokens: Type.Number(),
  completion_tokens: Type.Number(),
  total_tokens: Type.Optional(Type.Number()),
  prompt_tokens_details: Type.Optional(Type.Object({ cached_tokens: Type.Optional(Type.Number()) })),
  completion_tokens_details: Type.Optional(Type.Object({ reasoning_tokens: Type.Optional(Type.Number()) })),
});

export const FinishReason = Type.Union([Type.String(), Type.Null()]);

export const ChatCompletion = Type.Object({
  id: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  choices: Type.Array(
    Type.Object({
      index: Type.Optional(Type.Number()),
      message: Type.Object({
        role: Type.Optional(Type.String()),
        content: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        reasoning_content: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        reasoning: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        refusal: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        tool_calls: Type.Optional(Type.Union([Type.Array(ToolCall), Type.Null()])),
      }),
      finish_reason: FinishReason,
    }),
  ),
  usage: Type.Optional(Type.Union([ChatUsage, Type.Null()])),
});

export const ToolCallDelta = Type.Object({
  index: Type.Optional(Type.Number()),
  id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  function: Type.Optional(
    Type.Object({ name: Type.Optional(Type.String()), arguments: Type.Optional(Type.String()) }),
  ),
});

export const ChatChunk = Type.Object({
  id: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  choices: Type.Optional(
    Type.Array(
      Type.Object({
        index: Type.Optional(Type.Number()),
        delta: Type.Optional(
          Type.Object({
            role: Type.Optional(Type.String()),
            content: Type.Optional(Type.Union([Type.String(), Type.Null()])),
            reasoning_content: Type.Optional(Type.Union([Type.String(), Type.Null()])),
            reasoning: Type.Optional(Type.Union([Type.String(), Type.Null()])),
            refusal: Type.Optional(Type.Union([Type.String(), Type.Null()])),
            tool_calls: Type.Optional(Type.Union([Type.Array(ToolCallDelta), Type.Null()])),
          }),
        ),
        finish_reason: Type.Optional(FinishReason),
      }),
    ),
  ),
  usage: Type.Optional(Type.Union([ChatUsage, Type.Null()])),
});

export type ContentPart = Static<typeof ContentPart>;
export type ToolCall = Static<typeof ToolCall>;
export type ChatMessage = Static<typeof ChatMessage>;
export type FunctionTool = Static<typeof FunctionTool>;
export type ChatToolChoice = Static<typeof ChatToolChoice>;
export type ChatRequest = Static<typeof ChatRequest>;
export type ChatUsage = Static<typeof ChatUsage>;
export type ChatCompletion = Static<typeof ChatCompletion>;
export type ChatChunk = Static<typeof ChatChunk>;
export type ToolCallDelta = Static<typeof ToolCallDelta>;
