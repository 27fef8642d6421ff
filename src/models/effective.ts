/**
 * `--print-config`'s view of models: the effective `[model_map]`, `[routing]` and `[catalog]`, in the config
 * file's own key names and units, each entry with where it came from (built-in or the config file), and what
 * the well-known Claude names reach with them. Pure.
 */
import { GUIDE_MODEL_MAP } from "./map";
import { createModelMap } from "./map";
import { createCapabilityTable } from "./capabilities";
import { createRouter, DEFAULT_ROUTING, type RoutingConfig } from "./routing";
import { DEFAULT_CATALOG_OPTIONS } from "../upstream/models";

export interface ModelSettings {
  modelMap: Record<string, string>;
  routing: RoutingConfig;
  /** `[routing]` keys the config file set. */
  routingFromFile?: readonly string[];
  /** `fromFile`: `[catalog] refresh` came from the config file. */
  catalog?: { refreshMs: number; fromFile?: boolean };
  configFile: string | undefined;
}

interface Shown<T> {
  value: T;
  source: string;
  unit?: string;
}

const UNITS: Partial<Record<keyof RoutingConfig, string>> = { long_context_threshold: "estimated input tokens" };

/** Claude names worth showing: the original guide's eight, then the advertised current ones. */
export const SHOWCASE_NAMES = (routing: RoutingConfig) => [...Object.keys(GUIDE_MODEL_MAP), ...routing.advertise];

export function effectiveModels(s: ModelSettings) {
  const fromFile = s.configFile ? `config file ${s.configFile}` : "config file";
  const map = createModelMap(s.modelMap);
  const route = createRouter(map, createCapabilityTable(), s.routing);
  const routing: Record<string, Shown<unknown>> = {};
  for (const key of Object.keys(DEFAULT_ROUTING) as Array<keyof RoutingConfig>) {
    routing[key] = {
      value: s.routing[key],
      source: s.routingFromFile?.includes(key) ? fromFile : "built-in",
      ...(UNITS[key] ? { unit: UNITS[key] } : {}),
    };
  }
  const reaches: Record<string, string> = {};
  for (const name of [...new Set([...Object.keys(s.modelMap).filter((k) => !k.includes("*")), ...SHOWCASE_NAMES(s.routing)])]) {
    const r = route({ model: name, inputTokens: 0, thinking: false, images: false });
    reaches[name] = `${r.model} (${r.rule === "model_map" ? "model_map" : r.rule === "passthrough" ? "unchanged" : `routing.${r.rule}`})`;
  }
  const refreshMs = s.catalog?.refreshMs ?? DEFAULT_CATALOG_OPTIONS.refreshMs;
  return {
    // Exact names first, then globs in file order: every entry beats the built-in routing by role.
    model_map: Object.entries(s.modelMap).map(([name, target]) => ({ name, target, source: fromFile })),
    routing,
    catalog: { refresh: { value: refreshMs / 1000, unit: "seconds", source: s.catalog?.fromFile ? fromFile : "built-in" } },
    /** Without a prompt to judge by: long context, thinking and images can send a request elsewhere. */
    names_reach: reaches,
  };
}
