/**
 * The Elysia app: request context and errors first, then the routes; and the
 * HTTP server that serves it. An app is built from one set of deps and never
 * changes: a config reload builds a new app for the requests that follow, while
 * requests in flight (open streams) finish with the app they started on.
 */
import { Elysia } from "elysia";
import { ConfigError, DEFAULTS, exposedKeys, type Config } from "./config";
import { idleCollector } from "./http/idle-gc";
import { createDeps, type AppDeps, type TeamsHandle } from "./deps";
import { adminRoutes } from "./teams/admin/routes";
import { Teams } from "./teams/teams";
import { createReasoningStore, REASONING_STORE_DEFAULTS } from "./reasoning/store";
import { RequestContext, contextOf, setContext } from "./http/context";
import { OpenStreams } from "./http/open-streams";
import { ApiError, anthropicErrorBody, errorHeaders, openaiErrorBody, publicMessage, toApiError } from "./http/errors";
import { speaksOpenAI } from "./http/face";
import { localOnlyGuard } from "./http/local-only";
import type { Logger } from "./http/log";
import { newRequestId } from "./dialects/ids";
import { createTracing, TRACING_OFF, type Tracing } from "./telemetry/tracing";
import { VERSION } from "./version";
import { registerUpstreamKeys } from "./metrics";
import type { Secrets } from "./redact";
import { metricsRoutes } from "./routes/metrics";
import { healthRoutes } from "./routes/health";
import { messagesRoutes } from "./faces/anthropic/messages";
import { chatCompletionsRoutes } from "./faces/openai-chat/chat-completions";
import { responsesRoutes } from "./faces/openai-responses/responses";
import { countTokensRoutes } from "./faces/anthropic/count-tokens";
import { modelsRoutes } from "./routes/models";
import { dashboardRoutes } from "./routes/dashboard";
import { recordsDb } from "./records/db";
import { FileService } from "./files/service";
import { filesRoutes } from "./files/routes";
import { BatchService } from "./batches/service";
import { batchesRoutes } from "./batches/routes";

/** The error envelope of the face the client speaks; no configured key or token ever leaves in it. */
function errorResponse(err: ApiError, path: string, headers: Headers, requestId: string, secrets: Secrets): Response {
  const message = secrets.text(publicMessage(err.message));
  const body = speaksOpenAI(path, headers)
    ? openaiErrorBody(err.status, message, err.type)
    : anthropicErrorBody(err.type, message, requestId, err.details);
  return new Response(JSON.stringify(body), { status: err.status, headers: secrets.headers(errorHeaders(err)) });
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

/**
 * The request as the router must see it. The router takes the path to start at the
 * first "/" after the 11th character of the URL, so a very short Host (`Host: ab`)
 * would shift it (`http://ab/v1/metrics` routed as `/metrics`); such a request is
 * re-addressed to a long enough host, keeping its path, query, body and signal.
 */
export function routable(request: Request): Request {
  const url = request.url;
  const pathAt = url.indexOf("/", url.indexOf("://") + 3);
  if (pathAt >= 11 && url.indexOf("/", 11) === pathAt) return request;
  return new Request(`http://localhost${pathAt < 0 ? "/" : url.slice(pathAt)}`, request);
}

/** With the store on: each admitted request goes to the ledger, then its admission is settled (the key's counters) and the metrics. */
function recorderOf(deps: AppDeps): RequestContext["onFinish"] {
  const teams = deps.teams;
  if (!teams) return undefined;
  return ({ rc, status, durationMs, costTicks }) => {
    const t = teams.current;
    if (!t) return;
    const e = rc.entry;
    return t.record({
      requestId: rc.id,
      path: rc.path,
      vkey: rc.key ? t.keys.get(rc.key.id) : undefined,
      admission: rc.admission,
      model: e.model,
      upstreamModel: e.upstream_model,
      inputTokens: e.input_tokens ?? 0,
      outputTokens: e.output_tokens ?? 0,
      cachedTokens: e.cached_tokens ?? 0,
      costTicks: costTicks ?? 0,
      estimated: e.estimated === true,
      status,
      durationMs,
    });
  };
}

/** The rate-limit headers that apply (see teams/rate-headers.ts), on every answer: JSON, stream or error. */
function withRateLimits(res: Response, rc: RequestContext, headers: Headers): Response {
  const h = rc.rateLimitHeaders(speaksOpenAI(rc.path, headers) ? "openai" : "anthropic");
  if (h.length === 0) return res;
  try {
    for (const [k, v] of h) res.headers.set(k, v);
    return res;
  } catch {
    // Headers that cannot change: the same answer, with them.
    const copy = new Headers(res.headers);
    for (const [k, v] of h) copy.set(k, v);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: copy });
  }
}

