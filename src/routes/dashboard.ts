/**
 * The team dashboard: `/admin/` and its few files, embedded in the binary. Off (404,
 * exactly as an unknown path) unless an admin token is configured, like the admin API.
 * The page itself is public; everything it shows comes from the admin API with the token.
 */
import { Elysia } from "elysia";
import type { AppDeps } from "../deps";
import { ASSETS } from "../teams/admin/ui/assets";
import { logged } from "../http/context";
import { ApiError } from "../http/errors";

/** Scripts and styles from this origin only (no inline code), API calls to this origin, no framing. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  // Small files, always revalidated: a new binary serves its own page at once.
  "cache-control": "no-cache",
};

const notFound = (method: string, path: string) => new ApiError(404, `no route for ${method} ${path}`, { retryable: false });

export const dashboardRoutes = (deps: AppDeps) => {
  const enabled = Boolean(deps.config.admin?.token);
  const serve = logged(({ request }: { request: Request }) => {
    const url = new URL(request.url);
    if (!enabled) throw notFound(request.method, url.pathname);
    // Relative links in the page need the trailing slash.
    if (url.pathname === "/admin") {
      return new Response(null, { status: 308, headers: { ...DASHBOARD_HEADERS, location: `/admin/${url.search}` } });
    }
    const name = url.pathname.slice("/admin/".length);
    // Own entries only: /admin/constructor or /admin/__proto__ must not find Object's.
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw notFound(request.method, url.pathname);
    return new Response(asset.body, { headers: { ...DASHBOARD_HEADERS, "content-type": asset.type } });
  });
  return new Elysia({ name: "routes/dashboard" }).get("/admin", serve).get("/admin/", serve).get("/admin/:file", serve);
};
