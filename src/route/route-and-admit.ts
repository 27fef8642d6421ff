/**
 * The one place a request is resolved and admitted, for every face (/v1/messages, count_tokens,
 * /v1/chat/completions, /v1/responses): which upstream model serves it (the model map, Claude
 * names by role, images to a model that sees: src/models/routing.ts), what that model accepts
 * (its capabilities), and whether the caller's key may have it (model allow-list, budget, rate
 * limits: the teams admission, which reserves what the request may cost). The access log learns
 * the model, the route and whether it streams here, once.
 *
 * Nothing upstream has been asked yet when this returns; nothing is fetched for the request
 * before it (documents come after admission).
 */
import type { AppDeps } from "../deps";
import type { RequestContext } from "../http/context";
import { checkModelName } from "../models/name";
import type { ModelCaps } from "../models/capabilities";
import type { RouteFacts, RouteRule } from "../models/routing";

export interface RouteRequest extends Omit<RouteFacts, "model"> {
  /** The model name as the client wrote it. */
  model: string;
  /** The client asked for a stream (for the log). */
  stream: boolean;
  /**
   * What the request may cost, for the admission's reservation: its input estimate and the
   * output it allows (undefined: the model's output cap). `count`: a token count, which costs
   * nothing upstream and reserves nothing.
   */
  need: { inputTokens: number; maxOutputTokens: number | undefined } | "count";
}

export interface Routed {
  /** The upstream model, and the rule that chose it. */
  model: string;
  rule: RouteRule;
  caps: ModelCaps;
}

/** Routes a request without admitting it (message batches route each request at create time, and admit the batch once). */
export function routeRequest(deps: AppDeps, r: Omit<RouteRequest, "stream" | "need">): Routed {
  checkModelName(r.model); // longer names are refused before any matching
  const { model, rule } = deps.route(r);
  return { model, rule, caps: deps.caps.get(model) };
}

/** Routes and admits a request; throws the ApiError the client gets (400, 402, 403, 404, 429). */
export async function routeAndAdmit(deps: AppDeps, rc: RequestContext, r: RouteRequest): Promise<Routed> {
  const { model, rule, caps } = routeRequest(deps, r);
  Object.assign(rc.entry, { model: r.model, upstream_model: model, route: rule, stream: r.stream });
  const need =
    r.need === "count" ? ("count" as const) : { inputTokens: r.need.inputTokens, maxOutputTokens: r.need.maxOutputTokens ?? caps.maxOutput };
  await deps.admit(rc, model, need);
  return { model, rule, caps };
}
