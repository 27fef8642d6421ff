/**
 * What a typebox schema accepts, in plain words — one describer for every
 * schema error the gateway reports: a config file ("config": tables and lists,
 * with bounds) and a request body ("request": objects and arrays, as the
 * Anthropic API words them).
 */
type SchemaNode = Record<string, any>;
export type Wording = "config" | "request";

/** The literal `type` of an object schema (`{ type: Literal("text") }`), if it has one. */
export function literalType(schema: SchemaNode): string | undefined {
  const t = (schema.properties as Record<string, SchemaNode> | undefined)?.type;
  return typeof t?.const === "string" ? t.const : undefined;
}

/** "an integer from 0 to 65535", "one of \"debug\", \"info\"", "an object whose \"type\" is one of …" */
export function describeExpected(schema: SchemaNode, wording: Wording = "config"): string {
  const config = wording === "config";
  if (config && typeof schema.description === "string") return schema.description;
  if ("const" in schema && schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) {
    const options = schema.anyOf as SchemaNode[];
    if (options.every((o) => "const" in o)) return `one of ${options.map((o) => JSON.stringify(o.const)).join(", ")}`;
    const types = options.map(literalType);
    if (types.every((t) => t !== undefined)) return `an object whose "type" is one of ${types.map((t) => JSON.stringify(t)).join(", ")}`;
    return options.map((o) => describeExpected(o, wording)).join(" or ");
  }
  switch (schema.type) {
    case "integer":
    case "number": {
      const what = schema.type === "integer" ? "an integer" : "a number";
      if (!config) return what;
      const { minimum: lo, maximum: hi } = schema;
      if (lo !== undefined && hi !== undefined) return `${what} from ${lo} to ${hi}`;
      if (lo !== undefined) return `${what} of at least ${lo}`;
      if (hi !== undefined) return `${what} of at most ${hi}`;
      return what;
    }
    case "string":
      if (config && schema.minLength === 1) return "a non-empty string";
      if (config && schema.minLength > 1) return `a string of at least ${schema.minLength} characters`;
      return "a string";
    case "boolean":
      return "true or false";
    case "null":
      return "null";
    case "array":
      return config ? `a list whose every item is ${describeExpected(schema.items ?? {}, wording)}` : "an array";
    case "object": {
      if (!config) {
        const type = literalType(schema);
        return type ? `an object with "type": "${type}"` : "an object";
      }
      if (schema.patternProperties) {
        const [value] = Object.values(schema.patternProperties as Record<string, SchemaNode>);
        return `a table whose every value is ${describeExpected(value ?? {}, wording)}`;
      }
      const keys = Object.keys(schema.properties ?? {});
      return keys.length ? `a table with the keys ${keys.join(", ")}` : "a table";
    }
  }
  return "a valid value";
}
