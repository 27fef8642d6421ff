/**
 * Starting the server as a newcomer does: a busy port is refused with a clear
 * message instead of being shared, and the bare command (no environment tweak)
 * sends more than Bun's default 256 requests upstream at once.
 */
import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { join } from "node:path";
import { chunk } from "../helpers/fake-upstream";
import { heldStream } from "../helpers/held-stream";
import { gate, runCli, ServerProcess } from "../helpers/process";
import { tempDir } from "../helpers/temp";
import { sameCommand } from "../../src/fetch-limit";
import { useFakeUpstream } from "../helpers/setup";

const dir = tempDir("grok2api-startup-");

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

describe("Bun's fetch limit", () => {
  const fake = useFakeUpstream();
  test("the command as run by bun or compiled is run again with the same flags and arguments", () => {
    expect(sameCommand("/usr/bin/bun", ["/usr/bin/bun", "/app/src/main.ts", "--port", "1"], ["--smol"])).toEqual([
      "/usr/bin/bun",
      "--smol",
      "/app/src/main.ts",
      "--port",
      "1",
    ]);
    expect(sameCommand("/usr/local/bin/grok2api", ["bun", "/$bunfs/root/grok2api", "--port", "1"], [])).toEqual([
      "/usr/local/bin/grok2api",
      "--port",
      "1",
    ]);
    expect(sameCommand("C:\\grok2api.exe", ["bun", "B:/~BUN/root/grok2api.exe", "-v"], [])).toEqual(["C:\\grok2api.exe", "-v"]);
  });

  test("the bare command sends more than 256 streams upstream at once (no BUN_CONFIG_MAX_HTTP_REQUESTS)", async () => {
    const N = 300; // 1000 in the issue; past 256 is what matters, and fewer keep the test light
    const held = gate();
    fake.on(() => heldStream([chunk({ role: "assistant", content: "held" })], [chunk({}, "stop")], held.promise));
    // No BUN_CONFIG_MAX_HTTP_REQUESTS in the child's environment (childEnv passes only what is given).
    const server = await ServerProcess.start(["--port", "0"], {
      XAI_BASE_URL: fake.baseUrl,
      XAI_API_KEY: "xai-startup-test-key-0123456789",
      GROK2API_LOG_FILE: join(dir, "limit.log"),
    });
    // Raw sockets: this test process's own fetch has the 256 limit.
    const sockets: Socket[] = [];
    try {
      const { port } = new URL(server.url);
      const body = JSON.stringify({ model: "grok-4", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] });
      const request =
        `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
        `anthropic-version: 2023-06-01\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
      for (let i = 0; i < N; i++) {
        sockets.push(await Bun.connect({ hostname: "127.0.0.1", port: Number(port), socket: { data() {}, error() {} } }));
        sockets.at(-1)!.write(request);
      }
      // Bounded wait for every stream to reach the upstream (it stays at 256 with Bun's default).
      // Only the streams count: the gateway also reads the upstream's model catalog (GET) at start.
      const streams = () => fake.requests.filter((r) => r.method === "POST").length;
      for (let waited = 0; streams() < N && waited < 15_000; waited += 50) await Bun.sleep(50);
      expect(streams()).toBe(N);
      expect(server.stderr).toBe("");
    } finally {
      held.open();
      for (const s of sockets) s.end();
      await server.kill();
    }
  }, 30_000);
});
