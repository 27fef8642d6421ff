/**
 * xAI's batch results → Anthropic's result lines. xAI answers every text request with a
 * chat completion, even one sent in the Responses dialect (reference §0.1), so the chat
 * completions translator makes the message; the usage says `service_tier: "batch"`. Pure.
 */
import { clientToolKinds } from "../anthropic/client-tools";
import type { MessagesRequest } from "../anthropic/schema";
import { ticksOf } from "../models/pricing";
import { checkChatCompletion, toAnthropicMessage } from "../dialects/chat/response";
import { newMessageId } from "../dialects/ids";
import { MalformedUpstream } from "../dialects/malformed";
import { erroredResult } from "./wire";
import type { XaiResult } from "./xai";

/** gRPC status codes → Anthropic error types. */
const GRPC_TYPES: Record<number, string> = {
  3: "invalid_request_error",
  4: "timeout_error",
  5: "not_found_error",
  7: "permission_error",
  8: "rate_limit_error",
  9: "invalid_request_error",
  11: "invalid_request_error",
  14: "overloaded_error",
  16: "authentication_error",
};

export interface Outcome {
  status: "succeeded" | "errored" | "canceled";
  result: unknown;
  /** For the ledger, when it succeeded. */
  usage?: { input_tokens: number; output_tokens: number; cached_tokens: number; cost_ticks: number | undefined };
}

export function outcomeOf(r: XaiResult, req: MessagesRequest): Outcome {
  if (r.error) {
    if (r.error.code === 1) return { status: "canceled", result: { type: "canceled" } };
    const type =
      r.error.code !== undefined
        ? (GRPC_TYPES[r.error.code] ?? "api_error")
        : /not supported|invalid|must|unknown model|not found/i.test(r.error.message)
          ? "invalid_request_error"
          : "api_error";
    return { status: "errored", result: erroredResult(type, `xAI: ${r.error.message}`) };
  }
  try {
    const c = checkChatCompletion(r.completion);
    const thinking = req.thinking?.type === "enabled" || req.thinking?.type === "adaptive";
    const message = toAnthropicMessage(c, {
      id: newMessageId(),
      model: req.model,
      stopSequences: req.stop_sequences,
      inputTokensEstimate: 0,
      thinking,
      clientTools: clientToolKinds(req.tools),
    });
    const usage = { ...message.usage, service_tier: "batch" };
    return {
      status: "succeeded",
      result: { type: "succeeded", message: { ...message, usage } },
      usage: {
        input_tokens: message.usage.input_tokens,
        output_tokens: message.usage.output_tokens,
        cached_tokens: message.usage.cache_read_input_tokens,
        cost_ticks: ticksOf(c.usage),
      },
    };
  } catch (e) {
    const why = e instanceof MalformedUpstream || e instanceof Error ? e.message : String(e);
    return { status: "errored", result: erroredResult("api_error", `xAI's result could not be read: ${why}`) };
  }
}
