/** The README's `npm run bench --quick` does a quick run: npm keeps `--quick` for itself, the bench reads it back. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const npm = Bun.which("npm");

describe("npm run bench --quick", () => {
  test.skipIf(!npm)("runs the quick bench (stopped early here: the binary it is pointed at does not exist)", async () => {
    const missing = join(ROOT, "bench", ".work", "no-such-binary");
    const proc = Bun.spawn([npm!, "run", "--silent", "bench", "--quick", "--", "--bin", missing], {
      cwd: ROOT,
      env: { PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`, HOME: process.env.HOME ?? "/tmp" },
      stdout: "pipe",
      stderr: "pipe",
      timeout: 20_000,
      killSignal: "SIGKILL",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(stdout).toContain("bench: quick run");
    expect(stderr).toContain(`${missing} does not exist`);
    expect(code).not.toBe(0);
  });
});
