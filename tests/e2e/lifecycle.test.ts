/**
 * The server as a process, signalled as systemd would: SIGHUP reloads the
 * config file without dropping open streams, SIGTERM lets them finish and
 * exits 0, SIGUSR1 reopens the log file. The fake upstream runs in this process.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, renameSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chunk, completion, usage, usageChunk } from "../helpers/fake-upstream";
import { heldStream, SseClient } from "../helpers/held-stream";
import { gate, ServerProcess } from "../helpers/process";
import { useFakeUpstream } from "../helpers/setup";
import { tempDir } from "../helpers/temp";

const UPSTREAM_KEY = "xai-lifecycle-upstream-key-0123456789";

const fake = useFakeUpstream();
let dir: string;
const running: ServerProcess[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) await s.kill();
});

function writeConfig(name: string, body: string): string {
  dir ??= tempDir("grok2api-lifecycle-");
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

function configText(opts: { model: string; logFile: string; grace?: number }): string {
  return [
    `port = 0`,
    `log_file = ${JSON.stringify(opts.logFile)}`,
    opts.grace !== undefined ? `shutdown_grace_seconds = ${opts.grace}` : "",
    `[upstream]`,
    `base_url = ${JSON.stringify(fake.baseUrl)}`,
    `[model_map]`,
    `"claude-test" = ${JSON.stringify(opts.model)}`,
    "",
  ].join("\n");
}

async function start(configFile: string): Promise<ServerProcess> {
  const s = await ServerProcess.start(["--config", configFile], { XAI_API_KEY: UPSTREAM_KEY });
  running.push(s);
  return s;
}

const post = (url: string, body: Record<string, unknown>) =>
  fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-test", max_tokens: 64, messages: [{ role: "user", content: "Hi" }], ...body }),
  });

const postChat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "grok-a", stream: true, messages: [{ role: "user", content: "Hi" }] }),
  });

/** Upstream: streams "Hello" then, once `held` opens, " world" and the end; non-streams answer "ok". */
function upstreamHolding(held: Promise<void>) {
  fake.on((req) =>
    req.body?.stream
      ? heldStream(
          [chunk({ role: "assistant", content: "Hello" })],
          [chunk({ content: " world" }), chunk({}, "stop"), usageChunk(usage(9, 2))],
          held,
        )
      : Response.json(completion({ content: "ok" })),
  );
}

describe("SIGHUP reload", () => {
  test("applies the new model map to the next request, keeps the open stream, and rejects a bad file", async () => {
    const logFile = join(tempDir("grok2api-log-"), "app.log");
    const configFile = writeConfig("reload.toml", configText({ model: "grok-old", logFile }));
    const held = gate();
    upstreamHolding(held.promise);
    const server = await start(configFile);

    // A stream is open on the old configuration.
    const streamRes = await post(server.url, { stream: true });
    expect(streamRes.status).toBe(200);
    const sse = new SseClient(streamRes);
    expect(await sse.readUntil('"text":"Hello"')).toBe(true);
    expect(fake.last.body.model).toBe("grok-old");

    // New model map, reload. A setting fixed at start is named as needing a restart.
    writeFileSync(configFile, "log_keep = 3\n" + configText({ model: "grok-new", logFile }));
    let from = server.mark();
    server.signal("SIGHUP");
    await server.waitFor((l) => l.msg === "config reloaded", from);
    expect(server.lines.slice(from).filter((l) => l.level === "warn").map((l) => l.msg)).toEqual([
      "config reload: log_keep takes effect after a restart",
    ]);

    const next = await post(server.url, {});
    expect(next.status).toBe(200);
    expect(fake.last.body.model).toBe("grok-new");

    // A broken file is rejected with a log line naming the problem; the running config stays.
    writeFileSync(configFile, "port_typo = 1\n" + configText({ model: "grok-bad", logFile }));
    from = server.mark();
    server.signal("SIGHUP");
    const rejected = await server.waitFor((l) => l.msg.startsWith("config reload rejected"), from);
    expect(rejected.level).toBe("error");
    expect(rejected.error).toContain('unknown key "port_typo" = 1');
    const after = await post(server.url, {});
    expect(after.status).toBe(200);
    expect(fake.last.body.model).toBe("grok-new");

    // The stream opened before both reloads finishes whole.
    held.open();
    const text = await sse.readAll();
    expect(text).toContain('"text":" world"');
    expect(text).toContain("event: message_stop");
    const first = await server.waitFor((l) => l.msg === "request" && l.stream === true);
    expect(first.status).toBe(200);
    expect(first.upstream_model).toBe("grok-old");
  });
});

