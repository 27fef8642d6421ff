/** LocalHistogram: the per-request histograms kept without prom-client, written as exposition text. */
import { expect, test } from "bun:test";
import { LocalHistogram } from "../../src/metrics/histogram";
import { parsePrometheus } from "../helpers/prometheus";

test("cumulative buckets, +Inf equal to the count, the sum, one series per label set", () => {
  const h = new LocalHistogram("h_seconds", "help text", [0.1, 1]);
  h.observe({ route: "/a" }, 0.05);
  h.observe({ route: "/a" }, 0.5);
  h.observe({ route: "/a" }, 7);
  h.observe({ route: "/b" }, 1);
  h.observe({ route: "/b" }, -1); // not a duration: ignored
  h.observe({ route: "/b" }, Number.NaN);
  const text = h.text();
  parsePrometheus(text); // checks the grammar: cumulative buckets, +Inf = _count
  expect(text).toContain('h_seconds_bucket{le="0.1",route="/a"} 1');
  expect(text).toContain('h_seconds_bucket{le="1",route="/a"} 2');
  expect(text).toContain('h_seconds_bucket{le="+Inf",route="/a"} 3');
  expect(text).toContain('h_seconds_sum{route="/a"} 7.55');
  expect(text).toContain('h_seconds_count{route="/b"} 1');
  expect(text.startsWith("# HELP h_seconds help text\n# TYPE h_seconds histogram\n")).toBe(true);
});

test("label values are escaped as the exposition format requires", () => {
  const h = new LocalHistogram("t", "x", [1]);
  h.observe({ model: 'a"b\\c\nd' }, 0.5);
  expect(h.text()).toContain('t_count{model="a\\"b\\\\c\\nd"} 1');
  parsePrometheus(h.text());
});
