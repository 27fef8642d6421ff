/**
 * The admin API under /admin/api/ (mounted only when an admin token is set):
 * virtual keys, the usage ledger, the streams open now. Authorised by
 * `Authorization: Bearer <admin token>`; JSON in and out; errors in the
 * Anthropic envelope. The secret of a key is in the answer to its creation only.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../../deps";
import { createKeyChecker } from "../../http/auth";
import { readJsonBody } from "../../http/body";
import { logged } from "../../http/context";
import { ApiError, invalidRequest } from "../../http/errors";
import { formatUsd } from "../../models/pricing";
import type { VirtualKey } from "../keys";
import type { Teams } from "../teams";
import { check, CreateKeySchema, isIsoDate, UpdateKeySchema, UsageQuerySchema } from "./schema";
import { batchReport } from "../../batches/report";

const MAX_ADMIN_BODY = 64 * 1024;
const usd = (ticks: number) => Number(formatUsd(ticks));

function bearer(headers: Headers): string | null {
  const m = /^Bearer\s+(.+)$/i.exec(headers.get("authorization")?.trim() ?? "");
  return m ? m[1]!.trim() : null;
}

/** `expires_at` as stored: ISO date-time in UTC. */
function normalizeExpiry(v: string | null | undefined): string | null | undefined {
  if (v === undefined || v === null) return v;
  if (!isIsoDate(v)) throw invalidRequest(`expires_at: ${JSON.stringify(v)} is not an ISO 8601 date or date-time`);
  return new Date(v).toISOString();
}

/** A `to` given as a bare date includes that whole day. */
function bound(v: string | undefined, name: string, endOfDay: boolean): string | undefined {
  if (v === undefined) return undefined;
  if (!isIsoDate(v)) throw invalidRequest(`${name}: ${JSON.stringify(v)} is not an ISO 8601 date or date-time`);
  const t = Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
  return new Date(endOfDay && v.length === 10 ? t + 86_400_000 : t).toISOString();
}

async function body(request: Request): Promise<unknown> {
  return readJsonBody(request, MAX_ADMIN_BODY);
}

const notFound = (id: string) => new ApiError(404, `no key with id ${JSON.stringify(id)}`, { type: "not_found_error", retryable: false });

async function withSpend(t: Teams, k: VirtualKey) {
  return { ...k, spend_usd: usd(await t.spent(k)) };
}

export const adminRoutes = (deps: AppDeps) => {
  const token = deps.config.admin?.token;
  const teams = deps.teams;
  if (!token || !teams) return new Elysia({ name: "admin/api" });
  const isAdmin = createKeyChecker([token]);
  /** Every admin call: the token first, then the store (opened at start-up). */
  const admin =
    <C extends { request: Request; params: Record<string, string> }>(fn: (t: Teams, c: C) => Promise<Response>) =>
    async (c: C): Promise<Response> => {
      const presented = bearer(c.request.headers);
      if (!presented) throw new ApiError(401, "missing admin token: send it as Authorization: Bearer", { retryable: false });
      if (!isAdmin(presented)) throw new ApiError(401, "invalid admin token", { retryable: false });
      return fn(teams.current ?? (await teams.ready), c);
    };

  return new Elysia({ name: "admin/api" })
    .post(
      "/admin/api/keys",
      logged(
        admin(async (t, { request }) => {
          const v = check(CreateKeySchema, await body(request));
          if (!v.ok) throw invalidRequest(v.message);
          const { key, secret } = await t.keys.create({ ...v.value, expires_at: normalizeExpiry(v.value.expires_at) });
          deps.logger.info("virtual key created", { key_id: key.id, key_name: key.name });
          return Response.json({ key: secret, ...key }, { status: 201 });
        }),
      ),
      { parse: "none" },
    )
    .get(
      "/admin/api/keys",
      logged(admin(async (t) => Response.json({ data: await Promise.all(t.keys.list().map((k) => withSpend(t, k))) }))),
    )
    .patch(
      "/admin/api/keys/:id",
      logged(
        admin(async (t, { request, params }) => {
          const v = check(UpdateKeySchema, await body(request));
          if (!v.ok) throw invalidRequest(v.message);
          const fields = { ...v.value, ...(v.value.expires_at !== undefined ? { expires_at: normalizeExpiry(v.value.expires_at) } : {}) };
          const key = await t.keys.update(params.id!, fields);
          if (!key) throw notFound(params.id!);
          deps.logger.info("virtual key changed", { key_id: key.id, key_name: key.name, fields: Object.keys(v.value) });
          return Response.json(await withSpend(t, key));
        }),
      ),
      { parse: "none" },
    )
    .delete(
      "/admin/api/keys/:id",
      logged(
        admin(async (t, { params }) => {
          const key = await t.keys.revoke(params.id!);
          if (!key) throw notFound(params.id!);
          deps.logger.info("virtual key revoked", { key_id: key.id, key_name: key.name });
          return Response.json({ id: key.id, revoked_at: key.revoked_at });
        }),
      ),
      { parse: "none" },
    )
    .get(
      "/admin/api/usage",
      logged(
        admin(async (t, { request }) => {
          const query = Object.fromEntries(new URL(request.url).searchParams);
          for (const [k, v] of Object.entries(query)) if (v === "") delete query[k];
          const v = check(UsageQuerySchema, query);
          if (!v.ok) throw invalidRequest(v.message);
          const groupBy = v.value.group_by ?? "model";
          const rows = await t.ledger.usage({
            keyId: v.value.key_id,
            from: bound(v.value.from, "from", false),
            to: bound(v.value.to, "to", true),
            groupBy,
          });
          const data = rows.map((r) => {
            const totals = {
              requests: r.requests,
              input_tokens: r.input_tokens,
              output_tokens: r.output_tokens,
              cached_tokens: r.cached_tokens,
              cost_usd: usd(r.cost_ticks),
            };
            if (groupBy === "model") return { model: r.group, ...totals };
            if (groupBy === "day") return { day: r.group, ...totals };
            return { key_id: r.group, key_name: r.group ? (t.keys.get(r.group)?.name ?? null) : null, ...totals };
          });
          return Response.json({ data });
        }),
      ),
    )
    .get(
      "/admin/api/streams",
      logged(admin(async () => Response.json({ data: deps.streams?.listing() ?? [] }))),
    )
    .get(
      "/admin/api/batches",
      // Every key's message batches, newest first (`after_id` pages on).
      logged(
        admin(async (_t, { request }) => {
          const after = new URL(request.url).searchParams.get("after_id") || undefined;
          const page = deps.batches ? await deps.batches.all(100, after) : { data: [], hasMore: false };
          return Response.json({ data: page.data.map(batchReport), has_more: page.hasMore });
        }),
      ),
    );
};
