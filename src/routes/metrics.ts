/**
 * GET /metrics: Prometheus text format. Needs a credential when one is
 * configured: the metrics token, or (require_client_key) one of the client keys.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { createKeyChecker, presentedKey } from "../http/auth";
import { logged } from "../http/context";
import { ApiError } from "../http/errors";
import { metricsText } from "../metrics";

export const metricsRoutes = (deps: AppDeps) => {
  const { enabled, token, requireClientKey } = deps.config.metrics;
  const accepted = [...(token ? [token] : []), ...(requireClientKey ? deps.config.clientKeys : [])];
  const isAccepted = createKeyChecker(accepted);
  // Logged and counted like every request (a refused scrape by the error hook).
  return new Elysia({ name: "routes/metrics" }).get("/metrics", logged(async ({ request }) => {
    if (!enabled) throw new ApiError(404, "no route for GET /metrics (metrics.enabled = false)", { retryable: false });
    if (accepted.length > 0) {
      const presented = presentedKey(request.headers);
      if (!presented) throw new ApiError(401, "missing credential: send the metrics token or a client key as Authorization: Bearer", { retryable: false });
      if (!isAccepted(presented)) throw new ApiError(401, "invalid metrics credential", { retryable: false });
    }
    const { body, contentType } = await metricsText();
    return new Response(body, { headers: { "content-type": contentType } });
  }));
};