/** How long streams cut at shutdown get to send their error event before the sockets close. */
const CUT_WAIT_MS = 1000;

export function createApp(deps: AppDeps, streams?: OpenStreams, tracing: () => Tracing = () => TRACING_OFF) {
  const { logger } = deps;
  const recorder = recorderOf(deps);
  // Without client keys: only this machine's programs are served (local-only.ts).
  const localOnly = localOnlyGuard(deps.config);
  return new Elysia({ name: "grok2api" })
    .onRequest(({ request, set }) => {
      const id = newRequestId();
      set.headers["request-id"] = id;
      const url = new URL(request.url);
      const rc = new RequestContext(id, request.method, url.pathname, logger, streams);
      if (recorder) rc.onFinish = recorder;
      rc.secrets = deps.secrets;
      // A span for each API request (not /health, /metrics or the dashboard).
      if (url.pathname.startsWith("/v1/")) rc.trace = tracing().start(request.method, url.pathname, request.headers);
      setContext(request, rc);
      localOnly?.(request);
    })
    // The matched route pattern labels the request's metrics (bounded, unlike the path).
    .onTransform({ as: "global" }, ({ request, route }) => {
      const rc = contextOf(request);
      if (rc) rc.route = route;
    })
    .onError(async ({ code, error, request, path }) => {
      const rc = contextOf(request);
      const err = error instanceof ApiError ? error : fromFrameworkError(code, error, request.method, path);
      if (err.status >= 500 && !(error instanceof ApiError)) {
        logger.warn("internal error", { request_id: rc?.id, error: error instanceof Error ? error.stack : String(error) });
      }
      if (rc) {
        rc.finish(err.status, err.type);
        // An admitted request's row written and its hold given back before the client hears of the failure,
        // so that its next request finds the budget as this one left it.
        await rc.commit(err.status);
      }
      return errorResponse(err, path, request.headers, rc?.id ?? "", rc?.secrets ?? deps.secrets);
    })
    .use(metricsRoutes(deps))
    .use(healthRoutes(deps))
    .use(adminRoutes(deps))
    .use(dashboardRoutes(deps))
    .use(apiRoutes(deps))
    // A base_url that already ends in /v1 makes clients call /v1/v1/…: the same routes, once more under /v1.
    .group("/v1", (app) => app.use(apiRoutes(deps)));
}

/** The API proper, each route registered once at /v1/…. */
const apiRoutes = (deps: AppDeps) =>
  new Elysia({ name: "routes/api" })
    .use(batchesRoutes(deps, deps.batches))
    .use(filesRoutes(deps, deps.files))
    .use(messagesRoutes(deps))
    .use(countTokensRoutes(deps))
    .use(chatCompletionsRoutes(deps))
    .use(responsesRoutes(deps))
    .use(modelsRoutes(deps));

/** How long a connection may stay idle between requests (and a whole answer take to be written). */
export const KEEP_ALIVE_SECONDS = 60;

