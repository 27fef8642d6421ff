/**
 * A request body serialized before the call — a large request's, in slices or on the
 * translation thread — and sent as it is on every attempt: the client does not stringify it
 * again. `source` is the value it was made from, for a fallback that asks for another model
 * (rare: that body is then written whole, at once).
 */
export class PreparedBody {
  constructor(
    readonly model: string,
    readonly bytes: Uint8Array | Blob,
    readonly source?: Readonly<Record<string, unknown>>,
  ) {}

  /** In a log line: what it is, never its bytes. */
  toJSON(): { model: string; bytes: number } {
    return { model: this.model, bytes: this.bytes instanceof Blob ? this.bytes.size : this.bytes.byteLength };
  }
}
