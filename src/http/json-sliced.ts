/**
 * JSON read and written in slices (slicer.ts), for large bodies: the same values as
 * JSON.parse and JSON.stringify give, without holding the event loop for the whole body.
 *
 * Reading: one pass over the bytes finds the structure — where each array or object opens
 * and closes, and the commas and colons directly inside the large ones (a container of more
 * than PIECE_BYTES). Small values are then parsed by JSON.parse in runs of up to PIECE_BYTES;
 * large containers are put together from their parts. Linear in the body's size, and the
 * nesting limit (MAX_JSON_DEPTH) is checked in the same pass.
 *
 * Writing: arrays and objects with many or large members are written member by member, in
 * batches; everything else by JSON.stringify. The text comes out in parts, UTF-8 encoded.
 */
import type { Slicer } from "./slicer";

/** A run of small values parsed in one JSON.parse, and the size from which a container is taken apart. */
export const PIECE_BYTES = 64 * 1024;

/** A body that is not JSON, or nested deeper than the limit; the message says where and why. */
export class JsonSliceError extends Error {
  constructor(
    message: string,
    readonly kind: "syntax" | "depth" | "utf8",
  ) {
    super(message);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** A large container: where it closes, and the commas (and for objects the colons) directly inside it. */
interface Large {
  object: boolean;
  close: number;
  marks: number[];
}

/** The index of the quote that ends the string whose opening quote is at `open`. */
function stringEnd(bytes: Uint8Array, open: number, end: number): number {
  let at = open + 1;
  for (;;) {
    const q = bytes.indexOf(QUOTE, at);
    if (q === -1 || q >= end) throw new JsonSliceError("unterminated string", "syntax");
    let slashes = 0;
    for (let i = q - 1; i > open && bytes[i] === BACKSLASH; i--) slashes++;
    if (slashes % 2 === 0) return q;
    at = q + 1;
  }
}

/**
 * The structure pass: every large container, by the index where it opens. The open containers
 * are kept in typed arrays and the commas and colons of all of them in one list (cut back when a
 * small one closes): a body of a million small objects leaves no garbage behind here.
 */
async function structure(bytes: Uint8Array, start: number, end: number, maxDepth: number, slicer: Slicer): Promise<Map<number, Large>> {
  const large = new Map<number, Large>();
  const opens = new Int32Array(maxDepth + 1);
  const objects = new Uint8Array(maxDepth + 1);
  const markFrom = new Int32Array(maxDepth + 1);
  const marks: number[] = [];
  let depth = 0;
  let nextPause = start + PIECE_BYTES;
  for (let i = start; i < end; i++) {
    if (i >= nextPause) {
      nextPause = i + PIECE_BYTES;
      await slicer.pause();
    }
    const c = bytes[i]!;
    if (c === QUOTE) i = stringEnd(bytes, i, end);
    else if (c === 0x7b || c === 0x5b) {
      if (depth >= maxDepth) throw new JsonSliceError("nested too deeply", "depth");
      opens[depth] = i;
      objects[depth] = c === 0x7b ? 1 : 0;
      markFrom[depth] = marks.length;
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === 0 || objects[depth - 1] !== (c === 0x7d ? 1 : 0)) {
        throw new JsonSliceError(`unexpected "${String.fromCharCode(c)}" at byte ${i}`, "syntax");
      }
      depth--;
      const open = opens[depth]!;
      if (i + 1 - open > PIECE_BYTES) large.set(open, { object: objects[depth] === 1, close: i, marks: marks.slice(markFrom[depth]) });
      marks.length = markFrom[depth]!;
    } else if (c === 0x2c || c === 0x3a) {
      if (depth === 0) throw new JsonSliceError(`unexpected "${String.fromCharCode(c)}" at byte ${i}`, "syntax");
      marks.push(i);
    }
  }
  if (depth > 0) throw new JsonSliceError("unexpected end of the body", "syntax");
  return large;
}

/** [start, end) without the whitespace around it. */
function trim(bytes: Uint8Array, start: number, end: number): [number, number] {
  while (start < end && isSpace(bytes[start]!)) start++;
  while (end > start && isSpace(bytes[end - 1]!)) end--;
  return [start, end];
}

class Reader {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  constructor(
    private readonly bytes: Uint8Array,
    private readonly large: Map<number, Large>,
    private readonly slicer: Slicer,
  ) {}

