/**
 * File bytes on this machine's disk: one file per id under `[files] dir`, written to a
 * temporary name and renamed, so a crash never leaves half a file under a real id.
 */
import { rmSync } from "node:fs";
import { mkdir, open, rename } from "node:fs/promises";
import { join, resolve } from "node:path";

/** Bytes per write of a file. */
const WRITE_BYTES = 4 * 1024 * 1024;

export class LocalBlobs {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private pathOf(id: string): string {
    if (!/^[A-Za-z0-9_]+$/.test(id)) throw new Error(`not a file id: ${id}`);
    return join(this.dir, id);
  }

  /** Writes the bytes a few megabytes at a time (one write of hundreds of megabytes held the event loop). */
  async put(id: string, bytes: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const path = this.pathOf(id);
    const tmp = `${path}.part`;
    const fh = await open(tmp, "w");
    try {
      for (let at = 0; at < bytes.byteLength; ) {
        const { bytesWritten } = await fh.write(bytes, at, Math.min(WRITE_BYTES, bytes.byteLength - at));
        if (bytesWritten <= 0) throw new Error(`could not write ${tmp}`);
        at += bytesWritten;
      }
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    const f = Bun.file(this.pathOf(id));
    if (!(await f.exists())) return undefined;
    return new Uint8Array(await f.arrayBuffer());
  }

  remove(id: string): void {
    rmSync(this.pathOf(id), { force: true });
  }
}
