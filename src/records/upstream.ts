/** Whether files and batches go to xAI's own APIs, and the client that reaches them. */
import type { UpstreamChoice } from "../config";
import { upstreamTargets, type AppDeps } from "../deps";
import { UpstreamClient } from "../upstream/client";

/** `auto`: xAI's APIs when the primary upstream is xAI's own host (api.x.ai or another *.x.ai). */
export function onXai(choice: UpstreamChoice, baseUrl: string): boolean {
  if (choice !== "auto") return choice;
  try {
    const host = new URL(baseUrl).hostname.toLowerCase();
    return host === "api.x.ai" || host.endsWith(".x.ai");
  } catch {
    return false;
  }
}

/** A client for the primary upstream alone (its keys, retries and timeouts): xAI's Files and Batch APIs have no fallback. */
export function primaryClient(deps: AppDeps): UpstreamClient {
  const primary = upstreamTargets(deps.config, deps.pool)[0]!;
  return new UpstreamClient({ targets: [primary], policy: deps.config.resilience, logger: deps.logger });
}

/** Who is asking: whose records (`owner`), and the client's own upstream key when the gateway forwards keys. */
export interface Caller {
  owner: string;
  key: string | undefined;
}
