/**
 * The deploy files: the systemd unit passes `systemd-analyze verify` (where
 * that tool exists), and install.sh installs into a scratch root, twice,
 * without touching a config that is already there.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/temp";

const ROOT = join(import.meta.dir, "..", "..");
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
    const dir = tempDir("grok2api-deploy-");
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
    const dir = tempDir("grok2api-deploy-");
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

  test("refuses a binary that does not run on this machine, and keeps the installed one", () => {
    const dir = tempDir("grok2api-deploy-");
    const root = join(dir, "root");
    const good = join(dir, "grok2api");
    writeFileSync(good, "#!/bin/sh\necho 'grok2api 1.0.0'\n");
    chmodSync(good, 0o755);
    expect(run(["bash", INSTALL, good], { DESTDIR: root }).code).toBe(0);

    // Another machine's binary: executable, but the kernel cannot run it.
    const foreign = join(dir, "grok2api-arm");
    writeFileSync(foreign, Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(120, 0xee)]));
    chmodSync(foreign, 0o755);
    const r = run(["bash", INSTALL, foreign], { DESTDIR: root });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${foreign} does not run on this machine`);
    expect(readFileSync(join(root, "usr/local/bin/grok2api"), "utf8")).toBe(readFileSync(good, "utf8"));
    expect(existsSync(join(root, "usr/local/bin/grok2api.new"))).toBe(false);
  });

  test("refuses a missing binary, naming it", () => {
    const dir = tempDir("grok2api-deploy-");
    const r = run(["bash", INSTALL, join(dir, "nope")], { DESTDIR: join(dir, "root") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`no executable at ${join(dir, "nope")}`);
  });
});

describe("Dockerfile", () => {
  /** The build stage's COPY sources, before `RUN bun run build`. */
  function copiedBeforeBuild(): string[] {
    const lines = readFileSync(join(ROOT, "Dockerfile"), "utf8").replace(/\\\n/g, " ").split("\n");
    const copied: string[] = [];
    for (const line of lines) {
      if (/^\s*RUN\s+bun run build\b/.test(line)) return copied;
      const m = /^\s*COPY\s+(.*)$/.exec(line);
      if (!m || m[1]!.includes("--from")) continue;
      const words = m[1]!.trim().split(/\s+/).filter((w) => !w.startsWith("--"));
      copied.push(...words.slice(0, -1).map((w) => w.replace(/^\.\//, "").replace(/\/$/, "")));
    }
    throw new Error("the Dockerfile has no RUN bun run build");
  }

  /** Every repository file the build reads: the build script and the app, with what they import, transitively. */
  function readByBuild(): Set<string> {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const start = [
      "package.json",
      "tsconfig.json",
      ...String(pkg.scripts.build).split(/\s+/).filter((w) => w.includes("/") && existsSync(join(ROOT, w))),
      "src/main.ts",
    ];
    const seen = new Set<string>();
    const queue = [...start];
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      if (!/\.(ts|js|mjs)$/.test(file)) continue;
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const m of text.matchAll(/(?:from|import\(|bundledWorker\()\s*"(\.{1,2}\/[^"]+|[a-z][\w/-]*\.ts)"/g)) {
        const spec = m[1]!;
        const base = spec.startsWith(".") ? join(file, "..", spec) : join("src", spec);
        const found = [base, `${base}.ts`, join(base, "index.ts")].find((p) => existsSync(join(ROOT, p)) && statSync(join(ROOT, p)).isFile());
        if (found) queue.push(found);
      }
    }
    return seen;
  }

  test("copies everything `bun run build` reads into the build stage", () => {
    const copied = copiedBeforeBuild();
    const needed = readByBuild();
    expect(needed.has("scripts/build.ts")).toBe(true);
    expect(needed.has("src/tokens/worker.ts")).toBe(true);
    const missing = [...needed].filter((file) => !copied.some((c) => c === "." || file === c || file.startsWith(`${c}/`)));
    expect(missing).toEqual([]);
  });
});
