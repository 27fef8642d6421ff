/**
 * xAI's Files API and Batch API, faked for tests (`handle` answers their paths on a
 * FakeUpstream; anything else is left to the test's own handler).
 *
 * No recording of either API exists in tests/fixtures: every shape here is SYNTHESIZED from
 * the reference (/work/shared/reference/batches-files-mcp.md §1.2, §2.2), which takes them
 * from xAI's OpenAPI spec (files) and xai-ts's hand-written batch resource and its test
 * fixtures (batches):
 *   - files: `File {id:"file_<uuid>", object:"file", bytes, created_at (unix s), expires_at, filename, purpose:""}`;
 *     upload is multipart with `expires_after` BEFORE `file` (else xAI answers 400); 413 over 50 MB;
 *     delete answers `{id, deleted:true, object:"file"}`.
 *   - batches: `Batch {batch_id, name, create_time, expire_time, create_api_key_id, cancel_time,
 *     cancel_by_xai_message, state{num_requests,num_pending,num_success,num_error,num_cancelled}}`;
 *     `POST /v1/batches/{id}/requests {batch_requests:[{batch_request_id, batch_request:{responses|chat_get_completion}}]}`;
 *     `POST /v1/batches/{id}:cancel`; `GET /v1/batches/{id}/results?limit&pagination_token` →
 *     `{results:[{batch_request_id, batch_result:{response:{chat_get_completion}}}|{…, batch_result:{error}}], pagination_token}`.
 *     Results are chat completions even for Responses requests (reference §0.1).
 * Requests are processed only when the test says so (`process`), so a test decides when a batch ends.
 */
import { completion, usage, type Recorded } from "./fake-upstream";

export interface FakeFile {
  id: string;
  filename: string;
  type: string;
  bytes: Uint8Array;
  expiresAfter: number | undefined;
}

export interface FakeBatchRequest {
  batch_request_id: string;
  batch_request: Record<string, any>;
}

export interface FakeBatch {
  batch_id: string;
  name: string;
  requests: FakeBatchRequest[];
  /** batch_request_id → its result object (`batch_result`). */
  results: Map<string, Record<string, unknown>>;
  cancel_time: string | null;
  cancel_by_xai_message: string | null;
}

/** What a processed request answers: a chat completion, or an error (the xai-ts string form or the gRPC `{code, message}` form). */
export type Answer = { completion: unknown } | { error: string | { code: number; message: string } };

const MAX_FILE = 50 * 1024 * 1024;
const uuid = () => crypto.randomUUID();

/** The text of the last user input of a Responses or chat body (for answers that echo it). */
export function lastUserText(body: Record<string, any>): string {
  const items: any[] = body.input ?? body.messages ?? [];
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i];
    if (it?.role !== "user") continue;
    if (typeof it.content === "string") return it.content;
    return (it.content ?? []).map((c: any) => c.text ?? "").join("");
  }
  return "";
}

/** The default answer: "Batch answer to <text>", an xAI chat completion with a cost. */
export const echoAnswer = (r: FakeBatchRequest): Answer => {
  const body = r.batch_request.responses ?? r.batch_request.chat_get_completion ?? {};
  return { completion: completion({ content: `Batch answer to ${lastUserText(body)}` }, "stop", { ...usage(20, 7), cost_in_usd_ticks: 4_000_000 }) };
};

export class FakeXaiApis {
  readonly files = new Map<string, FakeFile>();
  readonly batches = new Map<string, FakeBatch>();
  answer: (r: FakeBatchRequest) => Answer = echoAnswer;
  /** Results per page of GET …/results (xAI's own default is 100). */
  pageSize = 2;

