/**
 * Message batches: accepted whole (every request checked as /v1/messages would), kept in the
 * store, and served either by xAI's Batch API (submitted at once, polled, results translated
 * back) or here, in the background: each request sent to the app's own /v1/messages handler
 * as an internal request (not over the network), so it takes the same path as any request —
 * the batch owner's identity, admission, the ledger, the key pool — with at most
 * `[batches] concurrency` at a time. Work survives a restart: a batch is claimed by the
 * instance working on it for `[batches] lease`, and taken over by another (or the restarted
 * one) when the claim runs out.
 */
import { BATCHES_DEFAULTS, type BatchesConfig } from "../config";
import type { AppDeps } from "../deps";
import { createKeyChecker } from "../http/auth";
import type { KeyIdentity, RequestContext } from "../http/context";
import { ApiError, errorTypeForStatus, invalidRequest } from "../http/errors";
import type { Logger } from "../http/log";
import type { MessagesRequest } from "../anthropic/schema";
import { fileAccess } from "../files/access";
import type { RecordsDb } from "../records/db";
import { sortableId } from "../records/ids";
import { onXai, primaryClient, type Caller } from "../records/upstream";
import { parseRetryAfter } from "../upstream/errors";
import { randomId } from "../dialects/ids";
import { DEFAULT_BODY_TIMEOUT_MS, readJsonBody } from "../http/body";
import { Slicer } from "../http/slicer";
import { validateBatch } from "./create";
import { BatchRecords, type BatchRecord, type RequestRecord } from "./records";
import { outcomeOf, type Outcome } from "./results";
import { erroredResult } from "./wire";
import { MAX_ADD_BYTES, MAX_ADD_REQUESTS, XaiBatches, type XaiBatch } from "./xai";

/** Anthropic's promise: a batch ends within 24 hours; what has not run by then is `expired`. */
export const BATCH_DEADLINE_MS = 24 * 3600 * 1000;

export const INTERNAL_HEADER = "x-grok2api-internal";
export const BATCH_HEADER = "x-grok2api-batch";

/** Who an internal request runs as: the batch's virtual key, and the client's own upstream key when the gateway forwards keys. */
export interface InternalIdentity {
  batchId: string;
  key: KeyIdentity | undefined;
  upstreamKey: string | undefined;
}

export const batchesConfig = (deps: AppDeps): BatchesConfig => deps.config.batches ?? BATCHES_DEFAULTS;

const notFound = (id: string) => new ApiError(404, `no message batch with id ${JSON.stringify(id)}`, { type: "not_found_error", retryable: false });

/** Statuses after which a request is worth trying again later rather than failing: the upstream or a key's limits are busy. */
const RETRY_LATER = new Set([429, 503, 529]);
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

export interface BatchServiceOptions {
  db: RecordsDb;
  logger: Logger;
  /** The deps of the app serving requests now (a reload replaces them). */
  current(): AppDeps;
  /** Hands a request to that app, in-process. */
  dispatch(request: Request): Promise<Response>;
}

export class BatchService {
  /** This instance, in the claims it makes on batches. */
  private readonly runner = randomId("runner_", 16);
  /** Proves an internal request comes from here: never leaves the process. */
  private readonly token = randomId("", 43);
  private readonly isToken = createKeyChecker([this.token]);
  /** Batches this instance runs now, and who their requests run as. */
  private readonly identities = new Map<string, InternalIdentity>();
  /** Owner → the client's own upstream key, in memory only (forwarding mode: nothing runs for an owner whose key is unknown). */
  private readonly ownerKeys = new Map<string, string>();
  /** Requests in flight, by batch. */
  private readonly inFlight = new Map<string, Set<number>>();
  private running = 0;
  /** `batch:seq` → when it may be tried again, and how many times it was. */
  private readonly retryAt = new Map<string, { at: number; tries: number }>();
  private readonly abort = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  /** Whether this run swept what an earlier process left half done (sweepOrphans). */
  private swept = false;
  private stopped = false;
  /** Owners whose batches wait for their key, said once each. */
  private readonly waitingSaid = new Set<string>();
  private settled: (() => void) | undefined;
  /** xAI batches this instance is submitting or polling right now: one piece of work on a batch at a time. */
  private readonly busy = new Set<string>();

