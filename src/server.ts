/** The Elysia app: request context and errors first, then the routes. */
import { Elysia } from "elysia";
import type { Config } from "./config";
import { createDeps, type AppDeps } from "./deps";
import { RequestContext, contextOf, setContext } from "./http/context";
import { ApiError, anthropicErrorBody, errorHeaders, openaiErrorBody, toApiError } from "./http/errors";
import { speaksOpenAI } from "./http/face";
import type { Logger } from "./http/log";
import { newRequestId } from "./translate/ids";
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

export function createApp(deps: AppDeps) {
  const { logger } = deps;
  return new Elysia({ name: "grok2api" })
    .onRequest(({ request, set }) => {
      const id = newRequestId();
      set.headers["request-id"] = id;
      const url = new URL(request.url);
      setContext(request, new RequestContext(id, request.method, url.pathname, logger));
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
    .use(healthRoutes(deps))
    .use(messagesRoutes(deps))
    .use(countTokensRoutes(deps))
    .use(chatCompletionsRoutes(deps))
    .use(modelsRoutes(deps));
}

export interface RunningServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function startServer(config: Config, logger: Logger): RunningServer {
  const deps = createDeps(config, logger);
  const app = createApp(deps).listen({
    hostname: config.host,
    port: config.port,
    // Our own limit answers first, with a proper 413 envelope.
    maxRequestBodySize: config.maxBodyBytes + 1024 * 1024,
    idleTimeout: 0,
  });
  const server = app.server!;
  const host = server.hostname ?? config.host;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`,
    port: server.port!,
    async stop() {
      await app.stop(true);
      await logger.close();
    },
  };
}
