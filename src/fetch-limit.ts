/**
 * Bun's fetch sends at most 256 requests at once, queueing the rest, unless
 * BUN_CONFIG_MAX_HTTP_REQUESTS is set when the process starts: Bun reads it once,
 * and has no setting to change it later (nor a bunfig key the compiled binary reads).
 * So when it is not set, the process replaces itself — execve: same pid, stdio,
 * signals and exit code, nothing left running — with the same command and the
 * variable set. The variable being set is what stops this from happening twice.
 */
export const FETCH_LIMIT_VAR = "BUN_CONFIG_MAX_HTTP_REQUESTS";
export const FETCH_LIMIT = "4096";

/** The script path of a compiled executable lives in Bun's embedded file system. */
export const isCompiled = (script: string | undefined) =>
  script !== undefined && (script.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(script));

/**
 * The command that runs this process again: the runtime flags and script for
 * `bun [flags] src/main.ts args…`, only the arguments for a compiled executable.
 */
export function sameCommand(execPath: string, argv: readonly string[], execArgv: readonly string[]): string[] {
  const script = argv[1];
  if (isCompiled(script)) return [execPath, ...argv.slice(2)];
  return [execPath, ...execArgv, ...argv.slice(1)];
}

/**
 * Runs this command again with the limit raised, if it is not set and the platform
 * can (no execve on Windows). Returns only if nothing was done, saying why not.
 */
export function liftFetchLimit(env: NodeJS.ProcessEnv = process.env): "set" | "unsupported" | "failed" {
  if (env[FETCH_LIMIT_VAR]) return "set";
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string>) => never }).execve;
  if (typeof execve !== "function" || process.platform === "win32") return "unsupported";
  const nextEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) nextEnv[k] = v;
  nextEnv[FETCH_LIMIT_VAR] = FETCH_LIMIT;
  try {
    execve.call(process, process.execPath, sameCommand(process.execPath, process.argv, process.execArgv), nextEnv);
  } catch {
    // Could not replace ourselves (e.g. the executable moved): run with Bun's default.
  }
  return "failed";
}
