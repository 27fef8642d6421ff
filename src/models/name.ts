/**
 * A model name a client sends is refused past MAX_MODEL_NAME_CHARS, before any matching
 * (model map, capabilities, routing, a key's model list): real names are a few dozen
 * characters, and no request may make that work long.
 */
import { invalidRequest } from "../http/errors";

export const MAX_MODEL_NAME_CHARS = 256;

/** `name` when it is short enough; else a 400 naming the field (the face's envelope is the error hook's). */
export function checkModelName(name: string, field = "model"): string {
  if (name.length > MAX_MODEL_NAME_CHARS) {
    throw invalidRequest(`${field}: must be at most ${MAX_MODEL_NAME_CHARS} characters (got ${name.length})`);
  }
  return name;
}
