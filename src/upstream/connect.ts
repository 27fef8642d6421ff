/**
 * Connect timeout. Bun's fetch has no connect timeout of its own, so when an
 * upstream host has not answered lately ("cold"), a plain TCP connection to it is
 * opened beside the request. If that probe has not connected within the timeout,
 * the host is unreachable (black-holed, down, wrong address) and the request is
 * aborted long before the first-byte timeout would fire. The probe runs in
 * parallel, so it adds no latency; concurrent requests share one probe; a host
 * that answered in the last few seconds is not probed at all. Behind an HTTP
 * proxy (HTTP(S)_PROXY / ALL_PROXY set) the probe is skipped: the host may be
 * reachable only through the proxy.
 */

/** A host that answered within this window is considered reachable. */
const WARM_MS = 15_000;

interface Probe {
  connected: boolean;
}

const noop = () => {};

export class ConnectWatch {
  private readonly warmUntil = new Map<string, number>();
  private readonly probes = new Map<string, Probe>();
  private readonly proxied: boolean;

  constructor(env: Record<string, string | undefined> = process.env) {
    this.proxied = ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"].some((k) => !!(env[k] || env[k.toLowerCase()]));
  }

  /** The upstream at `url` answered: skip probes for a while. */
  alive(url: URL): void {
    this.warmUntil.set(hostKey(url), performance.now() + WARM_MS);
  }

  /**
   * Watch the connection to `url`: calls `onTimeout` if the host cannot be
   * connected to within `timeoutMs`. Returns the function that ends the watch.
   */
  watch(url: URL, timeoutMs: number, onTimeout: () => void): () => void {
    if (this.proxied || timeoutMs <= 0) return noop;
    const key = hostKey(url);
    if ((this.warmUntil.get(key) ?? 0) > performance.now()) return noop;
    let probe = this.probes.get(key);
    if (!probe) probe = this.start(key, url);
    if (probe.connected) return noop;
    const p = probe;
    const timer = setTimeout(() => {
      if (!p.connected) onTimeout();
    }, timeoutMs);
    return () => clearTimeout(timer);
  }

  private start(key: string, url: URL): Probe {
    const probe: Probe = { connected: false };
    this.probes.set(key, probe);
    const done = () => {
      if (this.probes.get(key) === probe) this.probes.delete(key);
    };
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    const hostname = url.hostname.replace(/^\[|\]$/g, "");
    Bun.connect({
      hostname,
      port,
      socket: {
        open: (socket) => {
          probe.connected = true;
          this.alive(url);
          done();
          socket.end();
        },
        data: noop,
        error: noop,
        connectError: done,
      },
    }).catch(done); // refused, DNS failure: fetch reports those itself
    return probe;
  }
}

function hostKey(url: URL): string {
  return `${url.protocol}//${url.host}`;
}