  constructor(private readonly o: BatchServiceOptions) {}

  async records(): Promise<BatchRecords> {
    return new BatchRecords(await this.o.db.get());
  }

  private get logger(): Logger {
    return this.o.logger;
  }

  // ---- life ----

  /** Starts the background work: at once when the store may hold batches from an earlier run. */
  start(): void {
    if (this.o.db.mayHoldWork) this.wake();
  }

  /** Runs the background work now (and again after, if it was already running). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.ticking = this.tick()
      .catch((e) => this.logger.warn("batch work failed; trying again later", { error: (e as Error).message }))
      .finally(() => {
        this.ticking = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else this.schedule();
      });
  }

  private schedule(): void {
    const every = batchesConfig(this.o.current()).pollIntervalMs;
    // Claims are renewed well before they run out, whatever the poll interval.
    const lease = batchesConfig(this.o.current()).leaseMs;
    this.timer = setTimeout(() => this.wake(), Math.max(10, Math.min(every, lease / 3)));
  }

  /** Stops: requests in flight get up to `graceMs` to finish, the rest are run again by whoever takes the batch over. */
  async stop(graceMs = 0): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    if (this.running > 0 && graceMs > 0) {
      const done = new Promise<void>((resolve) => (this.settled = resolve));
      await Promise.race([done, Bun.sleep(graceMs)]);
    }
    this.abort.abort();
    // Give the aborted requests a moment to come back, so they leave their rows pending.
    for (let i = 0; i < 50 && this.running > 0; i++) await Bun.sleep(10);
    if (!this.o.db.active) return;
    try {
      const recs = await this.records();
      await recs.release(this.runner);
    } catch {
      // the store is gone: the claims run out by themselves
    }
  }

  // ---- internal requests ----

  /** Who an internal request runs as, when its token is this instance's and the batch is one it runs. */
  internalIdentity(token: string, batchId: string): InternalIdentity | undefined {
    if (!this.isToken(token)) return undefined;
    return this.identities.get(batchId);
  }

  private internalRequest(batchId: string, params: string): Request {
    return new Request("http://localhost/v1/messages", {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", [INTERNAL_HEADER]: this.token, [BATCH_HEADER]: batchId },
      body: params,
      signal: this.abort.signal,
    });
  }

  /** Remember the client's own upstream key for its batches (forwarding mode), for as long as this process runs. */
  private remember(who: Caller): void {
    if (who.key) this.ownerKeys.set(who.owner, who.key);
  }

  // ---- the API ----

  async create(deps: AppDeps, who: Caller, rc: RequestContext, request: Request): Promise<BatchRecord> {
    const cfg = batchesConfig(deps);
    const xai = onXai(cfg.upstream, deps.upstream.baseUrl);
    const body = await readJsonBody(request, cfg.maxBytes, deps.config.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS);
    const api = deps.upstream.api;
    const news = await validateBatch(deps, body, { maxRequests: cfg.maxRequests, xaiApi: xai ? api : undefined }, fileAccess(deps, request.headers, rc, who.key), request.signal);
    // A virtual key's limits, for each model the batch uses, with what all its requests for that model
    // may cost: refused now rather than request by request (each is admitted again as it runs).
    // (100,000 requests may be here: the loops below give the event loop a turn every slice.)
    const slicer = new Slicer();
    const needs = new Map<string, { inputTokens: number; maxOutputTokens: number }>();
    for (const [i, r] of news.entries()) {
      if (i % 1024 === 0) await slicer.pause();
      const n = needs.get(r.upstream_model) ?? { inputTokens: 0, maxOutputTokens: 0 };
      n.inputTokens += r.need.inputTokens;
      n.maxOutputTokens += r.need.maxOutputTokens;
      needs.set(r.upstream_model, n);
    }
    Object.assign(rc.entry, { model: news[0]!.model, upstream_model: [...needs.keys()].join(",") });
    for (const [m, need] of needs) await deps.admit(rc, m, need);
    // The create call itself costs nothing: its requests go in the ledger as they run (or as xAI bills them).
    rc.admitted = false;
    this.remember(who);
    const now = new Date();
    const b: BatchRecord = {
      id: sortableId("msgbatch_", now.getTime()),
      owner: who.owner,
      key_id: rc.key?.id ?? null,
      key_name: rc.key?.name ?? null,
      mode: xai ? "xai" : "local",
      upstream_id: null,
      submitted: !xai,
      status: "in_progress",
      request_count: news.length,
      processing: news.length,
      succeeded: 0,
      errored: 0,
      canceled: 0,
      expired: 0,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + BATCH_DEADLINE_MS).toISOString(),
      ended_at: null,
      cancel_initiated_at: null,
      archived_at: null,
      polled_at: null,
      note: null,
      runner: null,
      lease_until: null,
    };
    const rows: RequestRecord[] = [];
    for (const [seq, r] of news.entries()) {
      if (seq % 1024 === 0) await slicer.pause();
      rows.push({
        batch_id: b.id,
        seq,
        custom_id: r.custom_id,
        model: r.model,
        upstream_model: r.upstream_model,
        params: r.params,
        upstream_body: r.upstreamBody,
        submitted: !xai,
        status: "pending",
        result: null,
      });
    }
    const recs = await this.records();
    if (xai) this.busy.add(b.id); // submitted below, not by the background work meanwhile
    try {
      await recs.insert(b, rows);
    } catch (e) {
      this.busy.delete(b.id);
      throw e;
    }
    rc.entry.batch_id = b.id;
    this.logger.info("message batch created", { batch_id: b.id, requests: b.request_count, mode: b.mode, key_name: b.key_name ?? undefined });
    if (xai) {
      // Submitted before the answer: a batch xAI would not take is not accepted.
      try {
        await this.claim(recs, b);
        await this.submit(deps, recs, b, who.key, request.signal);
      } catch (e) {
        await this.forget(deps, recs, b, who.key);
        throw e;
      } finally {
        this.busy.delete(b.id);
      }
    }
    this.wake();
    return (await recs.get(b.id))!;
  }

  /** A batch xAI did not take whole: cancelled there (what was added), gone here. */
  private async forget(deps: AppDeps, recs: BatchRecords, b: BatchRecord, key: string | undefined): Promise<void> {
    const uid = (await recs.get(b.id))?.upstream_id;
    if (uid) await new XaiBatches(primaryClient(deps), key).cancel(uid, AbortSignal.timeout(30_000)).catch(() => {});
    await recs.remove(b.id).catch(() => {});
    this.logger.warn("message batch not accepted: xAI's Batch API did not take it", { batch_id: b.id });
  }

  /** The caller's batch, or a 404 (missing, someone else's). */
  async get(who: Caller, id: string): Promise<BatchRecord> {
    this.remember(who);
    if (!this.o.db.active) throw notFound(id); // no batch was ever made here
    const b = await (await this.records()).get(id);
    if (!b || b.owner !== who.owner) throw notFound(id);
    return b;
  }

  async list(who: Caller, limit: number, cursor: { afterId?: string; beforeId?: string }) {
    this.remember(who);
    if (!this.o.db.active) return { data: [], hasMore: false };
    return (await this.records()).page(who.owner, limit, cursor);
  }

  /** Every owner's batches (the admin API). */
  async all(limit: number, afterId: string | undefined) {
    if (!this.o.db.active) return { data: [], hasMore: false };
    return (await this.records()).page(undefined, limit, afterId ? { afterId } : {});
  }

  async cancel(deps: AppDeps, who: Caller, id: string, signal: AbortSignal): Promise<BatchRecord> {
    const b = await this.get(who, id);
    if (b.status !== "in_progress") return b;
    const recs = await this.records();
    await recs.update(b.id, { status: "canceling", cancel_initiated_at: new Date().toISOString() });
    this.logger.info("message batch canceling", { batch_id: b.id });
    if (b.mode === "xai" && b.upstream_id) {
      const x = await new XaiBatches(primaryClient(deps), who.key ?? this.keyFor(deps, b) ?? undefined).cancel(b.upstream_id, signal);
      // What xAI says now; the background work finishes the batch if it is busy with it.
      await this.exclusive(b.id, () => this.pollXai(deps, recs, { ...b, status: "canceling" }, x));
    } else {
      // What has not started never will; what runs finishes (as on Anthropic).
      await recs.settleAllPending(b.id, "canceled", this.inFlight.get(b.id));
      this.wake();
    }
    return (await recs.get(b.id))!;
  }

  async remove(who: Caller, id: string): Promise<void> {
    const b = await this.get(who, id);
    if (b.status !== "ended") {
      throw invalidRequest(`message batch ${id} is ${b.status}: only a batch that has ended can be deleted (cancel it first)`);
    }
    await (await this.records()).remove(b.id);
    this.logger.info("message batch deleted", { batch_id: b.id });
  }

  /** The results as JSONL, one line per request in the order they were given, read from the store a page at a time. */
  async results(who: Caller, id: string): Promise<ReadableStream<Uint8Array>> {
    const b = await this.get(who, id);
    if (b.archived_at) {
      throw new ApiError(404, `the results of message batch ${id} are no longer kept (archived at ${b.archived_at})`, { type: "not_found_error", retryable: false });
    }
    if (b.status !== "ended") throw invalidRequest(`message batch ${id} is ${b.status}: its results are ready once processing_status is "ended"`);
    const recs = await this.records();
    const enc = new TextEncoder();
    let after = -1;
    return new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const rows = await recs.requests(b.id, after, 500);
        if (rows.length === 0) return ctrl.close();
        let text = "";
        for (const r of rows) text += `{"custom_id":${JSON.stringify(r.custom_id)},"result":${r.result ?? JSON.stringify({ type: r.status })}}\n`;
        after = rows.at(-1)!.seq;
        ctrl.enqueue(enc.encode(text));
      },
    });
  }

  // ---- the background work ----

  private async tick(): Promise<void> {
    if (!this.o.db.active) return; // no batch was ever made here: the store is not even opened
    const deps = this.o.current();
    const recs = await this.records();
    const now = Date.now();
    for (const b of await recs.unfinished()) {
      if (this.stopped) return;
      try {
        if (b.mode === "xai") await this.tickXai(deps, recs, b, now);
        else await this.tickLocal(deps, recs, b, now);
      } catch (e) {
        this.logger.warn("message batch: work failed, tried again later", { batch_id: b.id, error: (e as Error).message });
      }
    }
    if (!this.swept) {
      // Once a run: what an earlier process left half written or half removed (an hour old at least).
      this.swept = true;
      const n = await recs.sweepOrphans(now - 3600_000);
      if (n > 0) this.logger.warn("message batches: requests left half written or half removed by an earlier process were removed", { batches: n });
    }
    const cutoff = new Date(now - batchesConfig(deps).retentionMs).toISOString();
    for (const b of await recs.toArchive(cutoff)) {
      await recs.archive(b.id, new Date().toISOString());
      this.logger.info("message batch archived: its results are no longer kept", { batch_id: b.id });
    }
  }

  /** The upstream key to act for the batch's owner: undefined with a key pool; the owner's own in forwarding mode (null: unknown yet). */
  private keyFor(deps: AppDeps, b: BatchRecord): string | undefined | null {
    if (deps.pool.size > 0) return undefined;
    const k = this.ownerKeys.get(b.owner);
    if (k) return k;
    if (!this.waitingSaid.has(b.owner)) {
      this.waitingSaid.add(b.owner);
      this.logger.info("message batch waits for its owner's key: the gateway forwards client keys and keeps none across a restart", { batch_id: b.id });
    }
    return null;
  }

  private async claim(recs: BatchRecords, b: BatchRecord): Promise<boolean> {
    const now = Date.now();
    const lease = batchesConfig(this.o.current()).leaseMs;
    return recs.claim(b.id, this.runner, new Date(now).toISOString(), new Date(now + lease).toISOString());
  }

  private async tickLocal(deps: AppDeps, recs: BatchRecords, b: BatchRecord, now: number): Promise<void> {
    const key = this.keyFor(deps, b);
    if (key === null) return;
    if (!(await this.claim(recs, b))) return; // another instance runs it
    const flying = this.inFlight.get(b.id) ?? new Set<number>();
    this.inFlight.set(b.id, flying);
    this.identities.set(b.id, { batchId: b.id, key: b.key_id ? { id: b.key_id, name: b.key_name ?? b.key_id } : undefined, upstreamKey: key });
    if (now >= Date.parse(b.expires_at)) {
      const n = await recs.settleAllPending(b.id, "expired", flying);
      if (n > 0) this.logger.warn("message batch reached its 24 hours: requests not run are expired", { batch_id: b.id, expired: n });
    } else if (b.status === "canceling") {
      await recs.settleAllPending(b.id, "canceled", flying);
    } else {
      const free = batchesConfig(deps).concurrency - this.running;
      if (free > 0) {
        const rows = await recs.pending(b.id, free + flying.size + this.waitingRetries(b.id));
        let started = 0;
        for (const r of rows) {
          if (started >= free) break;
          if (flying.has(r.seq)) continue;
          const retry = this.retryAt.get(`${b.id}:${r.seq}`);
          if (retry && retry.at > now) continue;
          started++;
          void this.runOne(recs, b, r, flying);
        }
      }
    }
    if (flying.size === 0 && (await recs.pendingCount(b.id)) === 0) {
      this.inFlight.delete(b.id);
      this.identities.delete(b.id);
      for (const k of this.retryAt.keys()) if (k.startsWith(`${b.id}:`)) this.retryAt.delete(k);
      if (await recs.end(b.id, new Date().toISOString())) {
        const done = await recs.get(b.id);
        this.logger.info("message batch ended", { batch_id: b.id, succeeded: done?.succeeded, errored: done?.errored, canceled: done?.canceled, expired: done?.expired });
      }
    }
  }

  private waitingRetries(batchId: string): number {
    let n = 0;
    for (const k of this.retryAt.keys()) if (k.startsWith(`${batchId}:`)) n++;
    return n;
  }

  /** One request through the app's own /v1/messages; its outcome goes in the store. */
  private async runOne(recs: BatchRecords, b: BatchRecord, r: RequestRecord, flying: Set<number>): Promise<void> {
    flying.add(r.seq);
    this.running++;
    const retryKey = `${b.id}:${r.seq}`;
    try {
      const res = await this.o.dispatch(this.internalRequest(b.id, r.params ?? "{}"));
      const text = await res.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (res.ok && json?.type === "message") {
        this.retryAt.delete(retryKey);
        await recs.settle(b.id, r.seq, "succeeded", { type: "succeeded", message: json });
        return;
      }
      if (this.abort.signal.aborted) return; // stopping: left pending, run again after
      if (RETRY_LATER.has(res.status)) {
        const prev = this.retryAt.get(retryKey);
        const tries = (prev?.tries ?? 0) + 1;
        const wait = parseRetryAfter(res.headers) ?? Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (tries - 1));
        this.retryAt.set(retryKey, { at: Date.now() + wait, tries });
        return;
      }
      this.retryAt.delete(retryKey);
      const type = typeof json?.error?.type === "string" ? json.error.type : errorTypeForStatus(res.status);
      const message = typeof json?.error?.message === "string" ? json.error.message : `HTTP ${res.status}`;
      await recs.settle(b.id, r.seq, "errored", erroredResult(type, message, res.headers.get("request-id")));
    } catch (e) {
      if (this.abort.signal.aborted) return;
      this.logger.warn("message batch: a request could not be run", { batch_id: b.id, custom_id: r.custom_id, error: (e as Error).message });
      await recs.settle(b.id, r.seq, "errored", erroredResult("api_error", "the request could not be run; see the gateway's log")).catch(() => {});
    } finally {
      flying.delete(r.seq);
      this.running--;
      if (this.running === 0) this.settled?.();
      this.wake();
    }
  }

  // ---- xAI's Batch API ----

  /** Creates the upstream batch (once) and adds every request not added yet, in calls of at most 20 MB. */
  private async submit(deps: AppDeps, recs: BatchRecords, b: BatchRecord, key: string | undefined, signal: AbortSignal): Promise<void> {
    const x = new XaiBatches(primaryClient(deps), key);
    let uid = b.upstream_id;
    if (!uid) {
      uid = (await x.create(b.id, signal)).batch_id;
      await recs.update(b.id, { upstream_id: uid });
    }
    for (;;) {
      const rows = await recs.unsubmitted(b.id, MAX_ADD_REQUESTS);
      if (rows.length === 0) break;
      let part: RequestRecord[] = [];
      let bytes = 0;
      const send = async () => {
        if (part.length === 0) return;
        await x.add(uid!, part.map((r) => ({ batch_request_id: r.custom_id, batch_request: JSON.parse(r.upstream_body ?? "{}") })), signal);
        await recs.markSubmitted(b.id, part.map((r) => r.seq));
        part = [];
        bytes = 0;
      };
      for (const r of rows) {
        const n = (r.upstream_body?.length ?? 0) + 64;
        if (bytes + n > MAX_ADD_BYTES) await send();
        part.push(r);
        bytes += n;
      }
      await send();
    }
    await recs.update(b.id, { submitted: true });
    this.logger.info("message batch submitted to xAI's Batch API", { batch_id: b.id, upstream_batch: uid, requests: b.request_count });
  }

  /** Runs `fn` unless this instance is already working on the batch. */
  private async exclusive(id: string, fn: () => Promise<void>): Promise<void> {
    if (this.busy.has(id)) return;
    this.busy.add(id);
    try {
      await fn();
    } finally {
      this.busy.delete(id);
    }
  }

  private tickXai(deps: AppDeps, recs: BatchRecords, b: BatchRecord, now: number): Promise<void> {
    return this.exclusive(b.id, () => this.workXai(deps, recs, b, now));
  }

  private async workXai(deps: AppDeps, recs: BatchRecords, b: BatchRecord, now: number): Promise<void> {
    const key = this.keyFor(deps, b);
    if (key === null) return;
    if (b.polled_at && now - Date.parse(b.polled_at) < batchesConfig(deps).pollIntervalMs && b.submitted) return;
    if (!(await this.claim(recs, b))) return;
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(120_000)]);
    if (!b.submitted) {
      // Accepted, then the instance stopped before xAI had all of it: finish the submission.
      await this.submit(deps, recs, b, key, signal);
      return;
    }
    const x = new XaiBatches(primaryClient(deps), key);
    let state = await x.get(b.upstream_id!, signal);
    if (now >= Date.parse(b.expires_at) && !finished(state)) {
      // Anthropic's 24 hours: what xAI has not done by then is cancelled there and `expired` here.
      state = await x.cancel(b.upstream_id!, signal);
      await this.finish(deps, recs, b, x, state, "expired", signal);
      return;
    }
    await this.pollXai(deps, recs, b, state);
  }

  /** The upstream's counters on the batch; its results once it is done. */
  private async pollXai(deps: AppDeps, recs: BatchRecords, b: BatchRecord, state: XaiBatch): Promise<void> {
    const s = state.state;
    const done = s.num_success + s.num_error + s.num_cancelled;
    await recs.update(b.id, {
      polled_at: new Date().toISOString(),
      processing: Math.max(0, b.request_count - done),
      succeeded: s.num_success,
      errored: s.num_error,
      canceled: s.num_cancelled,
      note: state.cancel_by_xai_message,
    });
    if (!finished(state)) return;
    const key = this.keyFor(deps, b);
    const x = new XaiBatches(primaryClient(deps), key ?? undefined);
    const missing = state.cancel_by_xai_message ? "errored" : b.cancel_initiated_at || state.cancel_time ? "canceled" : "errored";
    await this.finish(deps, recs, b, x, state, missing, AbortSignal.any([this.abort.signal, AbortSignal.timeout(600_000)]));
  }

  /** Every result read and translated; requests xAI gave none for get `missing`; then the batch ends. */
  private async finish(
    deps: AppDeps,
    recs: BatchRecords,
    b: BatchRecord,
    x: XaiBatches,
    state: XaiBatch,
    missing: "errored" | "canceled" | "expired",
    signal: AbortSignal,
  ): Promise<void> {
    let page: Array<{ id: string; result: Parameters<typeof outcomeOf>[0] }> = [];
    const flush = async () => {
      const rows = await recs.pendingByCustomId(b.id, page.map((p) => p.id));
      const byId = new Map(rows.map((r) => [r.custom_id, r]));
      for (const p of page) {
        const row = byId.get(p.id);
        if (!row) continue;
        const req = JSON.parse(row.params ?? "{}") as MessagesRequest;
        const o = outcomeOf(p.result, req);
        // As on /v1/messages: no configured key, nor the request's own MCP tokens, in what goes back.
        const tokens = (req.mcp_servers ?? []).flatMap((s) => (typeof s.authorization_token === "string" ? [s.authorization_token] : []));
        const result = JSON.parse(deps.secrets.with(tokens).text(JSON.stringify(o.result)));
        if (await recs.setResult(b.id, row.seq, o.status, result)) this.charge(deps, b, row, o);
      }
      page = [];
    };
    for await (const r of x.results(state.batch_id, signal)) {
      page.push({ id: r.batch_request_id, result: r });
      if (page.length >= 500) await flush();
    }
    await flush();
    const why = state.cancel_by_xai_message ? `xAI cancelled the batch: ${state.cancel_by_xai_message}` : "xAI returned no result for this request";
    await recs.setAllPending(b.id, missing, missing === "errored" ? erroredResult("api_error", why) : { type: missing });
    await recs.recount(b.id);
    if (await recs.end(b.id, new Date().toISOString())) {
      const done = await recs.get(b.id);
      this.logger.info("message batch ended", { batch_id: b.id, succeeded: done?.succeeded, errored: done?.errored, canceled: done?.canceled, expired: done?.expired });
    }
  }

  /** A result xAI billed: in the ledger (and the key's spend), at what xAI charged, else the catalog's price × `[batches] price_factor`. */
  private charge(deps: AppDeps, b: BatchRecord, row: RequestRecord, o: Outcome): void {
    const t = deps.teams?.current;
    if (!t || !o.usage) return;
    const u = o.usage;
    const listed = deps.price(row.upstream_model, { input_tokens: u.input_tokens, cached_tokens: u.cached_tokens, output_tokens: u.output_tokens });
    const cost = u.cost_ticks ?? (listed === undefined ? 0 : Math.round(listed * batchesConfig(deps).priceFactor));
    t.record({
      requestId: `${b.id}:${row.custom_id}`,
      path: "/v1/messages/batches",
      vkey: b.key_id ? t.keys.get(b.key_id) : undefined,
      model: row.model,
      upstreamModel: row.upstream_model,
      inputTokens: u.input_tokens,
      outputTokens: u.output_tokens,
      cachedTokens: u.cached_tokens,
      costTicks: cost,
      status: 200,
      durationMs: 0,
    });
  }
}

/** xai-ts's rule: nothing pending, and the batch had requests (or was cancelled, or xAI refused it). */
function finished(x: XaiBatch): boolean {
  if (x.cancel_by_xai_message) return true;
  return x.state.num_pending === 0 && (x.state.num_requests > 0 || x.cancel_time !== null);
}
