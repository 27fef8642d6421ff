// A bar chart as inline SVG: one bar per point, a value axis with round ticks.
// No style attributes (the page's CSP allows none): colours come from style.css classes.

const NS = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A "nice" step (1, 2 or 5 × 10^n) giving about `count` ticks up to `max`. */
function niceStep(max, count) {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/**
 * `points`: [{label, value}], in order. `format` turns a value into text; `tickFormat(value, decimals)`, an axis tick.
 * Returns an <svg> with role="img", a title and a description listing every value.
 */
export function barChart(points, { title, format = String, tickFormat, width = 720, height = 240 } = {}) {
  const pad = { top: 12, right: 12, bottom: 44, left: 72 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const max = Math.max(0, ...points.map((p) => p.value));
  const step = max > 0 ? niceStep(max, 4) : 1;
  const top = max > 0 ? Math.ceil(max / step) * step : 1;

  const id = `chart-${Math.random().toString(36).slice(2, 8)}`;
  const svg = el("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "bar-chart",
    role: "img",
    "aria-labelledby": `${id}-t ${id}-d`,
    preserveAspectRatio: "xMidYMid meet",
  });
  svg.append(el("title", { id: `${id}-t` }, title));
  svg.append(
    el(
      "desc",
      { id: `${id}-d` },
      points.length ? points.map((p) => `${p.label}: ${format(p.value)}`).join("; ") : "No data in this range.",
    ),
  );

  const y = (v) => pad.top + plotH - (v / top) * plotH;
  // Ticks show as many decimals as their step needs.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const tick = tickFormat ? (v) => tickFormat(v, decimals) : format;
  const axis = el("g", { class: "axis", "aria-hidden": "true" });
  for (let i = 0, v = 0; v <= top + step / 2 && i <= 20; i++, v = i * step) {
    axis.append(el("line", { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: v === 0 ? "base" : "grid" }));
    axis.append(el("text", { x: pad.left - 6, y: y(v) + 4, "text-anchor": "end" }, tick(v)));
  }
  svg.append(axis);

  if (!points.length) {
    svg.append(el("text", { x: pad.left + plotW / 2, y: pad.top + plotH / 2, "text-anchor": "middle", class: "empty" }, "No data in this range"));
    return svg;
  }

  const slot = plotW / points.length;
  const barW = Math.max(1, Math.min(48, slot * 0.7));
  // Label at most ~12 bars so the labels never overlap.
  const every = Math.ceil(points.length / 12);
  const bars = el("g", { class: "bars" });
  points.forEach((p, i) => {
    const x = pad.left + i * slot + (slot - barW) / 2;
    const h = Math.max(p.value > 0 ? 1 : 0, pad.top + plotH - y(p.value));
    const bar = el("rect", { x, y: pad.top + plotH - h, width: barW, height: h, class: "bar" });
    bar.append(el("title", {}, `${p.label}: ${format(p.value)}`));
    bars.append(bar);
    if (i % every === 0) {
      bars.append(el("text", { x: x + barW / 2, y: height - pad.bottom + 16, "text-anchor": "middle", class: "label", "aria-hidden": "true" }, p.label));
    }
  });
  svg.append(bars);
  return svg;
}
