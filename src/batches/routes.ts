/**
 * /v1/messages/batches (also /v1/v1/…, `?beta=true` ignored): Anthropic's Message Batches API.
 * A batch is its creator's (the virtual key, or the key presented): anyone else gets a 404.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { logged, type RequestContext } from "../http/context";
import { invalidRequest } from "../http/errors";
import { listLimit } from "../files/service";
import { ownerOf } from "../records/owner";
import type { Caller } from "../records/upstream";
import type { BatchService } from "./service";
import { messageBatch } from "./wire";

type Handler = (who: Caller, request: Request, params: Record<string, string>, rc: RequestContext) => Promise<Response>;

export const batchesRoutes = (deps: AppDeps, batches: BatchService | undefined) => {
  const app = new Elysia({ name: "routes/batches" });
  if (!batches) return app;
  const route = (fn: Handler) =>
    logged<{ request: Request; params: Record<string, string> }>(async ({ request, params }, rc) => {
      const key = await deps.authenticate(request.headers, rc);
      return fn({ owner: ownerOf(request.headers, rc), key }, request, params ?? {}, rc);
    }, deps.price);
  return app
    .post("/v1/messages/batches", route(async (who, request, _p, rc) => Response.json(messageBatch(await batches.create(deps, who, rc, request)))), {
      parse: "none",
    })
    .get(
      "/v1/messages/batches",
      route(async (who, request) => {
        const q = new URL(request.url).searchParams;
        const limit = listLimit(q.get("limit"));
        const before = q.get("before_id") || undefined;
        const after = q.get("after_id") || undefined;
        if (before && after) throw invalidRequest("before_id: cannot be combined with after_id");
        const page = await batches.list(who, limit, before ? { beforeId: before } : after ? { afterId: after } : {});
        return Response.json({
          data: page.data.map(messageBatch),
          has_more: page.hasMore,
          first_id: page.data[0]?.id ?? null,
          last_id: page.data.at(-1)?.id ?? null,
        });
      }),
    )
    .get("/v1/messages/batches/:id", route(async (who, _r, p) => Response.json(messageBatch(await batches.get(who, p.id!)))))
    .post("/v1/messages/batches/:id/cancel", route(async (who, request, p) => Response.json(messageBatch(await batches.cancel(deps, who, p.id!, request.signal)))), {
      parse: "none",
    })
    .delete(
      "/v1/messages/batches/:id",
      route(async (who, _r, p) => {
        await batches.remove(who, p.id!);
        return Response.json({ id: p.id, type: "message_batch_deleted" });
      }),
    )
    .get(
      "/v1/messages/batches/:id/results",
      route(async (who, _r, p) => new Response(await batches.results(who, p.id!), { headers: { "content-type": "application/x-jsonl" } })),
    );
};
