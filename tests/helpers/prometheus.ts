/**
 * A strict parser of the Prometheus text exposition format (0.0.4): throws on
 * any line a scraper would reject, and checks each family's samples against
 * its TYPE (histogram buckets cumulative, +Inf equal to _count).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: string;
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<string, string[]> = {
  counter: [""],
  gauge: [""],
  untyped: [""],
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

/** As Prometheus reads a value (Go's ParseFloat): NaN and Inf in any case — prom-client writes "Nan". */
function parseValue(s: string, line: string): number {
  if (/^[-+]?nan$/i.test(s)) return NaN;
  if (/^\+?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value ${JSON.stringify(s)} in: ${line}`);
  return Number(s);
}

/** `{a="x",b="y\"z"}` → labels, and where the label set ends. */
function parseLabels(text: string, at: number, line: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  for (let n = 0; n < 1000; n++) {
    if (text[i] === "}") return { labels, end: i + 1 };
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`bad labels in: ${line}`);
    const key = text.slice(i, eq);
    if (!LABEL.test(key)) throw new Error(`bad label name ${JSON.stringify(key)} in: ${line}`);
    if (key in labels) throw new Error(`repeated label ${key} in: ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\\") {
        const next = text[++j];
        if (next === "n") value += "\n";
        else if (next === "\\" || next === '"') value += next;
        else throw new Error(`bad escape in: ${line}`);
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated label value in: ${line}`);
    labels[key] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`expected , or } in: ${line}`);
  }
  throw new Error(`too many labels in: ${line}`);
}

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      let fam = families.get(name);
      if (!fam) {
        fam = { name, type: "untyped", samples: [] };
        families.set(name, fam);
      } else if (fam.samples.length) throw new Error(`${kind} after samples for ${name}`);
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`bad type in: ${line}`);
        fam.type = rest;
      } else fam.help = rest;
      current = fam;
      continue;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`bad sample: ${line}`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (line[i] === "{") ({ labels, end: i } = parseLabels(line, i, line));
    if (line[i] !== " ") throw new Error(`expected a space before the value in: ${line}`);
    const [value, timestamp, extra] = line.slice(i + 1).split(" ");
    if (value === undefined || extra !== undefined) throw new Error(`bad sample: ${line}`);
    if (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) throw new Error(`bad timestamp in: ${line}`);
    const fam = current;
    if (!fam || !SUFFIXES[fam.type]!.some((s) => fam.name + s === name)) throw new Error(`sample ${name} outside its family`);
    fam.samples.push({ name, labels, value: parseValue(value, line) });
  }
  for (const fam of families.values()) if (fam.type === "histogram") checkHistogram(fam);
  return families;
}

function checkHistogram(fam: Family): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  const keyOf = (labels: Record<string, string>) =>
    JSON.stringify(Object.entries(labels).filter(([k]) => k !== "le").sort());
  for (const s of fam.samples) {
    const entry = series.get(keyOf(s.labels)) ?? { buckets: [] };
    series.set(keyOf(s.labels), entry);
    if (s.name.endsWith("_bucket")) {
      if (s.labels.le === undefined) throw new Error(`${fam.name}: bucket without le`);
      entry.buckets.push([parseValue(s.labels.le, s.name), s.value]);
    } else if (s.name.endsWith("_count")) entry.count = s.value;
  }
  for (const [key, { buckets, count }] of series) {
    const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]![1] < sorted[i - 1]![1]) throw new Error(`${fam.name}${key}: buckets not cumulative`);
    }
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Infinity) throw new Error(`${fam.name}${key}: no +Inf bucket`);
    if (inf[1] !== count) throw new Error(`${fam.name}${key}: +Inf bucket ${inf[1]} != _count ${count}`);
  }
}

/** The value of the sample `name` whose labels include `labels`; 0 when there is none yet. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const fam of families.values()) {
    for (const s of fam.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return 0;
}