  private text(start: number, end: number): string {
    try {
      return this.decoder.decode(this.bytes.subarray(start, end));
    } catch {
      throw new JsonSliceError("not valid UTF-8", "utf8");
    }
  }

  private parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new JsonSliceError((e as Error).message, "syntax");
    }
  }

  /** The value in [start, end), which holds it and nothing else but whitespace. */
  async value(start: number, end: number): Promise<unknown> {
    [start, end] = trim(this.bytes, start, end);
    if (start === end) throw new JsonSliceError(`a value is missing at byte ${start}`, "syntax");
    const l = this.large.get(start);
    if (!l) return this.parse(this.text(start, end));
    if (l.close !== end - 1) throw new JsonSliceError(`unexpected text after byte ${l.close}`, "syntax");
    return l.object ? this.object(start, l) : this.array(start, l);
  }

  private async array(open: number, l: Large): Promise<unknown[]> {
    const out: unknown[] = [];
    const bounds = [open, ...l.marks, l.close];
    if (l.marks.length === 0 && trim(this.bytes, open + 1, l.close)[0] === l.close) return out; // [ ]
    // Runs of small members go to JSON.parse together, as an array.
    let runFrom = -1;
    let runTo = -1;
    const flush = () => {
      if (runFrom === -1) return;
      const members = this.parse(`[${this.text(runFrom, runTo)}]`) as unknown[];
      for (const m of members) out.push(m);
      runFrom = -1;
    };
    for (let k = 0; k + 1 < bounds.length; k++) {
      const [s, e] = trim(this.bytes, bounds[k]! + 1, bounds[k + 1]!);
      if (s === e) throw new JsonSliceError(`a value is missing at byte ${s}`, "syntax");
      if (this.large.has(s)) {
        flush();
        out.push(await this.value(s, e));
      } else {
        if (runFrom === -1) runFrom = s;
        runTo = e;
        if (runTo - runFrom >= PIECE_BYTES) flush();
      }
      if ((k & 63) === 63) await this.slicer.pause();
    }
    flush();
    return out;
  }

  private async object(open: number, l: Large): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const set = (key: string, value: unknown) => {
      // As JSON.parse does: "__proto__" is an own property, not the prototype.
      if (key === "__proto__") Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      else out[key] = value;
    };
    if (l.marks.length === 0 && trim(this.bytes, open + 1, l.close)[0] === l.close) return out; // { }
    // Marks alternate: colon, comma, colon, …, colon.
    if (l.marks.length % 2 === 0) throw new JsonSliceError(`a member is malformed in the object at byte ${open}`, "syntax");
    let runFrom = -1;
    let runTo = -1;
    const flush = () => {
      if (runFrom === -1) return;
      const members = this.parse(`{${this.text(runFrom, runTo)}}`) as Record<string, unknown>;
      for (const key of Object.keys(members)) set(key, members[key]);
      runFrom = -1;
    };
    for (let k = 0; k < l.marks.length; k += 2) {
      const colon = l.marks[k]!;
      const before = k === 0 ? open : l.marks[k - 1]!;
      const after = k + 1 < l.marks.length ? l.marks[k + 1]! : l.close;
      if (this.bytes[colon] !== 0x3a || (k > 0 && this.bytes[before] !== 0x2c)) {
        throw new JsonSliceError(`a member is malformed in the object at byte ${open}`, "syntax");
      }
      const [ks, ke] = trim(this.bytes, before + 1, colon);
      const [vs, ve] = trim(this.bytes, colon + 1, after);
      if (vs === ve) throw new JsonSliceError(`a value is missing at byte ${vs}`, "syntax");
      if (this.large.has(vs)) {
        flush();
        if (this.bytes[ks] !== QUOTE) throw new JsonSliceError(`a key is not a string at byte ${ks}`, "syntax");
        set(this.parse(this.text(ks, ke)) as string, await this.value(vs, ve));
      } else {
        if (runFrom === -1) runFrom = ks;
        runTo = ve;
        if (runTo - runFrom >= PIECE_BYTES) flush();
      }
      if ((k & 127) === 126) await this.slicer.pause();
    }
    flush();
    return out;
  }
}

/** What JSON.parse gives for the UTF-8 `bytes` (a leading byte-order mark skipped), read in slices. */
export async function parseJsonSliced(bytes: Uint8Array, maxDepth: number, slicer: Slicer): Promise<unknown> {
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  const [s, e] = trim(bytes, start, bytes.length);
  const large = await structure(bytes, s, e, maxDepth, slicer);
  return new Reader(bytes, large, slicer).value(s, e);
}

