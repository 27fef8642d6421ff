/**
 * Anthropic thinking / `output_config.effort` → the upstream's reasoning effort, limited to
 * the values the model accepts (from the capability table). Used by both upstream dialects:
 * chat completions send it as `reasoning_effort`, Responses as `reasoning.effort`. Pure.
 */
import type { MessagesRequest } from "../anthropic/schema";
import type { ModelCaps } from "./capabilities";

const EFFORT_ORDER = ["none", "minimal", "low", "medium", "high", "xhigh", "max"];

/** The closest value the model accepts to the wanted effort. */
export function nearestEffort(wanted: string, accepted: readonly string[]): string | undefined {
  if (accepted.includes(wanted)) return wanted;
  const w = EFFORT_ORDER.indexOf(wanted);
  if (w === -1) return undefined;
  let best: string | undefined;
  let bestDist = Infinity;
  for (const a of accepted) {
    const i = EFFORT_ORDER.indexOf(a);
    if (i === -1 || (a === "none" && wanted !== "none")) continue;
    const d = Math.abs(i - w) + (i < w ? 0.5 : 0); // on a tie, prefer more effort
    if (d < bestDist) {
      bestDist = d;
      best = a;
    }
  }
  return best;
}

/** The effort to ask for, only if the model takes one. */
export function reasoningEffort(req: Pick<MessagesRequest, "thinking" | "output_config">, caps: ModelCaps): string | undefined {
  const accepted = caps.reasoningEffort;
  if (!accepted || accepted.length === 0) return undefined;
  let wanted: string | undefined;
  const effort = req.output_config?.effort;
  if (req.thinking?.type === "disabled") wanted = "none";
  else if (effort) wanted = effort;
  else if (req.thinking?.type === "enabled") {
    const budget = req.thinking.budget_tokens ?? 0;
    wanted = budget < 4096 ? "low" : budget < 16384 ? "medium" : "high";
  }
  if (!wanted) return undefined;
  return nearestEffort(wanted, accepted);
}
