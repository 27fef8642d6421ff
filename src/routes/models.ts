/**
 * GET /v1/models and GET /v1/models/{id} (also under /v1/v1): the catalog in
 * Anthropic's shape for Anthropic clients (`anthropic-version` or `x-api-key`),
 * in OpenAI's otherwise.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { logged } from "../http/context";
import { ApiError } from "../http/errors";
import { isAnthropicClient } from "../http/face";
import { buildCatalog, findModel, type CatalogEntry, type Naming } from "../models/catalog";
import { anthropicModel, openaiModel, pageOf, parsePageQuery } from "../models/listing";

/** The advertised Claude-style names (served by routing), then the model map's own names. */
const naming = (deps: AppDeps): Naming => ({
  names: () => [...new Set([...deps.config.routing.advertise, ...deps.modelMap.names()])],
  resolve: deps.resolveModel,
});

async function catalogFor(deps: AppDeps, request: Request): Promise<CatalogEntry[]> {
  const key = deps.authenticate(request.headers);
  return buildCatalog(naming(deps), await deps.upstreamModels.list(key));
}

async function listModels(deps: AppDeps, request: Request): Promise<Response> {
  const anthropic = isAnthropicClient(request.headers);
  // Check the query before asking the upstream anything.
  const query = anthropic ? parsePageQuery(new URL(request.url).searchParams) : undefined;
  const catalog = await catalogFor(deps, request);
  if (!query) return Response.json({ object: "list", data: catalog.map(openaiModel) });
  const page = pageOf(catalog, query);
  return Response.json({ ...page, data: page.data.map((e) => anthropicModel(e, deps.caps.get(e.target))) });
}

async function retrieveModel(deps: AppDeps, request: Request, rawId: string): Promise<Response> {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    id = rawId;
  }
  const catalog = await catalogFor(deps, request);
  const entry = findModel(catalog, naming(deps), id);
  if (!entry) {
    throw new ApiError(404, `model ${JSON.stringify(id.slice(0, 200))} not found: it is neither in the grok2api model map nor served by the upstream`, {
      retryable: false,
    });
  }
  return Response.json(isAnthropicClient(request.headers) ? anthropicModel(entry, deps.caps.get(entry.target)) : openaiModel(entry));
}

export const modelsRoutes = (deps: AppDeps) => {
  const list = logged(({ request }: { request: Request }) => listModels(deps, request));
  const retrieve = logged(({ request, params }: { request: Request; params: Record<string, string> }) =>
    retrieveModel(deps, request, params["*"] ?? ""),
  );
  return new Elysia({ name: "routes/models" })
    .get("/v1/models", list)
    .get("/v1/models/*", retrieve);
};
