/**
 * Finds the `as` casts of a TypeScript source (not `as const`, not import/export renames)
 * and says whether each carries its reason: a comment on its line or on the line above.
 *
 * A small lexer, not a parser (the project's TypeScript is the native compiler, which has no
 * JavaScript API): comments, strings, template literals and regular expressions are blanked
 * first, so prose ("…as sent…") and literals never count, and each comment is remembered by
 * the lines it covers.
 */

export interface Cast {
  /** 1-based line of the `as`. */
  line: number;
  /** The line's source, trimmed. */
  text: string;
  /** A comment on the cast's line or on the line above. */
  explained: boolean;
}

interface Lexed {
  /** The source with comments and literals replaced by spaces (newlines kept). */
  code: string;
  /** 1-based lines that hold (part of) a comment. */
  commented: Set<number>;
}

/** Tokens after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER = /(?:^|[(,=:[!&|?{};+\-*%<>~^]|\b(?:return|typeof|case|do|else|in|of|void|yield|await|delete|throw|new))\s*$/;

function lex(src: string): Lexed {
  const out = src.split("");
  const commented = new Set<number>();
  let line = 1;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  const lineAt = (from: number, to: number) => {
    let l = line;
    for (let k = from; k < to; k++) if (src[k] === "\n") l++;
    return l;
  };
  // Template literals nest through `${ … }`: the stack holds the brace depth at which each resumes.
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (c === "/" && src[i + 1] === "/") {
      const end = src.indexOf("\n", i) === -1 ? n : src.indexOf("\n", i);
      commented.add(line);
      blank(i, end);
      i = end;
    } else if (c === "/" && src[i + 1] === "*") {
      const close = src.indexOf("*/", i + 2);
      const end = close === -1 ? n : close + 2;
      const last = lineAt(i, end);
      for (let l = line; l <= last; l++) commented.add(l);
      blank(i, end);
      line = last;
      i = end;
    } else if (c === "'" || c === '"') {
      let k = i + 1;
      while (k < n && src[k] !== c && src[k] !== "\n") k += src[k] === "\\" ? 2 : 1;
      blank(i + 1, k);
      i = k + 1;
    } else if (c === "`" || (c === "}" && templates.length > 0 && templates[templates.length - 1] === depth)) {
      if (c === "}") templates.pop();
      let k = i + 1;
      while (k < n && src[k] !== "`" && !(src[k] === "$" && src[k + 1] === "{")) k += src[k] === "\\" ? 2 : 1;
      const last = lineAt(i + 1, k);
      blank(i + 1, k);
      line = last;
      if (src[k] === "$") {
        templates.push(depth);
        i = k + 2;
      } else i = k + 1;
    } else if (c === "/" && REGEX_AFTER.test(out.slice(Math.max(0, i - 12), i).join(""))) {
      let k = i + 1;
      let inClass = false;
      while (k < n && src[k] !== "\n" && (inClass || src[k] !== "/")) {
        if (src[k] === "\\") k++;
        else if (src[k] === "[") inClass = true;
        else if (src[k] === "]") inClass = false;
        k++;
      }
      blank(i + 1, k);
      i = k + 1;
    } else {
      if (c === "{") depth++;
      else if (c === "}") depth--;
      i++;
    }
  }
  return { code: out.join(""), commented };
}

/** Import and export clauses, whose `as` renames a name rather than casting a value. */
const RENAMES = /\b(?:import|export)\b(?:\s+type)?\s*(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*\s*as\s+[\w$]+)/g;

/** `as` followed by a type (a name, an object or tuple type, a parenthesized or literal type). */
const CAST = /(?<![\w$.])as\s+(?!const\b)(?=[\w$({[`'"-])/g;

export function findCasts(src: string): Cast[] {
  const { code, commented } = lex(src);
  const lines = src.split("\n");
  const scanned = code.replace(RENAMES, (m) => m.replace(/[^\n]/g, " "));
  const casts: Cast[] = [];
  for (const m of scanned.matchAll(CAST)) {
    // `as` must follow an expression, not start a statement or a parameter list (`function f(as)`).
    const before = scanned.slice(0, m.index).trimEnd();
    if (!/[\w$)\]}>'"`!]$/.test(before)) continue;
    const line = scanned.slice(0, m.index).split("\n").length;
    casts.push({ line, text: lines[line - 1]!.trim(), explained: commented.has(line) || commented.has(line - 1) });
  }
  return casts;
}
