/** Liveness: `GET /health` and the `HEAD /` probe Claude Code sends. */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { logged } from "../http/context";
import { VERSION } from "../version";

export const healthRoutes = (deps: AppDeps) =>
  new Elysia({ name: "routes/health" })
    .get(
      "/health",
      logged(() => Response.json({ status: "ok", version: VERSION, uptime_s: Math.round((Date.now() - deps.startedAt) / 1000) })),
    )
    .head("/", logged(() => new Response(null, { status: 200 })))
    .get("/", logged(() => Response.json({ name: "grok2api", version: VERSION })));
