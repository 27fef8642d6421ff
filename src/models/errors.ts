/**
 * Errors about the model a request asked for, worded so the user knows what to change: the upstream's
 * 404 for a model it does not serve (404 `not_found_error`, naming the closest models its catalog lists)
 * and images for a model without image input (400 `invalid_request_error`, naming the setting).
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

export function noImageInputError(requested: string, model: string, rule: RouteRule, visionModel: string, what = "images"): ApiError {
  const fix = visionModel
    ? `[routing] vision is ${quote(visionModel)}, which does not accept images either: set it to a model that does`
    : "set [routing] vision in the grok2api config file to a model that accepts images";
  return invalidRequest(
    `model ${describe(requested, model)} does not accept images, and the request has ${what}: ${fix} (or change ${settingFor(rule)})`,
  );
}

/** Which model a request was routed to, and by what: what the upstream's 404 is explained with. */
export interface RoutedModel {
  /** The name the client asked for. */
  requested: string;
  /** The upstream model it was routed to. */
  model: string;
  /** The rule that chose it (where to change it); undefined: the model map or [routing]. */
  rule?: RouteRule;
}

/**
 * The upstream's own 404 for a model: say which name it was chosen for, the models the catalog lists
 * closest to it (the catalog of the request's deps, passed in: never a process-wide one), and the
 * setting to change.
 */
export function explainModelError(err: ApiError, routed: RoutedModel, lineup: Lineup | undefined): ApiError {
  if (err.status !== 404) return err;
  const { requested, model, rule } = routed;
  const via = requested === model ? quote(model) : `${quote(model)} (mapped from ${quote(requested)})`;
  const where = !rule
    ? "[model_map] or [routing] in the grok2api config file"
    : rule === "model_map" || rule === "passthrough"
      ? settingFor(rule)
      : `${settingFor(rule)} (or add a [model_map] entry for ${quote(requested)})`;
  return new ApiError(404, `${err.message} — the upstream does not serve model ${via}${suggestions(lineup, model)}; change ${where}`, {
    type: "not_found_error",
    retryable: false,
  });
}
