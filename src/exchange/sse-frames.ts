/**
 * Server-sent events relayed frame by frame: the bytes of a stream cut after each blank line
 * (`\n\n`, or `\r\n\r\n`), a frame cut by a read held until its end arrives. A relay that
 * forwards whole frames only can drop or rewrite one (a usage chunk the client did not ask
 * for), read a frame however long it is (a `response.completed` carrying the whole answer),
 * and put a keep-alive between frames, never inside one. Reads from an upstream that writes
 * one event per write (xAI does) hold nothing back.
 */

export interface Frames {
  /** The frame begun in earlier reads and ended in this one, joined (a copy of that frame alone), or null. */
  head: Buffer | null;
  /** The frames that begin and end in this read, back to back: a view of the read, not a copy. */
  body: Buffer;
  /** The end of each frame of `body`, its blank line included (a frame starts where the one before ends, the first at 0). */
  ends: number[];
}

const EMPTY = Buffer.alloc(0);
const LF = 0x0a;
const CR = 0x0d;

/**
 * Where the frame that starts at `from` ends (after its blank line, `\n\n` or `\r\n\r\n`, whichever
 * comes first), or -1 when it has not ended: each line end found natively, then its neighbours looked at.
 */
export function frameEnd(b: Uint8Array, from: number): number {
  for (let i = b.indexOf(LF, from); i !== -1; i = b.indexOf(LF, i + 1)) {
    const next = b[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && b[i + 2] === LF && i > from && b[i - 1] === CR) return i + 3;
  }
  return -1;
}

export class FrameSplitter {
  /** The start of a frame whose end has not come, as read (joined only once it ends: linear however long). */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** The last bytes held (at most 3), then room for the next read's first 3: a blank line may span two reads. */
  private readonly seam = new Uint8Array(6);
  private tailLength = 0;

  /** Bytes held back: the start of a frame whose end has not come. */
  get pending(): number {
    return this.heldBytes;
  }

  push(chunk: Uint8Array): Frames {
    // A Buffer view of the read: its frames are Buffers too (the watches search them natively).
    const c = asBuffer(chunk);
    let from = 0;
    let head: Buffer | null = null;
    if (this.heldBytes > 0) {
      // The held frame's end: a blank line across the seam, else the first one in this read.
      const t = this.tailLength;
      const n = Math.min(3, c.byteLength);
      for (let i = 0; i < n; i++) this.seam[t + i] = c[i]!;
      const inSeam = frameEnd(this.seam.subarray(0, t + n), 0);
      from = inSeam > t ? inSeam - t : frameEnd(c, 0);
      if (from === -1) {
        this.hold(chunk);
        return { head, body: EMPTY, ends: [] };
      }
      head = joined(this.held, this.heldBytes, c.subarray(0, from));
      this.held = [];
      this.heldBytes = 0;
      this.tailLength = 0;
    }
    const ends: number[] = [];
    let at = from;
    for (let end = frameEnd(c, at); end !== -1; end = frameEnd(c, at)) {
      ends.push(end - from);
      at = end;
    }
    if (at < c.byteLength) this.hold(chunk.slice(at));
    return { head, body: ends.length ? c.subarray(from, at) : EMPTY, ends };
  }

  /** What is held at the end of the stream (a frame that never ended), given up as it is. */
  end(): Buffer {
    const rest = this.heldBytes ? joined(this.held, this.heldBytes, EMPTY) : EMPTY;
    this.held = [];
    this.heldBytes = 0;
    this.tailLength = 0;
    return rest;
  }

  private hold(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.held.push(bytes);
    this.heldBytes += bytes.byteLength;
    // The last 3 bytes held so far, at the start of the seam.
    const keep = Math.min(3, this.tailLength + bytes.byteLength);
    const fromOld = keep - Math.min(keep, bytes.byteLength);
    this.seam.copyWithin(0, this.tailLength - fromOld, this.tailLength);
    this.seam.set(bytes.subarray(bytes.byteLength - (keep - fromOld)), fromOld);
    this.tailLength = keep;
  }
}

/** The held parts and the rest of the frame, in one piece (a Buffer). */
function joined(parts: Uint8Array[], bytes: number, rest: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(bytes + rest.byteLength);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  out.set(rest, at);
  return out;
}

/** What a relayed stream is watched for (one per upstream dialect, see dialects/<dialect>/stream-watch.ts). */
export interface StreamWatch {
  /**
   * The whole frames of one read as they pass, back to back in `region` (frame k ends at
   * `ends[k]`, its blank line included): answers what the client gets of them — null when every
   * frame goes as it is (nearly always), else each changed frame's replacement by its index
   * (a rewritten frame, or null for nothing: a usage chunk the client did not ask for).
   */
  frames(region: Buffer, ends: readonly number[]): Map<number, Uint8Array | null> | null;
  /** The upstream said the stream is over (a stream that ends before is incomplete). */
  readonly complete: boolean;
  /** The usage the upstream reported, when it did (input without the cached tokens). */
  readonly usage: WatchedUsage | undefined;
  /** Output tokens the frames so far amount to, estimated (for a stream that ends without usage). */
  readonly outputEstimate: number;
}

/** A typed array as a Buffer over the same bytes (no copy). */
export const asBuffer = (b: Uint8Array): Buffer => (b instanceof Buffer ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** What the client gets of one frame (a stream's frames one at a time). */
export function watchFrame(watch: StreamWatch, frame: Uint8Array): Uint8Array | null {
  const changed = watch.frames(asBuffer(frame), [frame.byteLength]);
  return changed?.has(0) ? changed.get(0)! : frame;
}

/**
 * The next place at or after `from` where `needle` is, kept from one frame to the next: a needle
 * that is rare (the end of a stream, a usage object) is searched for once per read, not per frame.
 */
export class NextAt {
  private at = -2; // -2: not searched yet; -1: not in the rest of the region
  constructor(
    private readonly region: Buffer,
    private readonly find: (region: Buffer, from: number) => number,
  ) {}

  /** Whether the needle is in [start, end) (a needle holds no line break, so one begun in a frame ends in it). */
  within(start: number, end: number): boolean {
    if (this.at === -1) return false;
    if (this.at < start) this.at = this.find(this.region, start);
    return this.at !== -1 && this.at < end;
  }
}

export interface WatchedUsage {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  cachedTokens: number | undefined;
  costTicks: number | undefined;
}
