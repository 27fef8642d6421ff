/**
 * The deploy files: the systemd unit passes `systemd-analyze verify` (where
 * that tool exists), and install.sh installs into a scratch root, twice,
 * without touching a config that is already there.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const UNIT = join(ROOT, "deploy", "grok2api.service");
const INSTALL = join(ROOT, "deploy", "install.sh");
const systemdAnalyze = Bun.which("systemd-analyze");
const shellcheck = Bun.which("shellcheck");

function run(cmd: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync(cmd, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("deploy/grok2api.service", () => {
  test.skipIf(!systemdAnalyze)("passes systemd-analyze verify with no warning", () => {
    // verify wants ExecStart's program to exist: point it at one that does.
    const dir = mkdtempSync(join(tmpdir(), "grok2api-unit-"));
    const unit = join(dir, "grok2api.service");
    writeFileSync(unit, readFileSync(UNIT, "utf8").replaceAll("/usr/local/bin/grok2api", process.execPath));
    const r = run([systemdAnalyze!, "verify", unit]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("runs the installed binary with the installed config, reloads with SIGHUP, and is hardened", () => {
    const unit = readFileSync(UNIT, "utf8");
    const settings = new Map<string, string[]>();
    for (const line of unit.split("\n")) {
      const m = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
    }
    const one = (key: string) => settings.get(key)?.join(" ");
    expect(one("ExecStart")).toBe("/usr/local/bin/grok2api --config /etc/grok2api/config.toml");
    expect(one("ExecReload")).toBe("/bin/kill -HUP $MAINPID");
    expect(one("EnvironmentFile")).toBe("-/etc/grok2api/grok2api.env");
    expect(one("User")).toBe("grok2api");
    expect(one("Restart")).toBe("on-failure");
    for (const key of ["NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices", "RestrictSUIDSGID"]) expect(one(key)).toBe("yes");
    expect(one("ProtectSystem")).toBe("strict");
    expect(one("LogsDirectory")).toBe("grok2api");
    expect(one("Environment")).toBe("GROK2API_LOG_FILE=/var/log/grok2api/app.log BUN_CONFIG_MAX_HTTP_REQUESTS=4096");
    // Longer than the default shutdown grace period (30 s), so systemd does not kill open streams.
    expect(Number(one("TimeoutStopSec"))).toBeGreaterThan(30);
  });
});

describe("deploy/install.sh", () => {
  test.skipIf(!shellcheck)("is shellcheck-clean", () => {
    const r = run([shellcheck!, INSTALL]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("installs binary, unit, config and env file; running it again keeps the config", () => {
    const dir = mkdtempSync(join(tmpdir(), "grok2api-install-"));
    const root = join(dir, "root");
    const binary = join(dir, "grok2api");
    writeFileSync(binary, "#!/bin/sh\necho 'grok2api 9.9.9'\n");
    chmodSync(binary, 0o755);

    const first = run(["bash", INSTALL, binary], { DESTDIR: root });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("grok2api 9.9.9 installed.");
    const config = join(root, "etc/grok2api/config.toml");
    const env = join(root, "etc/grok2api/grok2api.env");
    expect(readFileSync(join(root, "usr/local/bin/grok2api"), "utf8")).toBe(readFileSync(binary, "utf8"));
    expect(statSync(join(root, "usr/local/bin/grok2api")).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(root, "etc/systemd/system/grok2api.service"), "utf8")).toBe(readFileSync(UNIT, "utf8"));
    expect(readFileSync(config, "utf8")).toBe(readFileSync(join(ROOT, "config.example.toml"), "utf8"));
    expect(statSync(config).mode & 0o777).toBe(0o640);
    expect(statSync(env).mode & 0o777).toBe(0o640);
    expect(readFileSync(env, "utf8")).toContain("#XAI_API_KEY=");

    writeFileSync(config, "port = 9999\n");
    writeFileSync(env, "XAI_API_KEY=xai-mine\n");
    const again = run(["bash", INSTALL, binary], { DESTDIR: root });
    expect(again.code).toBe(0);
    expect(readFileSync(config, "utf8")).toBe("port = 9999\n");
    expect(readFileSync(env, "utf8")).toBe("XAI_API_KEY=xai-mine\n");
    expect(again.stdout).not.toContain("installed " + config);
  });

  test("refuses a missing binary, naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "grok2api-install-"));
    const r = run(["bash", INSTALL, join(dir, "nope")], { DESTDIR: join(dir, "root") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`no executable at ${join(dir, "nope")}`);
  });
});
