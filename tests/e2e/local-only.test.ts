/**
 * Loopback without keys stays local (issue 20 §7): with no client keys, a web page in a browser
 * on this machine must not be able to spend the gateway's upstream key — not by a cross-site
 * POST of text/plain (no preflight needed), not through DNS rebinding (a foreign Host). Refused
 * with a 403 permission_error in the face's envelope, before anything reaches the upstream;
 * API clients (the SDKs, Claude Code, Codex) send JSON from loopback and are served as before.
 */
import { APIError } from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { loadCommand } from "../../src/config";
import { clientFor, openaiFor, useFakeUpstream, useGateways } from "../helpers/setup";
import { runCli } from "../helpers/process";
import { recordsConfig } from "../helpers/records";
import { tempDir } from "../helpers/temp";
import { join } from "node:path";
import { writeFileSync } from "node:fs";

const fake = useFakeUpstream();
const start = useGateways(fake);

const messages = JSON.stringify({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
const chat = JSON.stringify({ model: "grok-4", messages: [{ role: "user", content: "hi" }] });

async function post(url: string, headers: Record<string, string>, body = messages): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: "POST", headers, body });
  return { status: res.status, body: await res.json() };
}

describe("no client keys, on loopback", () => {
  test("the SDKs are served as before", async () => {
    const gw = start();
    const m = await clientFor(gw).messages.create({ model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    expect(m.content[0]).toMatchObject({ type: "text", text: "Hello from fake Grok!" });
    const c = await openaiFor(gw).chat.completions.create({ model: "grok-4", messages: [{ role: "user", content: "hi" }] });
    expect(c.choices[0]!.message.content).toBe("Hello from fake Grok!");
    expect(fake.requests).toHaveLength(2);
  });

  test("a body not sent as JSON (a page's cross-site text/plain, a form, none declared) is a 403 in the face's envelope", async () => {
    const gw = start();
    for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", undefined]) {
      const headers: Record<string, string> = type ? { "content-type": type } : {};
      const a = await post(`${gw.url}/v1/messages`, headers);
      expect(a.status).toBe(403);
      expect(a.body.type).toBe("error");
      expect(a.body.error.type).toBe("permission_error");
      expect(a.body.error.message).toContain("Content-Type: application/json");
      expect((await post(`${gw.url}/v1/messages/count_tokens`, headers)).status).toBe(403);
      const o = await post(`${gw.url}/v1/chat/completions`, headers, chat);
      expect(o.status).toBe(403);
      expect(o.body.error).toMatchObject({ type: "permission_error", code: "permission_error" });
      expect((await post(`${gw.url}/v1/responses`, headers, chat)).body.error.type).toBe("permission_error");
    }
    expect(fake.requests).toHaveLength(0);
    // JSON with a charset, or a +json type, is JSON.
    expect((await post(`${gw.url}/v1/messages`, { "content-type": "application/json; charset=utf-8" })).status).toBe(200);
    expect((await post(`${gw.url}/v1/messages`, { "content-type": "application/vnd.api+json" })).status).toBe(200);
  });

  test("a POST with no body (the SDK's batch cancel) is served; it spends nothing, and a web page's is still a 403", async () => {
    const gw = start(recordsConfig());
    const client = clientFor(gw);
    const b = await client.messages.batches.create({ requests: [{ custom_id: "a", params: { model: "grok-4", max_tokens: 5, messages: [{ role: "user", content: "hi" }] } }] });
    const canceled = await client.messages.batches.cancel(b.id);
    expect(canceled.id).toBe(b.id);
    expect(["canceling", "ended"]).toContain(canceled.processing_status);
    // No body is no prompt: /v1/messages without one is the body's own 400, never an upstream call.
    const empty = await fetch(`${gw.url}/v1/messages`, { method: "POST" });
    expect(empty.status).toBe(400);
    const before = fake.requests.length;
    const page = await fetch(`${gw.url}/v1/messages/batches/${b.id}/cancel`, { method: "POST", headers: { origin: "https://evil.example" } });
    expect(page.status).toBe(403);
    expect(fake.requests.length).toBe(before);
  });

  test("a request from a web page (an Origin that is not loopback) is a 403; a local page's is served", async () => {
    const gw = start();
    for (const origin of ["https://evil.example", "http://127.0.0.1.evil.example", "null", "http://192.168.1.5:3000"]) {
      const r = await post(`${gw.url}/v1/messages`, { "content-type": "application/json", origin });
      expect(r.status).toBe(403);
      expect(r.body.error.type).toBe("permission_error");
    }
    expect((await fetch(`${gw.url}/v1/models`, { headers: { origin: "https://evil.example" } })).status).toBe(403);
    expect(fake.requests).toHaveLength(0);
    for (const origin of ["http://localhost:3000", "http://127.0.0.1:8080", "https://[::1]"]) {
      expect((await post(`${gw.url}/v1/messages`, { "content-type": "application/json", origin })).status).toBe(200);
    }
  });

  test("a foreign Host (DNS rebinding) is a 403; loopback names are served", async () => {
    const gw = start();
    for (const host of ["evil.example", `evil.example:${gw.port}`, "10.0.0.1", "gw.example"]) {
      const r = await post(`${gw.url}/v1/messages`, { "content-type": "application/json", host });
      expect(r.status).toBe(403);
      expect(r.body.error.message).toContain("allowed_hosts");
    }
    expect((await fetch(`${gw.url}/metrics`, { headers: { host: "evil.example" } })).status).toBe(403);
    expect(fake.requests).toHaveLength(0);
    for (const host of [`127.0.0.1:${gw.port}`, `localhost:${gw.port}`, "localhost", `[::1]:${gw.port}`, "127.1.2.3", "LOCALHOST."]) {
      expect((await post(`${gw.url}/v1/messages`, { "content-type": "application/json", host })).status).toBe(200);
    }
  });

  test("allowed_hosts names more hosts to serve (a reverse proxy's)", async () => {
    const gw = start({ allowedHosts: ["gw.example"] });
    expect((await post(`${gw.url}/v1/messages`, { "content-type": "application/json", host: "gw.example" })).status).toBe(200);
    expect((await post(`${gw.url}/v1/messages`, { "content-type": "application/json", host: "GW.example:443" })).status).toBe(200);
    expect((await post(`${gw.url}/v1/messages`, { "content-type": "application/json", host: "other.example" })).status).toBe(403);
  });

  test("forwarding mode (no keys at all) is held to the same rules", async () => {
    const gw = start({ upstream: { baseUrl: fake.baseUrl, keys: [] } });
    const r = await post(`${gw.url}/v1/messages`, { "content-type": "text/plain", "x-api-key": "xai-client-key" });
    expect(r.status).toBe(403);
    expect((await post(`${gw.url}/v1/messages`, { "content-type": "application/json", "x-api-key": "xai-client-key" })).status).toBe(200);
    expect(fake.last.headers.get("authorization")).toBe("Bearer xai-client-key");
  });
});

describe("with client keys, the key is the guard", () => {
  test("any Host, Origin and body type get through to the key check and the body's own checks", async () => {
    const gw = start({ clientKeys: ["client-key-0123456789"] });
    const headers = { "content-type": "text/plain", origin: "https://app.example", host: "gw.example" };
    const noKey = await post(`${gw.url}/v1/messages`, headers);
    expect(noKey.status).toBe(401);
    const withKey = await post(`${gw.url}/v1/messages`, { ...headers, "x-api-key": "client-key-0123456789" });
    expect(withKey.status).toBe(200);
    const err = await clientFor(gw, "wrong").messages.create({ model: "grok-4", max_tokens: 5, messages: [] }).catch((e) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(401);
  });
});

describe("allowed_hosts in the configuration", () => {
  test("from the file or GROK2API_ALLOWED_HOSTS (a comma list, over the file); a URL or a port is refused", async () => {
    const dir = tempDir("grok2api-allowed-hosts-");
    const file = join(dir, "c.toml");
    writeFileSync(file, 'allowed_hosts = ["GW.example", "gw2.example."]\n');
    const fromFile = await loadCommand(["--config", file], {});
    expect(fromFile.kind === "serve" && fromFile.config.allowedHosts).toEqual(["gw.example", "gw2.example"]);
    const fromEnv = await loadCommand(["--config", file], { GROK2API_ALLOWED_HOSTS: "a.example, 10.1.2.3 ,[fd00::1]" });
    expect(fromEnv.kind === "serve" && fromEnv.config.allowedHosts).toEqual(["a.example", "10.1.2.3", "[fd00::1]"]);
    const none = await loadCommand([], {});
    expect(none.kind === "serve" && none.config.allowedHosts).toEqual([]);
    for (const bad of ["https://gw.example", "gw.example:443", "gw.example/v1", "a b"]) {
      await expect(loadCommand([], { GROK2API_ALLOWED_HOSTS: bad })).rejects.toThrow("is not a host name");
    }
    const printed = await runCli(["--print-config"], { GROK2API_ALLOWED_HOSTS: "gw.example" });
    expect(JSON.parse(printed.stdout).allowedHosts).toEqual(["gw.example"]);
  });
});
