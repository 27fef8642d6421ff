/**
 * /v1/files (also /v1/v1/…, `?beta=true` ignored): Anthropic's Files API, GA and beta
 * (`anthropic-beta: files-api-2025-04-14`) alike. A list answers in both paging styles at
 * once: `next_page` (GA, `page=`) and `has_more` / `first_id` / `last_id` (beta,
 * `before_id=` / `after_id=`).
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { logged, type RequestContext } from "../http/context";
import { ApiError, invalidRequest } from "../http/errors";
import { ownerOf } from "../records/owner";
import type { Caller } from "../records/upstream";
import type { FileRecord } from "./records";
import { fileMetadata, listLimit, type FileService } from "./service";

const MAX_IDS = 100;

async function callerOf(deps: AppDeps, request: Request, rc: RequestContext): Promise<Caller> {
  const key = await deps.authenticate(request.headers, rc);
  return { owner: ownerOf(request.headers, rc), key };
}

const pageCursor = (id: string) => `page_${Buffer.from(id).toString("base64url")}`;

function fromPageCursor(page: string): string {
  const m = /^page_([A-Za-z0-9_-]+)$/.exec(page);
  const id = m ? Buffer.from(m[1]!, "base64url").toString() : "";
  if (!/^file_[A-Za-z0-9]+$/.test(id)) throw invalidRequest(`page: ${JSON.stringify(page)} is not a page cursor this gateway gave`);
  return id;
}

/** `ids[]=a&ids[]=b`, `ids=a&ids=b` or `ids=a,b`. */
function idsOf(q: URLSearchParams): string[] | undefined {
  const raw = [...q.getAll("ids"), ...q.getAll("ids[]")];
  if (raw.length === 0) return undefined;
  return [...new Set(raw.flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean))];
}

function listing(data: FileRecord[], hasMore: boolean, reverse: boolean) {
  const first = data[0]?.id ?? null;
  const last = data.at(-1)?.id ?? null;
  return {
    data: data.map(fileMetadata),
    has_more: hasMore,
    first_id: first,
    last_id: last,
    next_page: hasMore && !reverse && last ? pageCursor(last) : null,
  };
}

async function list(files: FileService, who: Caller, url: URL): Promise<Response> {
  const q = url.searchParams;
  const ids = idsOf(q);
  if (!files.active) return Response.json(listing([], false, false));
  const records = await files.records();
  if (ids) {
    if (q.has("page") || q.has("limit")) throw invalidRequest("ids: cannot be combined with page or limit");
    if (ids.length > MAX_IDS) throw invalidRequest(`ids: at most ${MAX_IDS} ids (got ${ids.length})`);
    const found = (await records.some(who.owner, ids)).filter((f) => !f.expires_at || Date.parse(f.expires_at) > Date.now());
    return Response.json(listing(found, false, false));
  }
  const limit = listLimit(q.get("limit"));
  const page = q.get("page");
  const before = q.get("before_id") || undefined;
  const after = page ? fromPageCursor(page) : q.get("after_id") || undefined;
  if (before && after) throw invalidRequest("before_id: cannot be combined with after_id or page");
  const p = await records.page(who.owner, limit, before ? { beforeId: before } : after ? { afterId: after } : {});
  return Response.json(listing(p.data, p.hasMore, before !== undefined));
}

export const filesRoutes = (deps: AppDeps, files: FileService | undefined) => {
  const app = new Elysia({ name: "routes/files" });
  if (!files) return app;
  const route = (fn: (who: Caller, request: Request, params: Record<string, string>) => Promise<Response>) =>
    logged<{ request: Request; params: Record<string, string> }>(async ({ request, params }, rc) => fn(await callerOf(deps, request, rc), request, params ?? {}));
  return app
    .post("/v1/files", route(async (who, request) => Response.json(fileMetadata(await files.upload(deps, who, request)))), { parse: "none" })
    .get("/v1/files", route((who, request) => list(files, who, new URL(request.url))))
    .get("/v1/files/:id", route(async (who, _r, p) => Response.json(fileMetadata(await files.get(who, p.id!)))))
    .get(
      "/v1/files/:id/content",
      route(async (who, _r, p) => {
        const f = await files.get(who, p.id!);
        if (!f.downloadable) {
          throw new ApiError(400, `File ${f.id} cannot be downloaded: files you upload are not downloadable (only files a tool makes are)`, {
            retryable: false,
            details: { error_code: "file_not_downloadable" },
          });
        }
        throw new ApiError(404, `File not found: ${f.id}`, { type: "not_found_error", retryable: false }); // nothing here makes files yet
      }),
    )
    .delete(
      "/v1/files/:id",
      route(async (who, request, p) => {
        await files.remove(deps, who, p.id!, request.signal);
        return Response.json({ id: p.id, type: "file_deleted" });
      }),
    );
};
