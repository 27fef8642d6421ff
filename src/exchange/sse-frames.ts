/**
 * Server-sent events relayed frame by frame: the bytes of a stream cut after each blank line
 * (`\n\n`, or `\r\n\r\n`), a frame cut by a read held until its end arrives. A relay that
 * forwards whole frames only can drop or rewrite one (a usage chunk the client did not ask
 * for), read a frame however long it is (a `response.completed` carrying the whole answer),
 * and put a keep-alive between frames, never inside one. Reads from an upstream that writes
 * one event per write (xAI does) hold nothing back.
 */

export interface Frames {
  /** The complete frames of this read (with what was held before), in one piece. */
  region: Uint8Array;
  /** Each frame's [start, end) in `region`, its blank line included. */
  bounds: Array<[number, number]>;
}

const EMPTY = new Uint8Array(0);
const LFLF = Buffer.from("\n\n");
const CRLFCRLF = Buffer.from("\r\n\r\n");

/**
 * Finds the blank lines of one buffer in order, each search native; the `\r\n\r\n` search is
 * kept between calls (a stream without one is scanned for it once per read, not once per frame).
 */
class EndFinder {
  private crlf = -2; // -2: not searched yet; -1: none ahead
  constructor(private readonly buf: Buffer) {}

  /** Where the frame that starts at `from` ends (after its blank line), or -1 when it has not ended. */
  next(from: number): number {
    if (this.crlf === -2 || (this.crlf !== -1 && this.crlf < from)) this.crlf = this.buf.indexOf(CRLFCRLF, from);
    const lf = this.buf.indexOf(LFLF, from);
    if (lf === -1) return this.crlf === -1 ? -1 : this.crlf + 4;
    return this.crlf === -1 || lf < this.crlf ? lf + 2 : this.crlf + 4;
  }
}

const frameEnd = (buf: Buffer, from: number) => new EndFinder(buf).next(from);

export class FrameSplitter {
  /** The start of a frame whose end has not come, as read (joined only once it ends: linear however long). */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** The last bytes held (at most 3): a blank line may span two reads. */
  private tail: Buffer = Buffer.alloc(0);

  /** Bytes held back: the start of a frame whose end has not come. */
  get pending(): number {
    return this.heldBytes;
  }

  push(chunk: Uint8Array): Frames {
    const c = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    if (this.heldBytes > 0) {
      // The held frame's end: a blank line across the seam, else the first one in this read.
      const seam = Buffer.concat([this.tail, c.subarray(0, 3)]);
      const inSeam = frameEnd(seam, 0);
      from = inSeam > this.tail.byteLength ? inSeam - this.tail.byteLength : frameEnd(c, 0);
      if (from === -1) {
        this.hold(chunk);
        return { region: EMPTY, bounds: [] };
      }
    }
    let at = from;
    const bounds: Array<[number, number]> = [];
    if (from > 0) bounds.push([0, this.heldBytes + from]);
    const ends = new EndFinder(c);
    for (;;) {
      const end = ends.next(at);
      if (end === -1) break;
      bounds.push([this.heldBytes + at, this.heldBytes + end]);
      at = end;
    }
    if (bounds.length === 0) {
      this.hold(chunk);
      return { region: EMPTY, bounds };
    }
    const complete = c.subarray(0, at);
    const region = this.heldBytes ? Buffer.concat([...this.held, complete]) : complete;
    this.held = [];
    this.heldBytes = 0;
    this.tail = Buffer.alloc(0);
    if (at < c.byteLength) this.hold(chunk.slice(at));
    return { region, bounds };
  }

  /** What is held at the end of the stream (a frame that never ended), given up as it is. */
  end(): Uint8Array {
    const rest = this.heldBytes ? Buffer.concat(this.held) : EMPTY;
    this.held = [];
    this.heldBytes = 0;
    this.tail = Buffer.alloc(0);
    return rest;
  }

  private hold(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.held.push(bytes);
    this.heldBytes += bytes.byteLength;
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.tail = b.byteLength >= 3 ? Buffer.from(b.subarray(b.byteLength - 3)) : Buffer.concat([this.tail, b]).subarray(-3);
  }
}

/** What a relayed stream is watched for (one per upstream dialect, see dialects/<dialect>/stream-watch.ts). */
export interface StreamWatch {
  /**
   * A whole frame as it passes: answers what the client gets of it — the frame itself, a
   * rewritten one, or nothing (a usage chunk the client did not ask for).
   */
  frame(frame: Uint8Array): Uint8Array | null;
  /** The upstream said the stream is over (a stream that ends before is incomplete). */
  readonly complete: boolean;
  /** The usage the upstream reported, when it did (input without the cached tokens). */
  readonly usage: WatchedUsage | undefined;
  /** Output tokens the frames so far amount to, estimated (for a stream that ends without usage). */
  readonly outputEstimate: number;
}

export interface WatchedUsage {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  cachedTokens: number | undefined;
  costTicks: number | undefined;
}
