/**
 * POST /v1/messages/count_tokens (also /v1/v1/…, `?beta=true`): `{"input_tokens": N}`
 * for a Messages request — the upstream's own count when it gives one, else a
 * local estimate corrected by what the upstream reported on real requests.
 * Header `grok2api-token-count` says which (`upstream` or `estimate`).
 */
import { Elysia } from "elysia";
import type { CountTokensRequest } from "../anthropic/schema";
import { validateCountTokensRequest, validateCountTokensRequestSliced } from "../anthropic/validate";
import type { AppDeps } from "../deps";
import { readJsonBodySized } from "../http/body";
import { LARGE_BODY_BYTES, Slicer } from "../http/slicer";
import { logged, type RequestContext } from "../http/context";
import { invalidRequest } from "../http/errors";
import { checkModelName } from "../models/name";

async function countTokens(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const key = await deps.authenticate(request.headers, rc);
  const { value, bytes } = await readJsonBodySized(request, deps.config.maxBodyBytes);
  const slicer = bytes >= LARGE_BODY_BYTES ? new Slicer() : undefined;
  const v = slicer
    ? await validateCountTokensRequestSliced<CountTokensRequest>(value, slicer)
    : validateCountTokensRequest<CountTokensRequest>(value);
  if (!v.ok) throw invalidRequest(v.message);
  checkModelName(v.value.model);
  // PDFs are counted as the text the model will read.
  const req = await deps.documents.resolve(v.value, request.signal);
  const upstreamModel = deps.resolveModel(req.model);
  const { tokens, source } = await deps.tokens.count(req, upstreamModel, { upstream: deps.upstream, key, signal: request.signal }, slicer);
  Object.assign(rc.entry, { model: req.model, upstream_model: upstreamModel, input_tokens: tokens });
  return Response.json({ input_tokens: tokens }, { headers: { "grok2api-token-count": source } });
}

export const countTokensRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => countTokens(deps, request, rc));
  return new Elysia({ name: "routes/count-tokens" })
    .post("/v1/messages/count_tokens", handler, { parse: "none" });
};
