/**
 * File bytes on this machine's disk: one file per id under `[files] dir`, written to a
 * temporary name and renamed, so a crash never leaves half a file under a real id.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export class LocalBlobs {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private pathOf(id: string): string {
    if (!/^[A-Za-z0-9_]+$/.test(id)) throw new Error(`not a file id: ${id}`);
    return join(this.dir, id);
  }

  put(id: string, bytes: Uint8Array): void {
    mkdirSync(this.dir, { recursive: true });
    const path = this.pathOf(id);
    const tmp = `${path}.part`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
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
