// Turns the RESULT lines of a benchmark run into the tables run.sh prints,
// adds the awaitly/signoff ratios as RESULT lines, prints every RESULT line
// once, and writes the SVG chart of time per cycle and resident memory
// against the number of waiting runs.
//
// Usage: node report.mjs RESULTS_FILE CHART_SVG

import { readFileSync, writeFileSync } from "node:fs";

const [resultsFile, chartFile] = process.argv.slice(2);

function parseResults(text) {
  const figures = [];
  for (const line of text.split("\n")) {
    const m = /^RESULT name=(\S+) value=(\S+) unit=(\S+)$/.exec(line);
    if (m) figures.push({ name: m[1], value: Number(m[2]), unit: m[3] });
  }
  return figures;
}

const waitingFigures = ["pause_rate", "wake_rate", "rss_per_run", "wake_p50", "wake_p99", "cycle_time"];

/// Figures of the waiting-runs scenarios by series, then waiting count:
/// `pending.memory.n1000.pause_rate` is series `pending.memory`, n 1000.
function bySeries(figures) {
  const series = new Map();
  for (const f of figures) {
    const m = /^((?:pending|awaitly)\.[^.]+)\.n(\d+)\.(\w+)$/.exec(f.name);
    if (!m) continue;
    if (!series.has(m[1])) series.set(m[1], new Map());
    const points = series.get(m[1]);
    const n = Number(m[2]);
    if (!points.has(n)) points.set(n, {});
    points.get(n)[m[3]] = f.value;
  }
  return series;
}

function formatNumber(v) {
  if (v === undefined) return "-";
  if (Math.abs(v) >= 100) return Math.round(v).toString();
  return Number(v.toPrecision(3)).toString();
}

function printTable(title, header, rows) {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells) => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join("  ");
  console.log(`\n${title}\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const r of rows) console.log(line(r));
}

function printWaitingTable(series) {
  const rows = [];
  for (const [name, points] of series)
    for (const [n, p] of [...points].sort((a, b) => a[0] - b[0]))
      rows.push([name, String(n), ...waitingFigures.map((f) => formatNumber(p[f]))]);
  printTable("Waiting runs (rates in runs/s, memory in bytes per waiting run, latencies and cycle in us)",
    ["series", "waiting", "pause/s", "wake/s", "B/run", "wake p50", "wake p99", "us/cycle"], rows);
}

function printOtherTable(figures) {
  const rows = figures
    .filter((f) => !/^(pending|awaitly)\./.test(f.name))
    .map((f) => [f.name, formatNumber(f.value), f.unit]);
  printTable("Other figures", ["figure", "value", "unit"], rows);
}

/// awaitly's figure over signoff's (in-memory store) at the same number of
/// waiting runs: above 1, signoff is faster or smaller.
function ratios(series) {
  const signoff = series.get("pending.memory") ?? new Map();
  const out = [];
  for (const [name, points] of series) {
    if (!name.startsWith("awaitly.")) continue;
    for (const [n, p] of points) {
      const s = signoff.get(n);
      if (!s) continue;
      for (const f of ["cycle_time", "rss_per_run"])
        if (s[f] > 0 && p[f] > 0)
          out.push({ name: `ratio.${name.replace(".", "-")}_vs_signoff-memory.n${n}.${f}`, value: p[f] / s[f], unit: "x" });
    }
  }
  return out;
}

// ---- the chart --------------------------------------------------------------

const colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

/// A log-scale axis over whole decades covering `values`.
function logAxis(values, from, to) {
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  return { lo, hi, at: (v) => from + ((Math.log10(v) - lo) / (hi - lo)) * (to - from) };
}

function panel(series, x0, title, valueOf) {
  const w = 400, h = 280, top = 50, left = x0 + 60;
  const lines = [...series].map(([name, points]) => ({
    name,
    points: [...points].map(([n, p]) => [n, valueOf(n, p)]).filter(([, v]) => v > 0).sort((a, b) => a[0] - b[0]),
  })).filter((l) => l.points.length > 0);
  const all = lines.flatMap((l) => l.points);
  if (all.length === 0) return "";
  const xs = logAxis(all.map(([n]) => n), left, left + w);
  const ys = logAxis(all.map(([, v]) => v), top + h, top);
  let svg = `<text x="${left + w / 2}" y="${top - 20}" text-anchor="middle" font-weight="bold">${title}</text>`;
  svg += `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#444"/>`;
  for (let d = xs.lo; d <= xs.hi; ++d) {
    const x = xs.at(10 ** d);
    svg += `<line x1="${x}" y1="${top}" x2="${x}" y2="${top + h}" stroke="#ddd"/><text x="${x}" y="${top + h + 16}" text-anchor="middle">${formatNumber(10 ** d)}</text>`;
  }
  for (let d = ys.lo; d <= ys.hi; ++d) {
    const y = ys.at(10 ** d);
    svg += `<line x1="${left}" y1="${y}" x2="${left + w}" y2="${y}" stroke="#ddd"/><text x="${left - 6}" y="${y + 4}" text-anchor="end">${formatNumber(10 ** d)}</text>`;
  }
  svg += `<text x="${left + w / 2}" y="${top + h + 34}" text-anchor="middle">waiting runs</text>`;
  lines.forEach((l, k) => {
    const c = colors[k % colors.length];
    const pts = l.points.map(([n, v]) => `${xs.at(n).toFixed(1)},${ys.at(v).toFixed(1)}`);
    svg += `<polyline points="${pts.join(" ")}" fill="none" stroke="${c}" stroke-width="2"/>`;
    svg += pts.map((p) => `<circle cx="${p.split(",")[0]}" cy="${p.split(",")[1]}" r="3" fill="${c}"/>`).join("");
  });
  return svg;
}

function legend(series, y) {
  return [...series.keys()].map((name, k) => {
    const x = 70 + (k % 3) * 300, row = y + Math.floor(k / 3) * 18;
    return `<rect x="${x}" y="${row - 9}" width="14" height="4" fill="${colors[k % colors.length]}"/><text x="${x + 20}" y="${row - 4}">${name}</text>`;
  }).join("");
}

function chart(series) {
  const rows = Math.ceil(series.size / 3);
  const height = 400 + rows * 18;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="${height}" font-family="sans-serif" font-size="12">`
    + `<rect width="100%" height="100%" fill="white"/>`
    + panel(series, 0, "time per cycle (us)", (n, p) => p.cycle_time)
    + panel(series, 480, "resident memory of the waiting runs (MiB)", (n, p) => (p.rss_per_run * n) / 2 ** 20)
    + legend(series, 392)
    + `</svg>\n`;
}

const figures = parseResults(readFileSync(resultsFile, "utf8"));
const series = bySeries(figures);
const all = [...figures, ...ratios(series)];
printWaitingTable(series);
printOtherTable(all);
console.log("");
for (const f of all) console.log(`RESULT name=${f.name} value=${Number(f.value.toPrecision(6))} unit=${f.unit}`);
writeFileSync(chartFile, chart(series));
console.log(`\nchart: ${chartFile}`);
