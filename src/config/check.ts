/**
 * What `--check-config` verifies beyond the configuration's values: that the
 * server could open its log file for append, as it will at start (creating
 * missing folders). Nothing is created or written here.
 */
import { accessSync, closeSync, constants, openSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/** The file's status; undefined if it, or a folder on its way, does not exist as such. */
function statOf(path: string) {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
}

/** Why the log file could not be opened, or undefined if it can. */
export function logFileProblem(file: string): string | undefined {
  const path = resolve(file);
  try {
    const st = statOf(path);
    if (st) {
      if (st.isDirectory()) return `log file ${file} is a directory`;
      closeSync(openSync(path, "a"));
      return undefined;
    }
    // Missing: the server creates it, and the folders above it, in the nearest folder that exists.
    let dir = dirname(path);
    for (let depth = 0; depth < 256; depth++) {
      const d = statOf(dir);
      if (d) {
        if (!d.isDirectory()) return `log file ${file} cannot be created: ${dir} is not a directory`;
        accessSync(dir, constants.W_OK | constants.X_OK);
        return undefined;
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    return `log file ${file} cannot be created: no folder above it exists`;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `log file ${file} cannot be opened for append: ${err.code ?? err.message}`;
  }
}
