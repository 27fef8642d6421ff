/**
 * GET /v1/models and GET /v1/models/{id} (also under /v1/v1): the catalog in
 * Anthropic's shape for Anthropic clients (`anthropic-version` or `x-api-key`),
 * in OpenAI's otherwise.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { logged, type RequestContext } from "../http/context";
import { ApiError } from "../http/errors";
import { isAnthropicClient } from "../http/face";
import { buildCatalog, findModel, type CatalogEntry, type Naming } from "../models/catalog";
import type { Lineup } from "../models/lineup";
import { anthropicModel, openaiModel, pageOf, parsePageQuery } from "../models/listing";
import { checkModelName } from "../models/name";

/** The advertised Claude-style names (served by routing), then the model map's own names. */
const naming = (deps: AppDeps): Naming => ({
  names: () => [...new Set([...deps.config.routing.advertise, ...deps.modelMap.names()])],
  resolve: deps.resolveModel,
});

/** The catalog as the caller may use it: authenticated first; a virtual key with a model list sees only those models. */
async function catalogFor(deps: AppDeps, request: Request, rc: RequestContext): Promise<{ entries: CatalogEntry[]; lineup: Lineup | undefined }> {
  const key = await deps.authenticate(request.headers, rc);
  const allowed = await deps.allowedModels(rc);
  const lineup = await deps.catalog.list(key);
  const entries = buildCatalog(naming(deps), lineup);
  return { entries: allowed ? entries.filter((e) => allowed(e.target)) : entries, lineup };
}

async function listModels(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const anthropic = isAnthropicClient(request.headers);
  // Check the query before asking the upstream anything.
  const query = anthropic ? parsePageQuery(new URL(request.url).searchParams) : undefined;
  const { entries: catalog } = await catalogFor(deps, request, rc);
  if (!query) return Response.json({ object: "list", data: catalog.map(openaiModel) });
  const page = pageOf(catalog, query);
  return Response.json({ ...page, data: page.data.map((e) => anthropicModel(e, deps.caps.get(e.target))) });
}

async function retrieveModel(deps: AppDeps, request: Request, rc: RequestContext, rawId: string): Promise<Response> {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    id = rawId;
  }
  const { entries: catalog, lineup } = await catalogFor(deps, request, rc);
  checkModelName(id, "model id");
  const entry = findModel(catalog, naming(deps), id, lineup);
  if (!entry) {
    const target = naming(deps).resolve(id);
    const closest = lineup && lineup.models.length > 0 ? `; closest models it serves: ${lineup.closest(target).join(", ")}` : "";
    const via = target === id ? "" : ` (routed to ${JSON.stringify(target.slice(0, 200))})`;
    throw new ApiError(
      404,
      `model ${JSON.stringify(id.slice(0, 200))}${via} not found: the upstream does not serve it and the grok2api model map does not name it${closest}`,
      { type: "not_found_error", retryable: false },
    );
  }
  return Response.json(isAnthropicClient(request.headers) ? anthropicModel(entry, deps.caps.get(entry.target)) : openaiModel(entry));
}

export const modelsRoutes = (deps: AppDeps) => {
  const list = logged(({ request }: { request: Request }, rc) => listModels(deps, request, rc));
  const retrieve = logged(({ request, params }: { request: Request; params: Record<string, string> }, rc) =>
    retrieveModel(deps, request, rc, params["*"] ?? ""),
  );
  return new Elysia({ name: "routes/models" })
    .get("/v1/models", list)
    .get("/v1/models/*", retrieve);
};
