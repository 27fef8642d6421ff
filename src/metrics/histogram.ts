/**
 * A Prometheus histogram kept in plain arrays and written as exposition text when
 * /metrics is read. The two per-request histograms live here rather than in
 * prom-client, so that serving requests never loads prom-client: it (with its
 * process metrics) is loaded on the first scrape, and a gateway nobody scrapes stays
 * ~2.5 MB smaller. Label sets are bounded by the caller (routes, MAX_MODELS models).
 */

interface Series {
  labels: Record<string, string>;
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/** A label value as the exposition format writes it: backslash, quote and newline escaped. */
const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class LocalHistogram {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(labels: Record<string, string>, value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const key = Object.values(labels).join("\u0000");
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 }));
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** The exposition text: HELP, TYPE, then per series its cumulative buckets, sum and count. */
  text(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      const own = labels.join(",");
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.counts[i]!;
        const le = i < this.buckets.length ? String(this.buckets[i]) : "+Inf";
        lines.push(`${this.name}_bucket{${[`le="${le}"`, ...labels].join(",")}} ${cumulative}`);
      }
      lines.push(`${this.name}_sum${own ? `{${own}}` : ""} ${s.sum}`, `${this.name}_count${own ? `{${own}}` : ""} ${s.count}`);
    }
    return lines.join("\n") + "\n";
  }
}
