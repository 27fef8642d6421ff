/** The stop-sequence automaton: same answers as a plain search, whatever the chunking, with any number of sequences. */
import { describe, expect, test } from "bun:test";
import { cutAtStopSequence, StopSequenceWatcher } from "../../src/dialects/stop-sequences";
import { rng } from "../helpers/random";

/** Reference: the earliest position where some sequence is complete; the longest one ending there. */
function reference(text: string, seqs: string[]): { text: string; matched: string | null } {
  for (let end = 1; end <= text.length; end++) {
    const ending = seqs.filter((s) => s.length > 0 && s.length <= end && text.slice(end - s.length, end) === s);
    if (ending.length) {
      const seq = ending.reduce((a, b) => (b.length > a.length ? b : a));
      return { text: text.slice(0, end - seq.length), matched: seq };
    }
  }
  return { text, matched: null };
}

/** Feeds `text` in pieces and gathers what the watcher lets through. */
function watch(text: string, seqs: string[], cuts: number[]): { text: string; matched: string | null } {
  const w = new StopSequenceWatcher(seqs);
  let out = "";
  let from = 0;
  for (const at of [...cuts, text.length]) {
    const r = w.push(text.slice(from, at));
    out += r.emit;
    if (r.matched !== null) return { text: out, matched: r.matched };
    from = at;
  }
  return { text: out + w.flush(), matched: null };
}

describe("StopSequenceWatcher", () => {
  test("generation stops where a sequence is first complete, not where the first one starts", () => {
    expect(cutAtStopSequence("xabcd", ["abcd", "bc"])).toEqual({ text: "xa", matched: "bc" });
    expect(cutAtStopSequence("xabcd", ["abcd", "bcd"])).toEqual({ text: "x", matched: "abcd" });
  });

  test("overlapping and nested sequences, across every chunking, agree with a plain search", () => {
    const rnd = rng(15);
    const alphabet = "ab#\n";
    const word = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join("");
    for (let round = 0; round < 400; round++) {
      const seqs = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => word(1 + Math.floor(rnd() * 4)));
      const text = word(Math.floor(rnd() * 30));
      const cuts = Array.from({ length: Math.floor(rnd() * 6) }, () => Math.floor(rnd() * (text.length + 1))).sort((a, b) => a - b);
      expect(watch(text, seqs, cuts)).toEqual(reference(text, seqs));
    }
  });

  test("held text is released when generation ends without a match", () => {
    const w = new StopSequenceWatcher(["STOP"]);
    expect(w.push("abc ST")).toEqual({ emit: "abc ", matched: null });
    expect(w.push("O")).toEqual({ emit: "", matched: null });
    expect(w.flush()).toBe("STO");
  });

  test("non-BMP text and sequences", () => {
    expect(cutAtStopSequence("hi 😀 there", ["😀"])).toEqual({ text: "hi ", matched: "😀" });
  });

  test("100,000 sequences over a long stream: the right cut (speed is measured in bench/)", () => {
    const seqs = Array.from({ length: 100_000 }, (_, i) => `<stop-${i.toString(36)}>`);
    const w = new StopSequenceWatcher(seqs);
    let out = "";
    let matched: string | null = null;
    for (let i = 0; i < 2000 && matched === null; i++) {
      const piece = i === 1500 ? "text <stop-" : i === 1501 ? "zz9>tail" : "some words <stop no ";
      const r = w.push(piece);
      out += r.emit;
      matched = r.matched;
    }
    expect(matched).toBe("<stop-zz9>");
    expect(out.endsWith("text ")).toBe(true);
    expect(out.length).toBe(1500 * "some words <stop no ".length + "text ".length);
  });
});

describe("what a request may carry", () => {
  test("more than 8191 stop sequences is a 400 naming the field, as on Anthropic's API", async () => {
    const { validateMessagesRequest } = await import("../../src/anthropic/validate");
    const base = { model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] };
    const many = validateMessagesRequest({ ...base, stop_sequences: Array.from({ length: 8192 }, (_, i) => `s${i}`) });
    expect(many.ok).toBe(false);
    if (!many.ok) expect(many.message).toMatch(/^stop_sequences: /);
    expect(validateMessagesRequest({ ...base, stop_sequences: Array.from({ length: 8191 }, (_, i) => `s${i}`) }).ok).toBe(true);
  });
});
