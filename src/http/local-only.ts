/**
 * Loopback without keys stays local. With no client keys (and no virtual keys), whoever can
 * reach the gateway spends its upstream key — on loopback, that is meant to be the programs of
 * this machine. A web page open in a browser here can reach it too: a cross-site POST of
 * `text/plain` needs no preflight, and a name the page's author controls can be pointed at
 * 127.0.0.1 (DNS rebinding). So, in that mode, a request is refused (403) when:
 *
 * - it has an `Origin` that is not loopback (browsers send one on cross-origin requests);
 * - its `Host` is neither loopback nor one of `allowed_hosts` (a rebound name arrives as the
 *   page's own host name) — checked when the gateway listens on loopback; one listening on
 *   another address without client keys is in forwarding mode (start-up refuses an upstream
 *   key there), was opened to the network on purpose, and has no key of its own to spend;
 * - it is a POST whose body is not declared `application/json` (every API client declares it;
 *   a page can send only text/plain, forms and multipart without a preflight) — but for a file
 *   upload (`POST /v1/files`, multipart as Anthropic's API has it), and a POST with no body at
 *   all (`…/batches/{id}/cancel`, which the SDKs send without a content type): the Origin and
 *   Host rules guard them, and they spend no model's tokens.
 *
 * A request with no Host at all is not from a browser: the gateway's own (a batch's requests,
 * dispatched in-process with their own credential).
 *
 * Claude Code, Codex and the SDKs send JSON, no Origin, and `Host: 127.0.0.1:<port>`.
 */
import type { Config } from "../config";
import { isLoopback } from "../config/security";
import { ApiError } from "./errors";

const refused = (message: string) => new ApiError(403, message, { type: "permission_error", retryable: false });

/** The host name of a Host header (`example.com:9527` → `example.com`, `[::1]:80` → `[::1]`), lower case. */
export function hostName(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.lastIndexOf(":");
  if (colon !== -1 && /^\d*$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/** Whether an Origin header names a page served from this machine. */
function loopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && isLoopback(url.hostname);
  } catch {
    return false; // "null" (a sandboxed page, a file) and anything else
  }
}

/** A multipart file upload to the Files API. */
function isUpload(request: Request): boolean {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "multipart/form-data" && /\/files\/?$/.test(new URL(request.url).pathname);
}

/** A POST without a body (cancelling a batch, as the SDKs send it: no content type): it carries no prompt to spend tokens on. */
function bodiless(request: Request): boolean {
  const length = request.headers.get("content-length");
  return request.headers.get("transfer-encoding") === null && (length === null || length.trim() === "0");
}

function isJson(contentType: string | null): boolean {
  if (!contentType) return false;
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

/**
 * The check for `config`, or undefined when client keys (static or virtual) are required —
 * then a request without a key is refused anyway. Throws the 403 (an ApiError).
 */
export function localOnlyGuard(config: Config): ((request: Request) => void) | undefined {
  if (config.clientKeys.length > 0 || config.admin) return undefined;
  const allowed = new Set(config.allowedHosts ?? []);
  const checkHost = isLoopback(config.host);
  return (request) => {
    const origin = request.headers.get("origin");
    if (origin !== null && !loopbackOrigin(origin)) {
      throw refused(
        `requests from web pages are not served: this gateway has no client keys, so it serves only the programs of its own machine (Origin ${JSON.stringify(origin.slice(0, 200))})`,
      );
    }
    const hostHeader = request.headers.get("host");
    if (checkHost && hostHeader !== null) {
      const host = hostName(hostHeader);
      if (!isLoopback(host) && !allowed.has(host)) {
        throw refused(
          `Host ${JSON.stringify(host.slice(0, 200))} is not served: this gateway has no client keys, so it answers to loopback names only; ` +
            "add the name to allowed_hosts (GROK2API_ALLOWED_HOSTS) to serve it, e.g. behind a reverse proxy",
        );
      }
    }
    if (request.method === "POST" && !isJson(request.headers.get("content-type")) && !isUpload(request) && !bodiless(request)) {
      throw refused("the request body must be sent as JSON (Content-Type: application/json): this gateway has no client keys and serves only API clients");
    }
  };
}
