/**
 * Anthropic structured output (`output_config.format`, or the beta `output_format`) → the
 * JSON schema both upstream dialects are asked to follow (Responses `text.format`, chat
 * `response_format`). A format we cannot pass on is a 400, never a silent drop. Pure.
 */
import type { MessagesRequest } from "../anthropic/schema";
import { invalidRequest } from "../http/errors";
import { isRecord } from "./malformed";

export interface JsonSchemaFormat {
  /** The name the upstream wants for the schema; Anthropic has none. */
  name: string;
  schema: Record<string, unknown>;
}


export function structuredOutput(req: Pick<MessagesRequest, "output_config" | "output_format">): JsonSchemaFormat | undefined {
  const configured = req.output_config?.format ?? undefined;
  const beta = req.output_format ?? undefined;
  const format = configured ?? beta;
  if (!format) return undefined;
  const where = configured ? "output_config.format" : "output_format";
  if (format.type !== "json_schema") {
    throw invalidRequest(`${where}.type: "${format.type}" is not supported by this gateway's upstream (only "json_schema" is)`);
  }
  if (!isRecord(format.schema)) throw invalidRequest(`${where}.schema: expected a JSON schema object`);
  return { name: "output", schema: format.schema };
}
