// The admin API, seen from the page: same origin, relative to /admin/, the token as Bearer.
// The token lives in sessionStorage: this tab only, gone when it closes or on logout.

const TOKEN_KEY = "grok2api.admin-token";

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An answer other than 2xx: its status and the message of the error envelope. */
export class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** `path` is relative to the admin API (e.g. "keys"); `body` is sent as JSON. */
export async function api(method, path, body, token = session.token) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(`api/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiFailure(0, "The gateway could not be reached.");
  }
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const message = json?.error?.message ?? `The gateway answered ${res.status}.`;
    throw new ApiFailure(res.status, message);
  }
  return json;
}

/** A query string from the set values of `params`. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
