import { formatHours } from "./format.js";
import type { Metrics, UsageReport } from "./types.js";

/**
 * The report as one self-contained page (report.md §7): totals, bar charts as inline SVG,
 * the tables. No scripts, no external styles, fonts or images; everything from the report
 * is escaped, because flavor codes, pool ids and reasons come from users or the upstream.
 */

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const flavorLabel = (f: string | null) => f ?? "(none)";
const poolLabel = (p: string | null) => p ?? "(public pool)";

interface Bar {
  label: string;
  value: number;
}

const MAX_BARS = 15;

/** Horizontal bars, top 15 then "others"; the SVG scales to the page width. */
function barChart(title: string, unit: string, bars: Bar[]): string {
  const sorted = bars.filter((b) => b.value > 0).sort((a, b) => b.value - a.value);
  if (sorted.length === 0) {
    return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><p class="empty">No ${escapeHtml(unit)} this day</p></figure>`;
  }
  const shown = sorted.slice(0, MAX_BARS);
  const rest = sorted.slice(MAX_BARS).reduce((s, b) => s + b.value, 0);
  if (rest > 0) shown.push({ label: `others (${sorted.length - MAX_BARS})`, value: rest });
  const max = Math.max(...shown.map((b) => b.value));
  const rowHeight = 26;
  const width = 600;
  const labelWidth = 230;
  const barSpace = width - labelWidth - 110;
  const rows = shown
    .map((b, i) => {
      const y = i * rowHeight;
      const w = Math.max(1, Math.round((b.value / max) * barSpace));
      const label = b.label.length > 34 ? `${b.label.slice(0, 33)}…` : b.label;
      return [
        `<g transform="translate(0 ${y})">`,
        `<title>${escapeHtml(b.label)}: ${formatHours(b.value)} ${escapeHtml(unit)}</title>`,
        `<text x="${labelWidth - 8}" y="17" text-anchor="end">${escapeHtml(label)}</text>`,
        `<rect x="${labelWidth}" y="4" width="${w}" height="18" rx="2"></rect>`,
        `<text x="${labelWidth + w + 6}" y="17">${formatHours(b.value)}</text>`,
        "</g>",
      ].join("");
    })
    .join("");
  const height = shown.length * rowHeight;
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" preserveAspectRatio="xMinYMin meet">${rows}</svg></figure>`;
}

const METRIC_COLUMNS: [keyof Metrics, string][] = [
  ["versions_active", "active"],
  ["versions_created", "created"],
  ["versions_failed", "failed"],
  ["gpus", "GPUs"],
  ["npus", "NPUs"],
  ["peak_gpus", "peak GPUs"],
  ["peak_npus", "peak NPUs"],
  ["gpu_hours", "GPU-h"],
  ["npu_hours", "NPU-h"],
  ["run_hours", "run-h"],
];

function metricCells(m: Metrics): string {
  return METRIC_COLUMNS.map(([key]) => {
    const v = m[key];
    const text = key.endsWith("_hours") && typeof v === "number" ? formatHours(v) : String(v);
    return `<td class="n">${escapeHtml(text)}</td>`;
  }).join("");
}

function table(keyHeaders: string[], rows: { keys: string[]; metrics: Metrics }[]): string {
  if (rows.length === 0) return '<p class="empty">Nothing this day.</p>';
  const head = [...keyHeaders, ...METRIC_COLUMNS.map(([, h]) => h)]
    .map((h) => `<th scope="col">${escapeHtml(h)}</th>`)
    .join("");
  const body = rows
    .map(
      (r) =>
        `<tr>${r.keys.map((k) => `<th scope="row">${escapeHtml(k)}</th>`).join("")}${metricCells(r.metrics)}</tr>`,
    )
    .join("");
  return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

function card(label: string, value: string): string {
  return `<div class="card"><div class="v">${escapeHtml(value)}</div><div class="l">${escapeHtml(label)}</div></div>`;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b6570;--bg:#fff;--line:#d8dee4;--bar:#2f6fde;--card:#f4f6f8}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ed;--muted:#9aa5b1;--bg:#111418;--line:#2c333b;--bar:#5b9bff;--card:#1a1f25}}
*{box-sizing:border-box}body{margin:0;padding:1rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);max-width:1100px;margin-inline:auto}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
.meta{color:var(--muted);font-size:.85rem;overflow-wrap:anywhere}.meta a{color:inherit}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.5rem}
.card{background:var(--card);border-radius:6px;padding:.5rem .7rem}.card .v{font-size:1.25rem;font-weight:600;font-variant-numeric:tabular-nums}.card .l{color:var(--muted);font-size:.8rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:1rem}
.chart{margin:0}.chart figcaption{font-weight:600;margin-bottom:.3rem}.chart svg{width:100%;height:auto;font-size:13px}
.chart rect{fill:var(--bar)}.chart text{fill:var(--fg)}.empty{color:var(--muted);font-style:italic}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{padding:.3rem .5rem;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
thead th{position:sticky;top:0;background:var(--bg)}tbody th{font-weight:500;max-width:22rem;overflow:hidden;text-overflow:ellipsis}
`;

export interface HtmlOptions {
  readonly csvHref?: string | undefined;
  readonly jsonHref?: string | undefined;
}

export function renderReportHtml(report: UsageReport, opts: HtmlOptions = {}): string {
  const t = report.totals;
  const links = [
    opts.csvHref ? `<a href="${escapeHtml(opts.csvHref)}">usage.csv</a>` : "",
    opts.jsonHref ? `<a href="${escapeHtml(opts.jsonHref)}">report.json</a>` : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const failures = Object.entries(t.failures_by_status)
    .map(([code, n]) => `${code}: ${n}`)
    .join(", ");
  const reasons = Object.entries(report.anomalies.reasons);
  const title = `ModelArts usage ${report.report_date} (${report.timezone})`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<header><h1>${escapeHtml(title)}</h1>
<p class="meta">Window ${escapeHtml(report.window.start)} – ${escapeHtml(report.window.end)} · generated ${escapeHtml(report.generated_at)}<br>
Source ${escapeHtml(report.source.endpoint)} · project ${escapeHtml(report.source.project_id)} · ${report.source.versions_scanned} versions scanned in ${report.source.pages} pages${links ? ` · ${links}` : ""}</p></header>
<section><h2>Totals</h2><div class="cards">
${card("versions active", String(t.versions_active))}${card("versions created", String(t.versions_created))}${card("versions failed", String(t.versions_failed))}
${card("GPUs (sum over active)", String(t.gpus))}${card("peak GPUs at once", String(t.peak_gpus))}${card("GPU-hours", formatHours(t.gpu_hours))}
${card("NPUs (sum over active)", String(t.npus))}${card("peak NPUs at once", String(t.peak_npus))}${card("NPU-hours", formatHours(t.npu_hours))}
${card("run-hours", formatHours(t.run_hours))}
</div><p class="meta">Failures by status (${escapeHtml(report.failure_statuses.join(", "))}): ${escapeHtml(failures || "none")}</p></section>
<section><h2>Charts</h2><div class="charts">
${barChart(
  "GPU-hours by flavor",
  "GPU-hours",
  report.by_flavor.map((r) => ({ label: flavorLabel(r.flavor_code), value: r.gpu_hours })),
)}
${barChart(
  "GPU-hours by pool",
  "GPU-hours",
  report.by_pool.map((r) => ({ label: poolLabel(r.pool_id), value: r.gpu_hours })),
)}
${barChart(
  "NPU-hours by flavor",
  "NPU-hours",
  report.by_flavor.map((r) => ({ label: flavorLabel(r.flavor_code), value: r.npu_hours })),
)}
${barChart(
  "NPU-hours by pool",
  "NPU-hours",
  report.by_pool.map((r) => ({ label: poolLabel(r.pool_id), value: r.npu_hours })),
)}
</div></section>
<section><h2>By flavor</h2>${table(
    ["flavor"],
    report.by_flavor.map((r) => ({ keys: [flavorLabel(r.flavor_code)], metrics: r })),
  )}</section>
<section><h2>By pool</h2>${table(
    ["pool"],
    report.by_pool.map((r) => ({ keys: [poolLabel(r.pool_id)], metrics: r })),
  )}</section>
<section><h2>By flavor and pool</h2>${table(
    ["flavor", "pool"],
    report.by_flavor_pool.map((r) => ({
      keys: [flavorLabel(r.flavor_code), poolLabel(r.pool_id)],
      metrics: r,
    })),
  )}</section>
<section><h2>Statuses</h2><div class="scroll"><table><thead><tr><th scope="col">status</th><th scope="col">name</th><th scope="col">versions</th></tr></thead><tbody>
${report.statuses.map((s) => `<tr><td class="n">${s.status}</td><td>${escapeHtml(s.name)}</td><td class="n">${s.versions}</td></tr>`).join("")}
</tbody></table></div></section>
<section><h2>Anomalies</h2><p>${report.anomalies.skipped} bad record${report.anomalies.skipped === 1 ? "" : "s"} skipped in the scan.</p>
${reasons.length > 0 ? `<ul>${reasons.map(([r, n]) => `<li>${escapeHtml(r)}: ${n}</li>`).join("")}</ul>` : ""}</section>
</body></html>
`;
}
