/**
 * Configured models the upstream's catalog does not list: `[routing]` default/fast/reasoning/vision/
 * long_context and the `[model_map]` targets. They still go upstream (the catalog advises, the upstream
 * decides: xAI answers names it does not list), but a typo or a retired model is worth a warning — once
 * per target per catalog state, never per request. Pure, but for the warner's memory of what it said.
 */
import type { Lineup } from "./lineup";
import type { RoutingConfig } from "./routing";

/** One configured model and every setting that names it. */
export interface ConfiguredTarget {
  model: string;
  /** In the config file's words: `[routing] fast`, `[model_map] "claude-old"`. */
  settings: string[];
}

const ROLES = ["default", "fast", "reasoning", "vision", "long_context"] as const;

/** Every model the settings name, once each (a `*` in a target is no model name: left out). */
export function configuredTargets(routing: RoutingConfig, modelMap: Readonly<Record<string, string>>): ConfiguredTarget[] {
  const byModel = new Map<string, ConfiguredTarget>();
  const add = (model: string, setting: string) => {
    if (!model || model.includes("*")) return;
    const key = model.toLowerCase();
    const t = byModel.get(key) ?? { model, settings: [] };
    t.settings.push(setting);
    byModel.set(key, t);
  };
  for (const role of ROLES) add(routing[role], `[routing] ${role}`);
  for (const [name, target] of Object.entries(modelMap)) add(target, `[model_map] ${JSON.stringify(name)}`);
  return [...byModel.values()];
}

/** The configured models a known catalog does not list (none while it is unknown or empty). */
export function unservedTargets(targets: readonly ConfiguredTarget[], lineup: Lineup | undefined): ConfiguredTarget[] {
  if (!lineup || lineup.models.length === 0) return [];
  return targets.filter((t) => !lineup.serves(t.model));
}

/** The warning, in one sentence, for the log and for `grok2api models`. */
export function unservedWarning(t: ConfiguredTarget, lineup: Lineup): string {
  return (
    `${t.settings.join(", ")} = ${JSON.stringify(t.model)}: the upstream's catalog does not list this model ` +
    `(closest it lists: ${lineup.closest(t.model).join(", ")}); requests for it still go upstream, which may answer 404`
  );
}

/** What the catalog lists, as one string: two reads that list the same names are one state. */
function stateOf(lineup: Lineup): string {
  return lineup.models
    .flatMap((m) => [m.id, ...m.aliases])
    .map((n) => n.toLowerCase())
    .sort()
    .join("\n");
}

/**
 * Tells `warn` about each configured model a newly learned catalog does not list: once per catalog
 * state (a re-read that lists the same names says nothing again), so at most once per target per state.
 */
export function createUnservedWarner(targets: readonly ConfiguredTarget[], warn: (message: string, t: ConfiguredTarget) => void) {
  let last: string | undefined;
  return (lineup: Lineup | undefined): void => {
    if (!lineup || lineup.models.length === 0 || targets.length === 0) return;
    const state = stateOf(lineup);
    if (state === last) return;
    last = state;
    for (const t of unservedTargets(targets, lineup)) warn(unservedWarning(t, lineup), t);
  };
}
