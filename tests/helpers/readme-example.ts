/** The README's examples, run as a user runs them: the TypeScript block under a heading, with Bun, from the project. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

/** The first ```ts block after `heading` in README.md, its `http://localhost:9527` pointed at `baseUrl`. */
export function readmeExample(heading: string, baseUrl: string): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README.md has no heading ${heading}`);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))?.[1];
  if (!block) throw new Error(`README.md has no ts example under ${heading}`);
  return block.replaceAll("http://localhost:9527", baseUrl);
}

/** Runs a script with Bun from the project (so `@anthropic-ai/sdk` resolves); its stdout, or throws with its stderr. */
export async function runTs(code: string, env: Record<string, string> = {}): Promise<string> {
  const p = Bun.spawn([process.execPath, "-e", code], { cwd: ROOT, env: { ...process.env, XAI_API_KEY: "xai-user-key", ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code_] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code_ !== 0) throw new Error(`the example failed (${code_}): ${err}`);
  return out;
}