export interface RunningServer {
  url: string;
  port: number;
  /** Requests being served right now, open streams included. */
  readonly inFlight: number;
  /** Resolves once the store (ledger, virtual keys) is open; rejects if it cannot be. Resolves at once without one. */
  readonly ready: Promise<void>;
  /**
   * Serve the requests that arrive from now on with `config`; requests in flight keep the old one.
   * Throws a ConfigError, changing nothing, when `config` would leave this listener (not on
   * loopback) with an upstream key and no client keys.
   */
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
  // The store lives as long as the server: a reload keeps it (its URL takes a restart to change).
  let teams: TeamsHandle | undefined;
  if (config.store) {
    const ready = Teams.open(config.store, logger);
    teams = { current: undefined, ready };
    ready.then(
      (t) => {
        teams!.current = t;
        logger.info("store open", { dialect: t.db.dialect, counters: config.store?.redisUrl ? "redis" : "memory" });
        // A key revoked, expired or removed (here, or on an instance sharing the store): its open streams end.
        t.keys.onChange(() => {
          const ended = streams.endWithdrawn((id) => t.withdrawn(id));
          if (ended > 0) logger.info("streams of withdrawn keys ended", { streams: ended });
        });
      },
      (e) => logger.error("cannot open the store", { error: (e as Error).message }),
    );
  }
  // Grok's reasoning kept for clients that do not carry it: for the server's whole life, like the store.
  const rs = config.reasoningStore ?? REASONING_STORE_DEFAULTS;
  const reasoning = rs.maxBytes > 0 || rs.redisUrl ? createReasoningStore(rs, rs.redisUrl, logger) : undefined;
  // Traces (OpenTelemetry) when an OTLP endpoint is set: loaded in the background, ready with the store.
  let tracing: Tracing = TRACING_OFF;
  const tracingReady = createTracing(config.telemetry, VERSION).then(
    (t) => void (tracing = t),
    (e) => logger.error("tracing could not start", { error: (e as Error).message }),
  );
  const storeReady = Promise.all([teams ? teams.ready : undefined, tracingReady]).then(() => undefined);
  storeReady.catch(() => {}); // logged above; main() exits on it
  // Files and message batches: their records in the store (or the default SQLite file), for the server's whole life.
  const records = recordsDb(config, teams, (m) => logger.warn(m));
  const files = new FileService(records, logger);
  const batches = new BatchService({
    db: records,
    logger,
    current: () => deps!,
    // A batch's requests go to the app serving now, in-process: the same path as any request.
    dispatch: async (request) => app.fetch(request),
  });
  const build = (c: Config) => {
    registerUpstreamKeys(c.upstream.keys);
    deps = { ...createDeps(c, logger, deps, teams, reasoning, { files, batches }), startedAt, streams };
    // Compiled now, so the first request after a reload does not pay for it.
    return createApp(deps, streams, () => tracing).compile();
  };
  let app = build(config);
  batches.start();
  files.start(() => deps!);
  const keepAlive = config.keepAliveSeconds ?? KEEP_ALIVE_SECONDS;
  // Memory back to the system when traffic stops (idle-gc.ts).
  const gc = idleCollector(() => server.pendingRequests);
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // Our own limit answers (body.ts), always with a proper 413 envelope: Bun's would be a bare 413.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // A connection silent this long is closed: idle keep-alive connections do not pile up.
    // While a request is served, its own rules apply instead (see fetch below).
    idleTimeout: keepAlive,
    development: false,
    // Off, or a second instance would share the port and split the traffic (Bun's default here).
    reusePort: false,
    // Read on every request: each request is served by the app current when it arrived.
    fetch: async (request) => {
      gc.touch();
      // While the request is served, Bun's timer is off: the body has its own bound
      // (body.ts, 408), the wait for the upstream and a stream theirs (upstream timeouts).
      server.timeout(request, 0);
      const routed = routable(request);
      const res = await app.fetch(routed);
      // An answer sent whole: the connection may then idle only so long. A stream keeps the
      // timer off while it runs (Bun's timer is not reset by what is written) and gets it back
      // when it ends, so the connection it leaves idle is closed in time too.
      const rc = contextOf(routed);
      if (!rc?.deferred) server.timeout(request, keepAlive);
      else rc.afterFinish = () => server.timeout(request, keepAlive);
      return rc ? withRateLimits(res, rc, request.headers) : res;
    },
  });
  const host = server.hostname ?? config.host;
  let stopping: Promise<void> | undefined;
  let endGrace = () => {};
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`,
    port: server.port!,
    ready: storeReady,
    get inFlight() {
      return server.pendingRequests;
    },
    reload(next) {
      // The listener stays where it is until a restart: a configuration that would leave it open
      // to the network without client keys is refused, and the running one stays.
      const exposed = exposedKeys(next, config.host);
      if (exposed) throw new ConfigError(`${exposed} (the server listens on ${config.host} until it restarts)`);
      app = build(next);
    },
    stop(graceMs = 0) {
      if (stopping) {
        if (graceMs <= 0) endGrace();
        return stopping;
      }
      stopping = (async () => {
        // Batch requests in flight get the same grace as the server's own.
        const batchesStopped = batches.stop(graceMs);
        files.stop();
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
        await batchesStopped;
        gc.stop();
        deps?.tokens.stop();
        reasoning?.close();
        await tracing.shutdown();
        deps?.translation.stop();
        // The ledger's last rows are written before the log closes.
        if (teams) await teams.ready.then((t) => t.close()).catch(() => {});
        await records.close();
        logger.info("stopped");
        await logger.close();
      })();
      return stopping;
    },
  };
}
