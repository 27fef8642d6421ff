/**
 * What `--check-config` verifies beyond the configuration's values: that the server could
 * open its log file for append, as it will at start (creating missing folders). Where the
 * answer cannot be known without trying — a folder only root may write to, a read-only or
 * special file system (/proc, /sys), a link that points nowhere — it tries, as start-up
 * would, and removes what it made: the file and the folders it created.
 */
import { closeSync, lstatSync, mkdirSync, openSync, realpathSync, rmdirSync, statSync, unlinkSync } from "node:fs";
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

const isLink = (path: string) => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

/** Why the log file could not be opened, or undefined if it can. */
export function logFileProblem(file: string): string | undefined {
  // Start-up opens the path as given: one ending in a slash names a folder.
  if (/[\\/]$/.test(file)) return `log file ${file} names a folder (it ends with a slash)`;
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
        return tryCreating(file, path);
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

/** Makes the file as start-up would (its folders, then the file), then removes all of it; why it failed, if it did. */
function tryCreating(file: string, path: string): string | undefined {
  let madeFrom: string | undefined;
  try {
    madeFrom = mkdirSync(dirname(path), { recursive: true });
    if (isLink(path)) {
      // A link to a file yet to be made: opening it makes that file.
      closeSync(openSync(path, "a"));
      unlinkSync(realpathSync(path));
    } else {
      closeSync(openSync(path, "wx")); // only a file made here is removed
      unlinkSync(path);
    }
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return `log file ${file} cannot be created: ${err.code ?? err.message}`;
  } finally {
    // The folders made for the try, deepest first.
    if (madeFrom) {
      for (let dir = dirname(path); dir.length >= madeFrom.length; dir = dirname(dir)) {
        try {
          rmdirSync(dir);
        } catch {
          break;
        }
        if (dir === madeFrom) break;
      }
    }
  }
}