// ---- writing ----

/** A container this heavy (weight below) is written member by member; lighter ones by one JSON.stringify. */
const HEAVY = 1024;

/** A plain array or object JSON.stringify would walk (no toJSON of its own). */
function plainContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  if (typeof v !== "object" || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== "function";
}

/**
 * A value's size in members (strings count one per 64 characters), counted only up to `cap`:
 * the count stops there, so that weighing a large value costs no more than weighing a small one.
 */
function weight(v: unknown, cap = HEAVY): number {
  if (typeof v === "string") return 1 + v.length / 64;
  if (!plainContainer(v)) return 1;
  let w = 1;
  const stack: unknown[] = [v];
  while (stack.length > 0 && w < cap) {
    const c = stack.pop();
    const members = Array.isArray(c) ? c : Object.values(c as object);
    w += members.length;
    for (const m of members) {
      if (typeof m === "string") w += m.length / 64;
      else if (plainContainer(m)) stack.push(m);
      if (w >= cap) break;
    }
  }
  return w;
}

class Writer {
  readonly parts: Uint8Array[] = [];
  private pending: string[] = [];
  private pendingChars = 0;
  private readonly encoder = new TextEncoder();

  constructor(private readonly slicer: Slicer) {}

  private out(s: string): void {
    this.pending.push(s);
    this.pendingChars += s.length;
    if (this.pendingChars >= PIECE_BYTES) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(this.encoder.encode(this.pending.join("")));
    this.pending = [];
    this.pendingChars = 0;
  }

  /** Writes `v` (a value JSON.stringify turns into text, not undefined). */
  async write(v: unknown): Promise<void> {
    if (!plainContainer(v) || weight(v) < HEAVY) this.out(JSON.stringify(v) ?? "null");
    else if (Array.isArray(v)) await this.array(v);
    else await this.object(v);
  }

  /** Light members go to JSON.stringify in batches (as an array: what it leaves out becomes null); heavy ones one by one. */
  private async array(v: unknown[]): Promise<void> {
    this.out("[");
    let batch: unknown[] = [];
    let batchWeight = 0;
    let written = 0;
    let n = 0;
    const sep = () => (written++ > 0 ? "," : "");
    const flush = () => {
      if (batch.length) this.out(sep() + JSON.stringify(batch).slice(1, -1));
      batch = [];
      batchWeight = 0;
    };
    for (const m of v) {
      const w = weight(m);
      if (w >= HEAVY && plainContainer(m)) {
        flush();
        this.out(sep());
        await this.write(m);
      } else {
        batch.push(m);
        batchWeight += w;
        if (batchWeight >= HEAVY) flush();
      }
      if ((++n & 63) === 0) await this.slicer.pause();
    }
    flush();
    this.out("]");
  }

  /** The same for an object's members, in its key order (a batch is an object without a prototype: "__proto__" stays a key). */
  private async object(v: Record<string, unknown>): Promise<void> {
    this.out("{");
    let batch: Record<string, unknown> = Object.create(null);
    let batchWeight = 0;
    let written = 0;
    let n = 0;
    const sep = () => (written++ > 0 ? "," : "");
    const flush = () => {
      const text = batchWeight > 0 ? JSON.stringify(batch).slice(1, -1) : "";
      if (text) this.out(sep() + text);
      batch = Object.create(null);
      batchWeight = 0;
    };
    for (const key of Object.keys(v)) {
      const m = v[key];
      const w = weight(m);
      if (w >= HEAVY && plainContainer(m)) {
        flush();
        this.out(`${sep()}${JSON.stringify(key)}:`);
        await this.write(m);
      } else {
        batch[key] = m;
        batchWeight += w + 1;
        if (batchWeight >= HEAVY) flush();
      }
      if ((++n & 63) === 0) await this.slicer.pause();
    }
    flush();
    this.out("}");
  }
}

/** JSON.stringify(value) as UTF-8, in parts, written in slices. `value` must stringify to text (not undefined). */
export async function stringifySliced(value: unknown, slicer: Slicer): Promise<Uint8Array[]> {
  const w = new Writer(slicer);
  await w.write(value);
  w.flush();
  return w.parts;
}
