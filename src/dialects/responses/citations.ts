/**
 * Grok's inline citations (`…passage.[[1]](https://url)`) → cited passages, as text arrives. Pure.
 *
 * xAI's answer after a web search links its sources inline; its `url_citation` annotations
 * (which only span those links) come after the whole text in a stream. Anthropic wants each
 * cited passage in its own text block, its citations first. So the link itself is the signal,
 * found as the text streams: the line being written is held back (only it: the text before the
 * last line break is passed on at once) until it ends or a link closes it; a link makes the held
 * line a cited passage. The links never reach the client as raw markup; each citation's
 * encrypted_index keeps the exact markup taken out, so the original text is rebuilt on replay.
 *
 * Concatenating every unit's text and markup gives back the input exactly.
 */

export type CiteUnit =
  | { kind: "text"; text: string }
  /** A passage and the link that cites it. */
  | { kind: "cited"; text: string; link: Link }
  /** Another link for the passage just cited (only whitespace between). */
  | { kind: "more"; link: Link };

export interface Link {
  /** The number in `[[N]]`. */
  n: string;
  url: string;
  /** Exactly what was taken out of the text (the link, and any whitespace before a second link). */
  markup: string;
}

/** `[[N]](url)`; the URL may hold balanced parentheses (`…/wiki/Ruby_(programming_language)`). */
const LINK = /\[\[(\d{1,6})\]\]\((https?:\/\/(?:[^\s()]|\([^\s()]{0,512}\)){1,4096})\)/;
/** A line held longer than this is passed on (all but a link that may be starting). */
const HOLD_MAX = 8192;

export class InlineCitations {
  private held = "";
  private lastCited = false;

  push(text: string): CiteUnit[] {
    const out: CiteUnit[] = [];
    this.held += text;
    // A link can only have been completed by this text's ")"; the held line has no line break
    // but what this text brought: short pieces of a long line cost no rescans.
    if (text.includes(")")) this.links(out);
    if (text.includes("\n")) {
      const nl = this.held.lastIndexOf("\n");
      if (nl >= 0) {
        this.plain(this.held.slice(0, nl + 1), out);
        this.held = this.held.slice(nl + 1);
      }
    }
    if (this.held.length > HOLD_MAX) {
      const open = this.held.lastIndexOf("[[");
      const keep = open >= 0 && this.held.length - open < 4200 ? open : this.held.length;
      this.plain(this.held.slice(0, keep), out);
      this.held = this.held.slice(keep);
    }
    return out;
  }

  private links(out: CiteUnit[]): void {
    for (;;) {
      const m = LINK.exec(this.held);
      if (!m) break;
      const before = this.held.slice(0, m.index);
      this.held = this.held.slice(m.index + m[0].length);
      this.cite(before, { n: m[1]!, url: m[2]!, markup: m[0] }, out);
    }
  }

  /** The end of the text: what is still held is plain text. */
  finish(): CiteUnit[] {
    const out: CiteUnit[] = [];
    this.plain(this.held, out);
    this.held = "";
    return out;
  }

  private plain(text: string, out: CiteUnit[]): void {
    if (!text) return;
    out.push({ kind: "text", text });
    this.lastCited = false;
  }

  private cite(before: string, link: Link, out: CiteUnit[]): void {
    if (this.lastCited && before.trim() === "") {
      out.push({ kind: "more", link: { ...link, markup: before + link.markup } });
      return;
    }
    // The passage is the line the link ends; whole lines before it are plain text.
    const nl = before.lastIndexOf("\n");
    if (nl >= 0) this.plain(before.slice(0, nl + 1), out);
    out.push({ kind: "cited", text: before.slice(nl + 1), link });
    this.lastCited = true;
  }
}

/** A citation's title: the annotation's when it is a real title (not the link number, not the URL), else the host. */
export function citationTitle(url: string, titles?: ReadonlyMap<string, string>): string {
  const t = titles?.get(url);
  if (t && !/^\d+$/.test(t) && t !== url) return t;
  try {
    return new URL(url).hostname || url;
  } catch {
    return url;
  }
}
