/** Helpers for the teams tests: a gateway with the admin API on, and admin calls. */
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../src/config";
import { startGateway, type Gateway } from "./gateway";
import { tempDir as runTempDir } from "./temp";

export const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
export const UPSTREAM_KEY = "xai-teams-upstream-key-0123456789";

/** A temp directory removed by `cleanup`. */
export function tempDir(prefix = "grok2api-teams-"): { dir: string; cleanup: () => void } {
  const dir = runTempDir(prefix);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function teamsGateway(upstreamBaseUrl: string, storeUrl: string, overrides: Partial<Config> = {}): Promise<Gateway> {
  const g = startGateway(upstreamBaseUrl, {
    upstream: { baseUrl: upstreamBaseUrl, keys: [UPSTREAM_KEY] },
    admin: { token: ADMIN_TOKEN },
    store: { url: storeUrl },
    ...overrides,
  });
  await g.ready;
  return g;
}

/** An admin API call: JSON in and out. */
export async function adminCall(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN_TOKEN,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}/admin/api${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

export async function createKey(base: string, fields: Record<string, unknown>): Promise<{ id: string; key: string; [k: string]: unknown }> {
  const r = await adminCall(base, "POST", "/keys", fields);
  if (r.status !== 201) throw new Error(`creating a key failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
