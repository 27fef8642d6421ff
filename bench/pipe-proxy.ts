/**
 * The floor any Bun gateway has: a bare proxy that forwards each request to the upstream
 * (same path, same body) and pipes the upstream's answer back untouched, with nothing of
 * ours in between. Measured beside the gateway, it says which part of the cost is Bun's
 * (an HTTP server, an HTTP client, a stream handed from one to the other) and which is ours.
 *
 *   bun bench/pipe-proxy.ts --upstream http://127.0.0.1:PORT [--port N]
 *
 * Prints `ready <port>` on stdout once listening. 127.0.0.1 only.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { port: { type: "string", default: "0" }, upstream: { type: "string" } },
});
if (!values.upstream) throw new Error("--upstream is required");
const upstream = values.upstream.replace(/\/$/, "");

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  idleTimeout: 0,
  async fetch(req) {
    const url = new URL(req.url);
    const res = await fetch(upstream + url.pathname, {
      method: req.method,
      headers: { "content-type": req.headers.get("content-type") ?? "application/json", authorization: "Bearer bench-upstream-key" },
      body: req.method === "GET" ? undefined : await req.arrayBuffer(),
      signal: req.signal,
    });
    return new Response(res.body, { status: res.status, headers: { "content-type": res.headers.get("content-type") ?? "application/octet-stream" } });
  },
});

process.stdout.write(`ready ${server.port}\n`);
const stop = () => {
  server.stop(true);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
