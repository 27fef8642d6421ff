/**
 * The Elysia app: request context and errors first, then the routes; and the
 * HTTP server that serves it. An app is built from one set of deps and never
 * changes: a config reload builds a new app for the requests that follow, while
 * requests in flight (open streams) finish with the app they started on.
 */
import { Elysia } from "elysia";
import type { Config } from "./config";
import { createDeps, type AppDeps } from "./deps";
import { RequestContext, contextOf, setContext } from "./http/context";
import { OpenStreams } from "./http/open-streams";
import { ApiError, anthropicErrorBody, errorHeaders, openaiErrorBody, toApiError } from "./http/errors";
import { speaksOpenAI } from "./http/face";
import type { Logger } from "./http/log";
import { newRequestId } from "./translate/ids";
import { registerUpstreamKeys } from "./metrics";
import { metricsRoutes } from "./routes/metrics";
import { healthRoutes } from "./routes/health";
import { messagesRoutes } from "./routes/messages";
import { chatCompletionsRoutes } from "./routes/chat-completions";
import { countTokensRoutes } from "./routes/count-tokens";
import { modelsRoutes } from "./routes/models";

function errorResponse(err: ApiError, path: string, headers: Headers, requestId: string): Response {
  const body = speaksOpenAI(path, headers)
    ? openaiErrorBody(err.status, err.message, err.type)
    : anthropicErrorBody(err.type, err.message, requestId);
  return new Response(JSON.stringify(body), { status: err.status, headers: errorHeaders(err) });
}

/** Elysia's own errors (no route, unparsable body, …) → ApiError. */
function fromFrameworkError(code: unknown, error: unknown, method: string, path: string): ApiError {
  switch (code) {
    case "NOT_FOUND":
      return new ApiError(404, `no route for ${method} ${path}`, { retryable: false });
    case "PARSE":
    case "VALIDATION":
    case "INVALID_COOKIE_SIGNATURE":
      return new ApiError(400, "the request could not be read", { retryable: false });
    default:
      return toApiError(error);
  }
}

/** How long streams cut at shutdown get to send their error event before the sockets close. */
const CUT_WAIT_MS = 1000;

export function createApp(deps: AppDeps, streams?: OpenStreams) {
  const { logger } = deps;
  return new Elysia({ name: "grok2api" })
    .onRequest(({ request, set }) => {
      const id = newRequestId();
      set.headers["request-id"] = id;
      const url = new URL(request.url);
      setContext(request, new RequestContext(id, request.method, url.pathname, logger, streams));
    })
    // The matched route pattern labels the request's metrics (bounded, unlike the path).
    .onTransform({ as: "global" }, ({ request, route }) => {
      const rc = contextOf(request);
      if (rc) rc.route = route;
    })
    .onError(({ code, error, request, path }) => {
      const rc = contextOf(request);
      const err = error instanceof ApiError ? error : fromFrameworkError(code, error, request.method, path);
      if (err.status >= 500 && !(error instanceof ApiError)) {
        logger.warn("internal error", { request_id: rc?.id, error: error instanceof Error ? error.stack : String(error) });
      }
      rc?.finish(err.status, err.type);
      return errorResponse(err, path, request.headers, rc?.id ?? "");
    })
    .use(metricsRoutes(deps))
    .use(healthRoutes(deps))
    .use(apiRoutes(deps))
    // A base_url that already ends in /v1 makes clients call /v1/v1/…: the same routes, once more under /v1.
    .group("/v1", (app) => app.use(apiRoutes(deps)));
}

/** The API proper, each route registered once at /v1/…. */
const apiRoutes = (deps: AppDeps) =>
  new Elysia({ name: "routes/api" })
    .use(messagesRoutes(deps))
    .use(countTokensRoutes(deps))
    .use(chatCompletionsRoutes(deps))
    .use(modelsRoutes(deps));

export interface RunningServer {
  url: string;
  port: number;
  /** Requests being served right now, open streams included. */
  readonly inFlight: number;
  /** Serve the requests that arrive from now on with `config`; requests in flight keep the old one. */
  reload(config: Config): void;
  /**
   * Stop accepting connections, give requests in flight up to `graceMs` to
   * finish, close whatever is still open, then close the log. Called again
   * with no grace while waiting, it stops waiting.
   */
  stop(graceMs?: number): Promise<void>;
}

export function startServer(config: Config, logger: Logger): RunningServer {
  const startedAt = Date.now();
  let deps: AppDeps | undefined;
  // Across reloads: a stream started before one is still this server's to end.
  const streams = new OpenStreams();
  const build = (c: Config) => {
    registerUpstreamKeys(c.upstream.keys);
    deps = { ...createDeps(c, logger, deps), startedAt };
    // Compiled now, so the first request after a reload does not pay for it.
    return createApp(deps, streams).compile();
  };
  let app = build(config);
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // Our own limit answers first, with a proper 413 envelope.
    maxRequestBodySize: config.maxBodyBytes + 1024 * 1024,
    idleTimeout: 0,
    development: false,
    // Off, or a second instance would share the port and split the traffic (Bun's default here).
    reusePort: false,
    // Read on every request: each request is served by the app current when it arrived.
    fetch: (request) => app.fetch(request),
  });
  const host = server.hostname ?? config.host;
  let stopping: Promise<void> | undefined;
  let endGrace = () => {};
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`,
    port: server.port!,
    get inFlight() {
      return server.pendingRequests;
    },
    reload(next) {
      app = build(next);
    },
    stop(graceMs = 0) {
      if (stopping) {
        if (graceMs <= 0) endGrace();
        return stopping;
      }
      stopping = (async () => {
        if (graceMs > 0) {
          const graceOver = new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, graceMs);
            endGrace = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          // server.stop(false) resolves once every request in flight has finished.
          await Promise.race([server.stop(false), graceOver]);
          endGrace();
        }
        if (server.pendingRequests > 0) logger.warn("closing requests still open", { open: server.pendingRequests });
        // Streams end with an error event rather than silently.
        const cut = await streams.cutAll(CUT_WAIT_MS);
        if (cut > 0) logger.info("open streams ended with an error event", { streams: cut });
        await server.stop(true);
        deps?.tokens.stop();
        logger.info("stopped");
        await logger.close();
      })();
      return stopping;
    },
  };
}
