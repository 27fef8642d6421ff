/**
 * POST /v1/messages/count_tokens (also /v1/v1/…, `?beta=true`): `{"input_tokens": N}`
 * for a Messages request — the upstream's own count when it gives one, else a
 * local estimate corrected by what the upstream reported on real requests.
 * Header `grok2api-token-count` says which (`upstream` or `estimate`).
 */
import { Elysia } from "elysia";
import { validateCountTokensRequest, validateCountTokensRequestSliced } from "../../anthropic/validate";
import type { AppDeps } from "../../deps";
import { LARGE_BODY_BYTES, Slicer } from "../../http/slicer";
import { logged, type RequestContext } from "../../http/context";
import { invalidRequest } from "../../http/errors";
import { fileAccess } from "../../files/access";
import { hasComputerTool } from "../../anthropic/client-tools";
import { routeAndAdmit } from "../../route/route-and-admit";
import { inspectPrompt, inspectPromptSliced } from "../../dialects/usage";

async function countTokens(deps: AppDeps, request: Request, rc: RequestContext): Promise<Response> {
  const key = await deps.authenticate(request.headers, rc);
  const { value, bytes } = await deps.readBodySized(request);
  // A large request is checked and counted in slices: it never holds the event loop long.
  const slicer = bytes >= LARGE_BODY_BYTES ? new Slicer() : undefined;
  const v = slicer
    ? await validateCountTokensRequestSliced(value, slicer)
    : validateCountTokensRequest(value);
  if (!v.ok) throw invalidRequest(v.message);
  // Routed and admitted as a message would be (a key limited to other models is refused), before anything is fetched.
  const facts = slicer ? await inspectPromptSliced(v.value, slicer) : inspectPrompt(v.value);
  const routed = await routeAndAdmit(deps, rc, {
    model: v.value.model,
    inputTokens: facts.tokens,
    thinking: v.value.thinking?.type === "enabled" || v.value.thinking?.type === "adaptive",
    images: facts.images > 0,
    computerUse: hasComputerTool(v.value.tools),
    stream: false,
    need: "count",
  });
  // PDFs (and uploaded files: the caller's own) are counted as the text the model will read.
  const req = await deps.documents.resolve(v.value, request.signal, fileAccess(deps, request.headers, rc, key));
  const { tokens, source } = await deps.tokens.count(req, routed.model, { upstream: deps.upstream, key, signal: request.signal }, slicer);
  rc.entry.input_tokens = tokens;
  return Response.json({ input_tokens: tokens }, { headers: { "grok2api-token-count": source } });
}

export const countTokensRoutes = (deps: AppDeps) => {
  const handler = logged(({ request }, rc) => countTokens(deps, request, rc));
  return new Elysia({ name: "routes/count-tokens" })
    .post("/v1/messages/count_tokens", handler, { parse: "none" });
};
