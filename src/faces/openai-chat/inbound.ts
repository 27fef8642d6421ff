/**
 * What the gateway checks of a client's chat completions request before it goes
 * upstream: just enough to route it. Everything else is the upstream's to judge
 * and passes through as sent.
 */
import { Type, type Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { validateObject, type Validation } from "../../anthropic/validate";

export const ClientChatRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  messages: Type.Array(Type.Unknown(), { minItems: 1 }),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(
    Type.Union([Type.Object({ include_usage: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])) }), Type.Null()]),
  ),
});
export type ClientChatRequest = Static<typeof ClientChatRequest> & Record<string, unknown>;

const check = TypeCompiler.Compile(ClientChatRequest);

export const validateClientChatRequest = (body: unknown): Validation<ClientChatRequest> => validateObject(check, body);
