/**
 * The typebox checker code for the request and block schemas, as strings.
 * Imported by validate.ts as a Bun macro: it runs when the code is bundled (and when
 * Bun transpiles it for `bun test`), so the binary starts with the code already
 * generated instead of spending a fifth of its start-up in typebox's code generator.
 */
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { CountTokensRequest, KNOWN_BLOCKS, Message, MessagesRequest, OtherBlock } from "./schema";

export interface CheckerCode {
  request: string;
  countTokens: string;
  /** One message: large requests are checked message by message. */
  message: string;
  /** Any block's shape (a type), for the blocks of a large message, one by one. */
  block: string;
  blocks: Record<string, string>;
}

export function checkerCode(): CheckerCode {
  return {
    request: TypeCompiler.Code(MessagesRequest),
    countTokens: TypeCompiler.Code(CountTokensRequest),
    message: TypeCompiler.Code(Message),
    block: TypeCompiler.Code(OtherBlock),
    blocks: Object.fromEntries(Object.entries(KNOWN_BLOCKS).map(([type, schema]) => [type, TypeCompiler.Code(schema)])),
  };
}
