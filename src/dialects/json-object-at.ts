/**
 * The JSON object that starts at `at` in a text (a `{`), cut out by its braces without parsing
 * anything around it: a usage object read out of an event that may carry megabytes of answer
 * besides. Strings are skipped with their escapes, so braces in the model's text do not count.
 * Undefined when the text there is not a whole object. Linear in the object's length.
 */
export function jsonObjectAt(text: string, at: number): unknown {
  if (text.charCodeAt(at) !== 0x7b) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = at; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) {
      try {
        return JSON.parse(text.slice(at, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The object under the last `"<key>":` of a text (JSON spacing allowed), or undefined. */
export function lastObjectOf(text: string, key: string): unknown {
  const name = `"${key}":`;
  let from = text.length;
  for (let tries = 0; tries < 4; tries++) {
    const at = text.lastIndexOf(name, from);
    if (at < 0) return undefined;
    let v = at + name.length;
    while (text.charCodeAt(v) === 0x20) v++;
    const found = jsonObjectAt(text, v);
    if (found !== undefined) return found;
    from = at - 1;
  }
  return undefined;
}
