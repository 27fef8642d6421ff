/**
 * Starting the server as a newcomer does: a busy port is refused with a clear
 * message instead of being shared.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { runCli, ServerProcess } from "./helpers/process";
import { tempDir } from "./helpers/temp";

const dir = tempDir("grok2api-startup-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a second instance on a busy port", () => {
  test('exits 1 with "port N is in use" instead of sharing the port', async () => {
    const first = await ServerProcess.start(["--port", "0"], { GROK2API_LOG_FILE: join(dir, "first.log") });
    try {
      const port = new URL(first.url).port;
      // Before the fix the second instance started and served; it is killed after 10 s then.
      const second = await runCli(["--port", port], { GROK2API_LOG_FILE: join(dir, "second.log") }, 10_000);
      expect(second.stderr).toContain(`port ${port} is in use`);
      expect(second.code).toBe(1);
      // The first one still answers.
      expect((await fetch(`${first.url}/health`)).status).toBe(200);
    } finally {
      await first.kill();
    }
  });
});
