/**
 * What the gateway checks of a client's Responses API request before it goes
 * upstream: just enough to route it. Everything else is the upstream's to judge
 * (after the fitting in faces/openai-responses/fit.ts) and passes through.
 */
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { validateObject, type Validation } from "../../anthropic/validate";
import type { Slicer } from "../../http/slicer";
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

/** Nodes of `input` visited between two chances to pause (see responsesRouteFactsSliced). */
const NODES_PER_PAUSE = 4096;

/** The walk behind the facts: iterative (an explicit stack), bounded in depth, never throws on odd shapes. */
class FactsWalk {
  chars = 0;
  images = false;
  private readonly stack: Array<{ v: unknown; depth: number }> = [];

  constructor(input: unknown) {
    if (typeof input === "string") this.chars += input.length;
    else this.stack.push({ v: input, depth: 0 });
  }

  /** Visits up to `budget` nodes; true once everything is visited. */
  run(budget: number): boolean {
    const stack = this.stack;
    for (let n = 0; n < budget; n++) {
      const top = stack.pop();
      if (!top) return true;
      const { v, depth } = top;
      if (depth > MAX_DEPTH) continue;
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1 });
        continue;
      }
      if (!isRecord(v)) continue;
      if (v.type === "input_image") this.images = true;
      for (const k in v) {
        const x = v[k];
        if (typeof x === "string") {
          if (TEXT_FIELDS.has(k)) this.chars += x.length;
        } else if (x !== null && typeof x === "object") stack.push({ v: x, depth: depth + 1 });
      }
    }
    return stack.length === 0;
  }
}

function factsOf(req: ClientResponsesRequest, w: FactsWalk): ResponsesRouteFacts {
  const chars = w.chars + (typeof req.instructions === "string" ? req.instructions.length : 0);
  const thinking = isRecord(req.reasoning) && req.reasoning.effort !== "none";
  return { inputTokens: Math.max(1, Math.ceil(chars / 4)), thinking, images: w.images };
}

/** Walks `input` once: its text and its images. */
export function responsesRouteFacts(req: ClientResponsesRequest): ResponsesRouteFacts {
  const w = new FactsWalk(req.input);
  w.run(Infinity);
  return factsOf(req, w);
}

/** responsesRouteFacts for a large request: the same walk in slices, so that it never holds the event loop long. */
export async function responsesRouteFactsSliced(req: ClientResponsesRequest, slicer: Slicer): Promise<ResponsesRouteFacts> {
  const w = new FactsWalk(req.input);
  while (!w.run(NODES_PER_PAUSE)) await slicer.pause();
  return factsOf(req, w);
}
