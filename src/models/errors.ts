/**
 * Errors about the model a request asked for, worded so the user knows what to change: a model the
 * upstream does not serve (404 `not_found_error`, naming the closest models it does serve) and images
 * for a model without image input (400 `invalid_request_error`, naming the setting).
 */
import { ApiError, invalidRequest } from "../http/errors";
import type { Lineup } from "./lineup";
import type { RouteRule } from "./routing";

/** Where each routing rule's model is set, in the config file's own words. */
export function settingFor(rule: RouteRule): string {
  if (rule === "model_map") return "[model_map] in the grok2api config file";
  if (rule === "passthrough") return "the model name in the request (or a [model_map] entry for it)";
  return `[routing] ${rule} in the grok2api config file`;
}

const quote = (s: string) => JSON.stringify(s.slice(0, 200));

function describe(requested: string, model: string): string {
  return requested === model ? quote(model) : `${quote(model)} (chosen for ${quote(requested)})`;
}

/** The catalog's answer to "what else is there", for an error message. */
function suggestions(lineup: Lineup | undefined, model: string): string {
  if (!lineup || lineup.models.length === 0) return "";
  return `; closest models it serves: ${lineup.closest(model).join(", ")}`;
}

export function notServedError(requested: string, model: string, rule: RouteRule, lineup: Lineup | undefined): ApiError {
  return new ApiError(
    404,
    `the upstream does not serve model ${describe(requested, model)}${suggestions(lineup, model)} — change ${settingFor(rule)}`,
    { type: "not_found_error", retryable: false },
  );
}

export function noImageInputError(requested: string, model: string, rule: RouteRule, visionModel: string, what = "images"): ApiError {
  const fix = visionModel
    ? `[routing] vision is ${quote(visionModel)}, which does not accept images either: set it to a model that does`
    : "set [routing] vision in the grok2api config file to a model that accepts images";
  return invalidRequest(
    `model ${describe(requested, model)} does not accept images, and the request has ${what}: ${fix} (or change ${settingFor(rule)})`,
  );
}

/** The catalog the routes' error messages consult (set by the gateway's dependencies, which own it). */
let servedNow: () => Lineup | undefined = () => undefined;
export function setServedLineup(get: () => Lineup | undefined): void {
  servedNow = get;
}

/** The upstream's own 404 for a model: say which name it was mapped from, what it does serve, and where to change it. */
export function explainModelError(err: ApiError, requested: string, upstreamModel: string): ApiError {
  if (err.status !== 404) return err;
  const via = requested === upstreamModel ? `"${upstreamModel}"` : `"${upstreamModel}" (mapped from "${requested}")`;
  return new ApiError(
    404,
    `${err.message} — the upstream does not serve model ${via}${suggestions(servedNow(), upstreamModel)}; change model_map or [routing] in the grok2api config file`,
    { type: "not_found_error", retryable: false },
  );
}
