/** Builds the compiled executable once per test run (the same flags as `npm run build`). */
import { join } from "node:path";
import { compile } from "../../scripts/build";
import { tempDir } from "./temp";

let built: Promise<string> | undefined;

export function compiledBinary(): Promise<string> {
  built ??= (async () => {
    const binary = join(tempDir("grok2api-bin-"), "grok2api");
    const { code, err } = await compile(binary);
    if (code !== 0) throw new Error(`bun build --compile failed: ${err}`);
    return binary;
  })();
  return built;
}

export interface RunningBinary {
  url: string;
  proc: ReturnType<typeof Bun.spawn>;
  stop(): Promise<number>;
}

/** Starts the binary on a free loopback port and waits for its "listening" line. */
export async function startBinary(args: string[], env: Record<string, string>, cwd: string): Promise<RunningBinary> {
  const binary = await compiledBinary();
  const proc = Bun.spawn([binary, "--port", "0", ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`binary exited early: ${await new Response(proc.stderr as ReadableStream).text()}`);
    buffered += new TextDecoder().decode(value);
  }
  // Keep draining stdout so the access log never blocks on a full pipe.
  void (async () => {
    for (;;) {
      const { done } = await reader.read().catch(() => ({ done: true }));
      if (done) break;
    }
  })();
  const listening = JSON.parse(buffered.split("\n")[0]!);
  return {
    url: listening.url,
    proc,
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}
