/** The machine a run was made on, for the report. */
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { O, ROOT } from "./options";
import { cmdOut } from "./proc";

export async function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const osRelease = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  const autocannonPkg = JSON.parse(readFileSync(join(ROOT, "node_modules/autocannon/package.json"), "utf8")) as { version: string };
  return {
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memGiB: os.totalmem() / 1024 ** 3,
    os: `${/PRETTY_NAME="([^"]+)"/.exec(osRelease)?.[1] ?? os.type()}, Linux ${os.release()}`,
    bun: Bun.version,
    node: O.loadgen === "node" ? await cmdOut(["node", "--version"]) : "(not used)",
    loadgen: `autocannon ${autocannonPkg.version} under ${O.loadgen === "node" ? "Node" : "Bun"}`,
    commit: await cmdOut(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]),
    dirty: (await cmdOut(["git", "-C", ROOT, "status", "--porcelain", "--", "src"])) !== "",
    load: os.loadavg(),
  };
}

export type Machine = Awaited<ReturnType<typeof machine>>;
