/** Batches as an operator sees them (admin API, dashboard, `grok2api batches`): every owner's, newest first. Pure. */
import { ownerLabel } from "../records/owner";
import type { BatchRecord } from "./records";
import { messageBatch } from "./wire";

export function batchReport(b: BatchRecord) {
  return {
    ...messageBatch(b),
    owner: ownerLabel(b.owner, b.key_name),
    key_id: b.key_id,
    /** "xai": xAI's Batch API; "local": run by the gateway. */
    mode: b.mode,
    upstream_batch_id: b.upstream_id,
    request_count: b.request_count,
    note: b.note,
  };
}

/** The `grok2api batches` table. */
export function renderBatches(list: BatchRecord[]): string {
  if (list.length === 0) return "no message batches\n";
  const rows = [["ID", "STATUS", "MODE", "OWNER", "REQUESTS", "PROCESSING", "SUCCEEDED", "ERRORED", "CANCELED", "EXPIRED", "CREATED"]];
  for (const b of list) {
    rows.push([
      b.id,
      b.archived_at ? `${b.status} (archived)` : b.status,
      b.mode,
      ownerLabel(b.owner, b.key_name),
      String(b.request_count),
      String(b.processing),
      String(b.succeeded),
      String(b.errored),
      String(b.canceled),
      String(b.expired),
      b.created_at,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

/** One batch, field by field. */
export function renderBatch(b: BatchRecord): string {
  const r = batchReport(b);
  const lines: Array<[string, unknown]> = [
    ["id", r.id],
    ["status", r.processing_status],
    ["mode", r.mode === "xai" ? "xAI Batch API" : "run by the gateway"],
    ["upstream batch", r.upstream_batch_id],
    ["owner", r.owner],
    ["requests", r.request_count],
    ["processing", r.request_counts.processing],
    ["succeeded", r.request_counts.succeeded],
    ["errored", r.request_counts.errored],
    ["canceled", r.request_counts.canceled],
    ["expired", r.request_counts.expired],
    ["created", r.created_at],
    ["expires", r.expires_at],
    ["cancel initiated", r.cancel_initiated_at],
    ["ended", r.ended_at],
    ["archived", r.archived_at],
    ["note", r.note],
  ];
  return lines.filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k.padEnd(17)}${String(v)}`).join("\n") + "\n";
}
