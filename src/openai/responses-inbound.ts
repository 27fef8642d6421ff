/**
 * What the gateway checks of a client's Responses API request before it goes
 * upstream: just enough to route it. Everything else is the upstream's to judge
 * (after the fitting in translate/responses-params.ts) and passes through.
 */
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { validateObject, type Validation } from "../anthropic/validate";

export const ClientResponsesRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  input: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Unknown())])),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
});
export type ClientResponsesRequest = Static<typeof ClientResponsesRequest> & Record<string, unknown>;

const check = TypeCompiler.Compile(ClientResponsesRequest);

export const validateClientResponsesRequest = (body: unknown): Validation<ClientResponsesRequest> => validateObject(check, body);
