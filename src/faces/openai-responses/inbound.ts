/**
 * What the gateway checks of a client's Responses API request before it goes
 * upstream: just enough to route it. Everything else is the upstream's to judge
 * (after the fitting in faces/openai-responses/fit.ts) and passes through.
 */
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { validateObject, type Validation } from "../../anthropic/validate";
import { isRecord } from "../../is-record";

export const ClientResponsesRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  input: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Unknown())])),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
});
export type ClientResponsesRequest = Static<typeof ClientResponsesRequest> & Record<string, unknown>;

const check = TypeCompiler.Compile(ClientResponsesRequest);

export const validateClientResponsesRequest = (body: unknown): Validation<ClientResponsesRequest> => validateObject(check, body);

/** What routing needs to know of a Responses request (see src/models/routing.ts RouteFacts, less the name). */
export interface ResponsesRouteFacts {
  /** A rough estimate from the text of `instructions` and `input` (≈4 characters a token). */
  inputTokens: number;
  /** `reasoning` asked for, at any effort but `none`. */
  thinking: boolean;
  /** An `input_image` part anywhere in `input`. */
  images: boolean;
}

/** Fields whose strings are text the model reads (not image data, ids or URLs). */
const TEXT_FIELDS = new Set(["text", "content", "output", "arguments", "input"]);
const MAX_DEPTH = 8;

/** Walks `input` once: its text and its images. Bounded in depth; never throws on odd shapes. */
export function responsesRouteFacts(req: ClientResponsesRequest): ResponsesRouteFacts {
  let chars = typeof req.instructions === "string" ? req.instructions.length : 0;
  let images = false;
  const walk = (v: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    if (Array.isArray(v)) {
      for (const item of v) walk(item, depth + 1);
      return;
    }
    if (!isRecord(v)) return;
    const o = v;
    if (o.type === "input_image") images = true;
    for (const [k, x] of Object.entries(o)) {
      if (typeof x === "string") {
        if (TEXT_FIELDS.has(k)) chars += x.length;
      } else walk(x, depth + 1);
    }
  };
  if (typeof req.input === "string") chars += req.input.length;
  else walk(req.input, 0);
  const thinking = isRecord(req.reasoning) && req.reasoning.effort !== "none";
  return { inputTokens: Math.max(1, Math.ceil(chars / 4)), thinking, images };
}