describe("SIGHUP reload that would expose the key", () => {
  test("a listener beyond loopback keeps its client keys: a reload dropping them is refused and logged", async () => {
    const logFile = join(tempDir("grok2api-log-"), "app.log");
    const CLIENT_KEY = "client-key-for-the-exposed-listener";
    // Listening on every address (only 127.0.0.1 is ever connected to), with client keys.
    const configFile = writeConfig("exposed.toml", `host = "0.0.0.0"\napi_keys = ["${CLIENT_KEY}"]\n` + configText({ model: "grok-a", logFile }));
    const server = await start(configFile);
    const url = server.url.replace("0.0.0.0", "127.0.0.1");
    expect((await post(url, {})).status).toBe(401);

    // The new file passes on its own (it names a loopback host) but the listener stays on 0.0.0.0 until a restart.
    writeFileSync(configFile, `host = "127.0.0.1"\n` + configText({ model: "grok-b", logFile }));
    const from = server.mark();
    server.signal("SIGHUP");
    const rejected = await server.waitFor((l) => l.msg.startsWith("config reload rejected"), from);
    expect(rejected.level).toBe("error");
    expect(rejected.error).toContain("refusing to listen on 0.0.0.0 with an upstream key and no client keys");
    expect(server.lines.slice(from).some((l) => l.msg === "config reloaded")).toBe(false);
    // The running configuration stays: the key is still required, and still works.
    expect((await post(url, {})).status).toBe(401);
    const ok = await fetch(`${url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": CLIENT_KEY },
      body: JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(ok.status).toBe(200);
    expect(fake.last.body.model).toBe("grok-a");
  });
});

describe("graceful shutdown", () => {
  test("SIGTERM refuses new connections, lets the open stream finish, then exits 0", async () => {
    const logFile = join(tempDir("grok2api-log-"), "app.log");
    const held = gate();
    upstreamHolding(held.promise);
    const server = await start(writeConfig("term.toml", configText({ model: "grok-a", logFile })));

    const sse = new SseClient(await post(server.url, { stream: true }));
    expect(await sse.readUntil('"text":"Hello"')).toBe(true);

    const from = server.mark();
    server.signal("SIGTERM");
    const shuttingDown = await server.waitFor((l) => l.msg === "shutting down", from);
    expect(shuttingDown.open_requests).toBe(1);
    // No longer listening.
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();

    held.open();
    const text = await sse.readAll();
    expect(text).toContain('"text":" world"');
    expect(text).toContain("event: message_stop");
    expect(await server.exited).toBe(0);

    // The access log was flushed before exit, with the stream's final status.
    const entries = readFileSync(logFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(entries.find((e) => e.msg === "request")).toMatchObject({ status: 200, stream: true, output_tokens: 2 });
    expect(entries.at(-1)!.msg).toBe("stopped");
  });

  test("streams still open when the grace period ends get an error event, then close; the exit code is still 0", async () => {
    const logFile = join(tempDir("grok2api-log-"), "app.log");
    upstreamHolding(new Promise(() => {})); // the upstream hangs for good
    const server = await start(writeConfig("grace.toml", configText({ model: "grok-a", logFile, grace: 0.3 })));

    const sse = new SseClient(await post(server.url, { stream: true }));
    expect(await sse.readUntil('"text":"Hello"')).toBe(true);
    const chat = new SseClient(await postChat(server.url));
    expect(await chat.readUntil('"content":"Hello"')).toBe(true);
    server.signal("SIGTERM");
    expect(await server.exited).toBe(0);
    expectShutdownEvents(await sse.readAll(), await chat.readAll());
    expect(server.lines.some((l) => l.msg === "closing requests still open" && l.open === 2)).toBe(true);
  });

  test("a second SIGTERM stops waiting, and the open streams get an error event first", async () => {
    const logFile = join(tempDir("grok2api-log-"), "app.log");
    upstreamHolding(new Promise(() => {}));
    const server = await start(writeConfig("twice.toml", configText({ model: "grok-a", logFile, grace: 3600 })));

    const sse = new SseClient(await post(server.url, { stream: true }));
    expect(await sse.readUntil('"text":"Hello"')).toBe(true);
    const chat = new SseClient(await postChat(server.url));
    expect(await chat.readUntil('"content":"Hello"')).toBe(true);
    const from = server.mark();
    server.signal("SIGTERM");
    await server.waitFor((l) => l.msg === "shutting down", from);
    server.signal("SIGTERM");
    expect(await server.exited).toBe(0);
    expectShutdownEvents(await sse.readAll(), await chat.readAll());
    // Both streams are accounted for, with why they ended.
    const requests = server.lines.filter((l) => l.msg === "request");
    expect(requests.map((l) => l.error).sort()).toEqual(["overloaded_error", "shutting_down"]);
  });
});

/** The Anthropic stream ends with `event: error` (no message_stop); the chat stream with an OpenAI error event (no [DONE]). */
function expectShutdownEvents(anthropic: string, openai: string): void {
  expect(anthropic).not.toContain("message_stop");
  const last = anthropic.trim().split("\n\n").at(-1)!;
  expect(last.split("\n")[0]).toBe("event: error");
  expect(JSON.parse(last.split("\n")[1]!.slice("data: ".length))).toMatchObject({
    type: "error",
    error: { type: "overloaded_error", message: expect.stringContaining("shutting down") },
  });
  expect(openai).not.toContain("[DONE]");
  const lastChat = openai.trim().split("\n\n").at(-1)!;
  expect(JSON.parse(lastChat.slice("data: ".length))).toMatchObject({ error: { message: expect.stringContaining("shutting down") } });
}

describe("SIGUSR1", () => {
  test("reopens the log file after it was moved away (logrotate)", async () => {
    const logDir = tempDir("grok2api-log-");
    const logFile = join(logDir, "app.log");
    upstreamHolding(Promise.resolve());
    const server = await start(writeConfig("usr1.toml", configText({ model: "grok-a", logFile })));

    // Wait (bounded) until the "listening" line is in the file, so the file is open.
    for (let i = 0; i < 500 && !(existsSync(logFile) && readFileSync(logFile, "utf8").includes('"listening"')); i++) await Bun.sleep(10);
    renameSync(logFile, `${logFile}.1`);
    const from = server.mark();
    server.signal("SIGUSR1");
    await server.waitFor((l) => l.msg === "log file reopened", from);

    const res = await post(server.url, {});
    expect(res.status).toBe(200);
    const requestId = res.headers.get("request-id")!;
    server.signal("SIGTERM");
    expect(await server.exited).toBe(0);

    const rotated = readFileSync(`${logFile}.1`, "utf8");
    const current = readFileSync(logFile, "utf8");
    expect(rotated).toContain('"listening"');
    expect(rotated).not.toContain(requestId);
    expect(current).toContain(requestId);
  });
});
