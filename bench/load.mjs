/**
 * The load side of the benchmark, run under Node (autocannon's own runtime) as a
 * separate process: `node bench/load.mjs '<json job>'`. Prints one JSON line with
 * the result on stdout. Every loop here is bounded in count and time; it only
 * connects to the URLs it is given (the benchmark passes 127.0.0.1 ones).
 *
 * Jobs:
 * (`key`: the client key sent, default "bench-client-key"; a probe target may name its own.)
 * - {mode:"cannon", url, body, connections, seconds, key?}: autocannon for a fixed time;
 *   latency percentiles are computed from every response's own time (µs precision,
 *   autocannon's histogram keeps whole milliseconds only).
 * - {mode:"warm", targets:[{url,body,key?}], connections, seconds}: autocannon on each target in
 *   turn (a warm-up, in one process); prints {"warmed":n}.
 * - {mode:"probe", targets:[{name,url,body}], count, warmup}: one request at a time,
 *   the targets interleaved, each timed to the first body byte and to the end.
 * - {mode:"idle", url, body, count, holdSeconds}: opens `count` streams at once and
 *   waits for the first body byte of each (giving up when none has come for 3 s), prints
 *   {"open":n,"failed":n}, then holds them until a
 *   line arrives on stdin (or holdSeconds pass), closes them all and prints {"closed":n}.
 * - {mode:"burst", url, body, count, key?, timeoutS}: sends `count` streaming requests at once
 *   (one connection each) and reads every answer to its end; {ok, failed, seconds, minBytes, maxBytes}.
 */
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const autocannon = require("autocannon");

const job = JSON.parse(process.argv[2] ?? "{}");
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
function summary(values) {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

async function cannon({ url, body, connections, seconds, key = "bench-client-key" }) {
  const times = [];
  let minBytes = Infinity;
  let maxBytes = 0;
  const result = await new Promise((resolve, reject) => {
    const inst = autocannon(
      {
        url,
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": key },
        body,
        connections,
        duration: seconds,
        timeout: 30,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    inst.on("response", (_client, status, bytes, ms) => {
      if (status < 200 || status > 299) return;
      if (times.length < 5_000_000) times.push(ms);
      if (bytes < minBytes) minBytes = bytes;
      if (bytes > maxBytes) maxBytes = bytes;
    });
  });
  const lat = summary(times);
  const ok = result.requests.total - result.non2xx;
  return {
    requests: result.requests.total,
    rps: ok / result.duration,
    seconds: result.duration,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    p50: lat.p50,
    p99: lat.p99,
    minBytes: Number.isFinite(minBytes) ? minBytes : 0,
    maxBytes,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One POST: ms to the first body byte and to the end of the body, and the body size. */
function timedPost(url, body, a = agent, key = "bench-client-key") {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let first = 0;
    let bytes = 0;
    const req = http.request(url, { method: "POST", agent: a, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-api-key": key } }, (res) => {
      res.on("data", (d) => {
        if (!first) first = Number(process.hrtime.bigint() - t0) / 1e6;
        bytes += d.length;
      });
      res.on("end", () => {
        const total = Number(process.hrtime.bigint() - t0) / 1e6;
        if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
        else resolve({ ttfb: first, total, bytes });
      });
      res.on("error", reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${url}: no answer in 30 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

async function probe({ targets, count, warmup }) {
  const agents = targets.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const samples = targets.map(() => ({ ttfb: [], total: [], bytes: 0 }));
  for (let i = 0; i < warmup + count; i++) {
    // Alternate which target goes first, so neither always follows the other.
    for (let k = 0; k < targets.length; k++) {
      const j = (i + k) % targets.length;
      const t = targets[j];
      const r = await timedPost(t.url, t.body, agents[j], t.key);
      if (i >= warmup) {
        samples[j].ttfb.push(r.ttfb);
        samples[j].total.push(r.total);
        samples[j].bytes = r.bytes;
      }
    }
  }
  for (const a of agents) a.destroy();
  return Object.fromEntries(targets.map((t, j) => [t.name, { ttfb: summary(samples[j].ttfb), total: summary(samples[j].total), bytes: samples[j].bytes }]));
}

async function idle({ url, body, count, holdSeconds }) {
  const a = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const reqs = [];
  let failed = 0;
  const opened = await new Promise((resolve) => {
    let n = 0;
    let settled = 0;
    // Give up when no stream has opened for 3 s (a cap in the server) or after 30 s.
    let lastProgress = Date.now();
    const started = Date.now();
    const watch = setInterval(() => {
      if (Date.now() - lastProgress > 3000 || Date.now() - started > 30_000) {
        clearInterval(watch);
        resolve(n);
      }
    }, 250);
    const settle = () => {
      lastProgress = Date.now();
      if (++settled === count) {
        clearInterval(watch);
        resolve(n);
      }
    };
    for (let i = 0; i < count; i++) {
      const req = http.request(url, { method: "POST", agent: a, headers: { "content-type": "application/json", "x-api-key": "bench-client-key" } }, (res) => {
        res.once("data", () => {
          if (res.statusCode === 200) n++;
          else failed++;
          settle();
        });
        res.on("error", () => {});
      });
      req.on("error", () => {
        failed++;
        settle();
      });
      req.end(body);
      reqs.push(req);
    }
  });
  out({ open: opened, failed });
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, holdSeconds * 1000);
    process.stdin.once("data", () => {
      clearTimeout(timer);
      resolve();
    });
    process.stdin.once("end", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  for (const r of reqs) r.destroy();
  a.destroy();
  process.stdin.pause();
  return { closed: reqs.length };
}

async function burst({ url, body, count, key = "bench-client-key", timeoutS = 120 }) {
  const a = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const t0 = process.hrtime.bigint();
  let ok = 0;
  let failed = 0;
  let minBytes = Infinity;
  let maxBytes = 0;
  const one = () =>
    new Promise((resolve) => {
      let bytes = 0;
      let settled = false;
      const fail = () => {
        if (settled) return;
        settled = true;
        failed++;
        resolve();
      };
      const req = http.request(url, { method: "POST", agent: a, headers: { "content-type": "application/json", "x-api-key": key } }, (res) => {
        res.on("data", (d) => (bytes += d.length));
        res.on("end", () => {
          if (settled) return;
          if (res.statusCode !== 200) return fail();
          settled = true;
          ok++;
          if (bytes < minBytes) minBytes = bytes;
          if (bytes > maxBytes) maxBytes = bytes;
          resolve();
        });
        res.on("error", fail);
      });
      req.setTimeout(timeoutS * 1000, () => req.destroy(new Error("timeout")));
      req.on("error", fail);
      req.end(body);
    });
  await Promise.all(Array.from({ length: count }, one));
  a.destroy();
  return { ok, failed, seconds: Number(process.hrtime.bigint() - t0) / 1e9, minBytes: Number.isFinite(minBytes) ? minBytes : 0, maxBytes };
}

async function warm({ targets, connections, seconds }) {
  for (const t of targets) await cannon({ url: t.url, body: t.body, key: t.key, connections, seconds });
  return { warmed: targets.length };
}

const modes = { cannon, warm, probe, idle, burst };
const run = modes[job.mode];
if (!run) {
  process.stderr.write(`load.mjs: unknown mode ${JSON.stringify(job.mode)}\n`);
  process.exit(2);
}
try {
  out(await run(job));
  process.exit(0);
} catch (e) {
  process.stderr.write(`load.mjs: ${e?.stack ?? e}\n`);
  process.exit(1);
}
