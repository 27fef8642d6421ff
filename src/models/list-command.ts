/**
 * `grok2api models` / `--list-models`: reads the configured upstream's catalog with the configured key and
 * prints each model with its image input, context window, prices and the client names that route to it,
 * then a warning for each configured model (`[routing]`, `[model_map]` targets) it does not list.
 */
import type { Config } from "../config";
import { createDeps } from "../deps";
import { createLogger } from "../http/log";
import { fetchLineup } from "../upstream/models";
import { createCapabilityTable, type CapabilityTable } from "./capabilities";
import type { Lineup } from "./lineup";
import { SHOWCASE_NAMES } from "./effective";
import { createRouter } from "./routing";
import { configuredTargets, unservedTargets, unservedWarning, type ConfiguredTarget } from "./unserved";

/** Ticks per token → USD per million tokens. */
const perMillion = (ticks: number | undefined) => (ticks === undefined ? "-" : String(ticks / 10_000));

/** The table as text. Pure. */
export function renderModels(
  lineup: Lineup,
  caps: CapabilityTable,
  clientNames: readonly string[],
  resolve: (name: string) => string,
  baseUrl: string,
  configured: readonly ConfiguredTarget[] = [],
): string {
  const routedTo = new Map<string, string[]>();
  const unserved: string[] = [];
  for (const name of clientNames) {
    const target = resolve(name);
    const m = lineup.model(target);
    if (!m) unserved.push(`${name} → ${target}`);
    else routedTo.set(m.id, [...(routedTo.get(m.id) ?? []), name]);
  }
  const rows = [["MODEL", "ALIASES", "VISION", "CONTEXT", "INPUT $/1M", "CACHED $/1M", "OUTPUT $/1M", "CLIENT NAMES"]];
  for (const m of lineup.models) {
    const c = caps.get(m.id);
    rows.push([
      m.id,
      m.aliases.join(",") || "-",
      c.vision ? "yes" : "no",
      String(c.contextWindow),
      perMillion(m.prices?.promptText),
      perMillion(m.prices?.cachedPromptText),
      perMillion(m.prices?.completionText),
      (routedTo.get(m.id) ?? []).join(", ") || "-",
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = [`upstream ${baseUrl}: ${lineup.models.length} models (from /${lineup.source})`, ""];
  for (const r of rows) lines.push(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
  if (lineup.source === "models") lines.push("", "(this upstream has no /language-models: image input and context are grok2api's built-in guesses, prices unknown)");
  if (unserved.length) {
    lines.push("", `client names routed to a model this upstream does not list (sent upstream all the same; it may answer 404): ${unserved.join("; ")}`);
  }
  const warnings = unservedTargets(configured, lineup);
  if (warnings.length) lines.push("", ...warnings.map((t) => `warning: ${unservedWarning(t, lineup)}`));
  return lines.join("\n") + "\n";
}

export async function listModelsCommand(config: Config, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (config.upstream.keys.length === 0) {
    err("no upstream key configured: set XAI_API_KEY (or upstream.api_keys in the config file)\n");
    return 2;
  }
  const logger = createLogger({ file: null, stdout: false, level: "error" });
  const deps = createDeps({ ...config, catalog: { refreshMs: 0 } }, logger);
  let lineup: Lineup;
  try {
    lineup = await fetchLineup(deps.upstream, undefined, 15_000);
  } catch (e) {
    err(`cannot read the upstream's models from ${config.upstream.baseUrl}: ${(e as Error).message}\n`);
    return 1;
  }
  // Route with what was just read: capabilities and aliases from this catalog.
  const served = () => lineup;
  const caps = createCapabilityTable(config.capabilities, undefined, served);
  const route = createRouter(deps.modelMap, caps, config.routing);
  const names = [...new Set([...SHOWCASE_NAMES(config.routing), ...deps.modelMap.names()])];
  out(renderModels(lineup, caps, names, route.resolve, config.upstream.baseUrl, configuredTargets(config.routing, config.modelMap)));
  return 0;
}