  /** The answer for xAI's Files and Batch API paths; undefined for any other path. */
  handle(req: Recorded): Response | Promise<Response> | undefined {
    const p = req.path.replace(/^\/v1/, "");
    if (p === "/files" && req.method === "POST") return this.upload(req);
    let m = /^\/files\/([^/]+)(\/content)?$/.exec(p);
    if (m) {
      const f = this.files.get(decodeURIComponent(m[1]!));
      if (!f) return Response.json({ code: "Some requested entity was not found", error: "File not found" }, { status: 404 });
      if (m[2]) return new Response(f.bytes, { headers: { "content-type": "application/octet-stream" } });
      if (req.method === "DELETE") {
        this.files.delete(f.id);
        return Response.json({ id: f.id, deleted: true, object: "file" });
      }
      return Response.json(this.fileObject(f));
    }
    if (p === "/batches" && req.method === "POST") {
      const b: FakeBatch = { batch_id: `batch_${uuid()}`, name: req.body?.name ?? "", requests: [], results: new Map(), cancel_time: null, cancel_by_xai_message: null };
      this.batches.set(b.batch_id, b);
      return Response.json(this.batchObject(b));
    }
    m = /^\/batches\/([^/:]+)(:cancel|\/requests|\/results)?$/.exec(p);
    if (m) {
      const b = this.batches.get(decodeURIComponent(m[1]!));
      if (!b) return Response.json({ code: "Some requested entity was not found", error: "Batch not found" }, { status: 404 });
      if (m[2] === ":cancel" && req.method === "POST") {
        b.cancel_time ??= new Date().toISOString();
        for (const r of b.requests) if (!b.results.has(r.batch_request_id)) b.results.set(r.batch_request_id, { error: { code: 1, message: "cancelled" } });
        return Response.json(this.batchObject(b));
      }
      if (m[2] === "/requests" && req.method === "POST") {
        for (const r of req.body?.batch_requests ?? []) b.requests.push(r);
        return Response.json({});
      }
      if (m[2] === "/results") return this.resultsPage(b, req.query);
      if (!m[2]) return Response.json(this.batchObject(b));
    }
    return undefined;
  }

  /** Answers every request not answered yet (of one batch, or of all), with `answer`. */
  process(batchId?: string): void {
    for (const b of this.batches.values()) {
      if (batchId && b.batch_id !== batchId) continue;
      for (const r of b.requests) {
        if (b.results.has(r.batch_request_id)) continue;
        const a = this.answer(r);
        b.results.set(r.batch_request_id, "completion" in a ? { response: { chat_get_completion: a.completion }, error: { code: 0, message: "" } } : { error: a.error });
      }
    }
  }

  /** The only batch there is (tests make one at a time). */
  get only(): FakeBatch {
    const all = [...this.batches.values()];
    if (all.length !== 1) throw new Error(`expected one upstream batch, found ${all.length}`);
    return all[0]!;
  }

  private async upload(req: Recorded): Promise<Response> {
    const type = req.headers.get("content-type") ?? "";
    if (!type.startsWith("multipart/form-data")) return Response.json({ code: "Client specified an invalid argument", error: "expected multipart/form-data" }, { status: 400 });
    const form = await new Response(req.raw, { headers: { "content-type": type } }).formData();
    const keys = [...form.keys()];
    const fileAt = keys.indexOf("file");
    const expiresAt = keys.indexOf("expires_after");
    if (fileAt < 0) return Response.json({ code: "Client specified an invalid argument", error: "missing file" }, { status: 400 });
    if (expiresAt > fileAt) return Response.json({ code: "Client specified an invalid argument", error: "expires_after must come before file" }, { status: 400 });
    const part = form.get("file") as File;
    if (part.size > MAX_FILE) return Response.json({ code: "Request too large", error: "file too large" }, { status: 413 });
    const f: FakeFile = {
      id: `file_${uuid()}`,
      filename: part.name,
      type: part.type,
      bytes: new Uint8Array(await part.arrayBuffer()),
      expiresAfter: expiresAt >= 0 ? Number(form.get("expires_after")) : undefined,
    };
    this.files.set(f.id, f);
    return Response.json(this.fileObject(f));
  }

  private fileObject(f: FakeFile) {
    const created = Math.floor(Date.now() / 1000);
    return { id: f.id, object: "file", bytes: f.bytes.byteLength, created_at: created, expires_at: f.expiresAfter ? created + f.expiresAfter : null, filename: f.filename, purpose: "" };
  }

  batchObject(b: FakeBatch) {
    let success = 0;
    let error = 0;
    let cancelled = 0;
    for (const r of b.results.values()) {
      const e = r.error as { code?: number } | string | undefined;
      if (r.response) success++;
      else if (typeof e === "object" && e?.code === 1) cancelled++;
      else error++;
    }
    return {
      batch_id: b.batch_id,
      name: b.name,
      create_time: "2026-11-11",
      expire_time: "2026-11-12",
      create_api_key_id: "key-id",
      cancel_time: b.cancel_time,
      cancel_by_xai_message: b.cancel_by_xai_message,
      state: { num_requests: b.requests.length, num_pending: b.requests.length - b.results.size, num_success: success, num_error: error, num_cancelled: cancelled },
    };
  }

  private resultsPage(b: FakeBatch, q: URLSearchParams): Response {
    const all = [...b.results.entries()];
    const start = Number(q.get("pagination_token") ?? "0") || 0;
    const page = all.slice(start, start + this.pageSize);
    const next = start + this.pageSize < all.length ? String(start + this.pageSize) : null;
    return Response.json({ results: page.map(([id, batch_result]) => ({ batch_request_id: id, batch_result })), pagination_token: next });
  }
}
