/**
 * `bun run release`: cross-compile the single binary for every platform into
 * dist/, and write dist/SHA256SUMS (check with `sha256sum -c SHA256SUMS`).
 *
 * Bun fetches each target's runtime from the npm registry the first time; a
 * target that cannot be fetched or built stops the release, naming it.
 * x64 builds use Bun's "baseline" runtime, so they run on any x86-64 CPU.
 */
import { rmSync } from "node:fs";
import { basename, join } from "node:path";
import { VERSION } from "../src/version";
import { compile } from "./build";

const TARGETS: ReadonlyArray<{ target: string; file: string }> = [
  { target: "bun-linux-x64-baseline", file: "grok2api-linux-x64" },
  { target: "bun-linux-arm64", file: "grok2api-linux-arm64" },
  { target: "bun-darwin-arm64", file: "grok2api-darwin-arm64" },
  { target: "bun-darwin-x64-baseline", file: "grok2api-darwin-x64" },
  { target: "bun-windows-x64-baseline", file: "grok2api-windows-x64.exe" },
];

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");

async function build(target: string, outfile: string): Promise<void> {
  const { code, out, err } = await compile(outfile, target);
  if (code !== 0) {
    const detail = (err.trim() || out.trim()).split("\n").slice(-5).join("\n  ");
    throw new Error(`target ${target} (${basename(outfile)}) failed, exit code ${code}:\n  ${detail}`);
  }
  // The source map is embedded in the binary; the file beside it is not shipped.
  rmSync(`${outfile}.map`, { force: true });
}

async function sha256(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  const reader = Bun.file(path).stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
  }
  return hasher.digest("hex");
}

async function main(): Promise<number> {
  console.log(`grok2api ${VERSION}: building ${TARGETS.length} binaries into dist/`);
  rmSync(join(dist, "SHA256SUMS"), { force: true }); // a failed release leaves no checksums behind
  const sums: string[] = [];
  for (const { target, file } of TARGETS) {
    const outfile = join(dist, file);
    try {
      await build(target, outfile);
    } catch (e) {
      console.error(`release: ${(e as Error).message}`);
      return 1;
    }
    const sum = await sha256(outfile);
    sums.push(`${sum}  ${file}`);
    console.log(`  ${file}  ${(Bun.file(outfile).size / 1e6).toFixed(1)} MB  sha256 ${sum.slice(0, 16)}…`);
  }
  await Bun.write(join(dist, "SHA256SUMS"), sums.join("\n") + "\n");
  console.log("  SHA256SUMS");
  return 0;
}

process.exit(await main());
