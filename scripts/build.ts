/**
 * `bun run build`: compile dist/grok2api, the single executable. The flags live
 * here once, for the release script and the tests that run the binary too.
 * - bytecode: start-up without parsing the bundle (the worker threads' code is
 *   embedded as source, see src/workers/bundle.ts);
 * - the binary does not read a .env or bunfig.toml it happens to find in its
 *   working directory: its configuration is its flags, environment and --config.
 */
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..");

export function compileArgs(outfile: string, target?: string): string[] {
  return [
    "build",
    "--compile",
    "--bytecode",
    "--minify",
    "--sourcemap",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    ...(target ? [`--target=${target}`] : []),
    "src/main.ts",
    "--outfile",
    outfile,
  ];
}

/** Runs `bun build` with those flags; resolves to its exit code, output and errors. */
export async function compile(outfile: string, target?: string): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([process.execPath, ...compileArgs(outfile, target)], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out, err };
}

if (import.meta.main) {
  const { code, out, err } = await compile(join(ROOT, "dist", "grok2api"));
  process.stdout.write(out);
  process.stderr.write(err);
  process.exit(code);
}
