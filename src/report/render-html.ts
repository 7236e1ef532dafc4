import { OUTCOMES, type Outcome, statusName } from "../modelarts/statuses.js";
import { formatHours, formatReadable } from "./format.js";
import { escapeHtml, OUTCOME_COLOURS, poolLabel } from "./html.js";
import { type Period as PeriodDescriptor, periodOfReport } from "./period.js";
import { dayContext, monthContext, type TrendOptions } from "./render-trend.js";
import type { StoredReport } from "./stored-schema.js";
import type { Metrics } from "./types.js";

/**
 * The report as one self-contained page (report.md §7, §9): totals with the change from the
 * day (month) before, the days around it from the history (a day page: the last 30 days; a
 * month page: its days), bar charts as inline SVG (GPU-hours by outcome, GPU- and NPU-hours by
 * flavor and by pool), the longest queue waits, and the tables. No scripts, no external styles, fonts
 * or images. Everything from the report is escaped: flavor codes, pool ids, job names and
 * reasons come from users or the upstream. Hours are written as in the files (formatHours, six
 * decimals at most), so a figure on the page can be found in report.json and the CSV files.
 */

const flavorLabel = (f: string | null) => f ?? "(none)";

/** How a figure is written: counts as integers, hours as in the files, money in cents. */
type Kind = "count" | "hours" | "cost";
/** What the page covers, in its sentences ("Nothing this day."): the period's word. */
type Period = PeriodDescriptor["word"];
/** The days around the report: a day's last 30 days, a month's days. */
const TREND_CONTEXT = { day: dayContext, month: monthContext } as const;

function fmt(x: number, kind: Kind): string {
  if (kind === "hours") return formatHours(x);
  if (kind === "cost") return x.toFixed(2);
  return String(x);
}

/** Longest chart label, in code points; longer ones keep both ends ("modelarts.v…0xv100"). */
const MAX_LABEL = 22;

/** Shortened by code points, so that no surrogate pair is cut in half. */
function shorten(label: string): string {
  const chars = Array.from(label);
  if (chars.length <= MAX_LABEL) return label;
  const head = Math.ceil((MAX_LABEL - 1) / 2);
  const tail = MAX_LABEL - 1 - head;
  return `${chars.slice(0, head).join("")}…${chars.slice(chars.length - tail).join("")}`;
}

interface Bar {
  label: string;
  /** Stacked segments, drawn in order. */
  /** `colour` undefined: the theme's bar colour (CSS variables do not work in SVG attributes). */
  parts: { value: number; colour: string | undefined; name: string }[];
}

/** The largest groups get a bar each; the rest are summed into one "others" bar. */
const MAX_BARS = 15;
const CHART_WIDTH = 500;
const LABEL_WIDTH = 190;
const ROW_HEIGHT = 28;
/** A generous width of one character of the value labels (14px sans-serif digits). */
const CHAR_WIDTH = 8.5;

/** Horizontal (optionally stacked) bars, the largest first; the rest summed as "others". */
function barChart(title: string, unit: string, bars: Bar[], period: Period): string {
  const total = (b: Bar) => b.parts.reduce((s, p) => s + p.value, 0);
  const sorted = bars.filter((b) => total(b) > 0).sort((a, b) => total(b) - total(a));
  const caption = `<figcaption>${escapeHtml(title)}</figcaption>`;
  if (sorted.length === 0) {
    return `<figure class="chart">${caption}<p class="empty">No ${escapeHtml(unit)} this ${period}</p></figure>`;
  }
  const shown = sorted.slice(0, MAX_BARS);
  const rest = sorted.slice(MAX_BARS);
  if (rest.length > 0) {
    const colour = shown[0]?.parts.length === 1 ? shown[0].parts[0]?.colour : "#868e96";
    shown.push({
      label: `${rest.length} others`,
      parts: [{ value: rest.reduce((s, b) => s + total(b), 0), colour, name: unit }],
    });
  }
  const max = Math.max(...shown.map(total));
  // Room after the longest bar for the longest value label, so that no label is clipped.
  const valueWidth = Math.max(...shown.map((b) => formatHours(total(b)).length)) * CHAR_WIDTH;
  const barSpace = CHART_WIDTH - LABEL_WIDTH - 10 - valueWidth;
  const rows = shown
    .map((b, i) => {
      let x = LABEL_WIDTH;
      const rects = b.parts
        .filter((p) => p.value > 0)
        .map((p) => {
          const w = Math.max(1, (p.value / max) * barSpace);
          const rect = `<rect x="${escapeHtml(x.toFixed(1))}" y="5" width="${escapeHtml(w.toFixed(1))}" height="18" ${p.colour === undefined ? 'class="b"' : `fill="${p.colour}"`}><title>${escapeHtml(`${b.label} · ${p.name}: ${formatHours(p.value)} ${unit}`)}</title></rect>`;
          x += w;
          return rect;
        })
        .join("");
      const label = shorten(b.label);
      // The full name is in a <title>, shown on hover, when the label had to be shortened.
      const full = label === b.label ? "" : `<title>${escapeHtml(b.label)}</title>`;
      return `<g transform="translate(0 ${i * ROW_HEIGHT})"><text x="${LABEL_WIDTH - 6}" y="19" text-anchor="end">${full}${escapeHtml(label)}</text>${rects}<text x="${escapeHtml((x + 5).toFixed(1))}" y="19">${escapeHtml(formatHours(total(b)))}</text></g>`;
    })
    .join("");
  const height = shown.length * ROW_HEIGHT;
  return `<figure class="chart">${caption}<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${CHART_WIDTH} ${escapeHtml(height)}" width="100%" preserveAspectRatio="xMinYMin meet">${rows}</svg></figure>`;
}

function simpleBars(rows: { label: string; value: number }[], unit: string): Bar[] {
  return rows.map((r) => ({
    label: r.label,
    parts: [{ value: r.value, colour: undefined, name: unit }],
  }));
}

function outcomeBars(rows: { label: string; hours: Record<Outcome, number> }[]): Bar[] {
  return rows.map((r) => ({
    label: r.label,
    parts: OUTCOMES.map((o) => ({ value: r.hours[o], colour: OUTCOME_COLOURS[o], name: o })),
  }));
}

function legend(): string {
  return `<p class="legend">${OUTCOMES.map((o) => `<span><i style="background:${OUTCOME_COLOURS[o]}"></i>${o}</span>`).join("")}</p>`;
}

const METRIC_COLUMNS: [keyof Metrics, string, Kind][] = [
  ["versions_active", "active", "count"],
  ["versions_created", "created", "count"],
  ["versions_started", "started", "count"],
  ["versions_failed", "failed", "count"],
  ["gpus", "GPUs", "count"],
  ["npus", "NPUs", "count"],
  ["peak_gpus", "peak GPUs", "count"],
  ["peak_npus", "peak NPUs", "count"],
  ["gpu_hours", "GPU-h", "hours"],
  ["npu_hours", "NPU-h", "hours"],
  ["run_hours", "run-h", "hours"],
  ["wait_hours", "wait-h", "hours"],
  ["cost", "cost", "cost"],
];

function metricCells(m: Metrics): string {
  return METRIC_COLUMNS.map(([key, , kind]) => {
    const v = m[key];
    const text = typeof v === "number" ? fmt(v, kind) : "–";
    return `<td>${escapeHtml(text)}</td>`;
  }).join("");
}

function table(
  keyHeaders: string[],
  rows: { keys: string[]; metrics: Metrics }[],
  period: Period,
): string {
  if (rows.length === 0) return `<p class="empty">Nothing this ${period}.</p>`;
  const head = [
    ...keyHeaders.map((h) => `<th scope="col" class="k">${escapeHtml(h)}</th>`),
    ...METRIC_COLUMNS.map(([, h]) => `<th scope="col">${escapeHtml(h)}</th>`),
  ].join("");
  const body = rows
    .map(
      (r) =>
        `<tr>${r.keys.map((k) => `<th scope="row" class="k" title="${escapeHtml(k)}">${escapeHtml(k)}</th>`).join("")}${metricCells(r.metrics)}</tr>`,
    )
    .join("");
  return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/**
 * A figure on a card: rounded for reading, with the exact figure (as in the files) in a title
 * where the two differ.
 */
function readable(className: string, exact: string, shown: string, after = ""): string {
  const title = exact === shown ? "" : ` title="${escapeHtml(exact)}"`;
  return `<div class="${className}"${title}>${escapeHtml(shown + after)}</div>`;
}

/** "+12.5 (+8%)" against the day (month) before; nothing without a previous report. */
function change(now: number, before: number | undefined, kind: Kind): string {
  if (before === undefined) return "";
  const d = now - before;
  const size = fmt(Math.abs(d), kind);
  if (Number(size) === 0) return '<div class="d">± 0</div>';
  const sign = d > 0 ? "+" : "−";
  const pct = before === 0 ? "" : ` (${sign}${Math.round(Math.abs((d / before) * 100))}%)`;
  const shown = `${sign}${formatReadable(Math.abs(d), kind)}`;
  return readable(`d ${d > 0 ? "up" : "down"}`, `${sign}${size}`, shown, pct);
}

function card(label: string, value: number, before: number | undefined, kind: Kind): string {
  return `<div class="card">${readable("v", fmt(value, kind), formatReadable(value, kind))}<div class="l">${escapeHtml(label)}</div>${change(value, before, kind)}</div>`;
}

export const PAGE_STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b6570;--bg:#fff;--line:#d8dee4;--bar:#2f6fde;--card:#f4f6f8;--up:#c92a2a;--down:#2b8a3e}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ed;--muted:#9aa5b1;--bg:#111418;--line:#2c333b;--bar:#5b9bff;--card:#1a1f25;--up:#ff8787;--down:#69db7c}}
*{box-sizing:border-box}body{margin:0 auto;padding:1rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);max-width:1280px}
h1{font-size:1.35rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
.nw{white-space:nowrap}.meta{color:var(--muted);font-size:.85rem}.meta a{color:inherit}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(10.5rem,1fr));gap:.5rem}
.card{background:var(--card);border-radius:6px;padding:.5rem .7rem}.card .v{font-size:1.1rem;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.card .l{color:var(--muted);font-size:.8rem}.card .d{font-size:.75rem;color:var(--muted)}.card .d.up{color:var(--up)}.card .d.down{color:var(--down)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:1rem 2rem}
.chart{margin:0}.chart figcaption{font-weight:600;margin-bottom:.3rem}.chart svg{display:block;font-size:14px}
.chart text{fill:var(--fg)}.chart rect.b{fill:var(--bar)}.empty{color:var(--muted);font-style:italic}
.chart line.g{stroke:var(--line)}.chart rect.hit{fill:var(--fg);fill-opacity:0}.chart rect.cur{fill:var(--fg);fill-opacity:.1}.chart text.cur{font-weight:700}
.chart a:hover rect.hit,.chart a:focus-visible rect.hit{fill-opacity:.08}.chart rect.m{fill:none;stroke:var(--muted);stroke-dasharray:3 3}
nav.meta a{display:inline-block;padding:.25rem 0}
.legend{font-size:.8rem;color:var(--muted);display:flex;flex-wrap:wrap;gap:.8rem;margin:.2rem 0 .6rem}.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-.1rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--line);border-radius:6px}
table{border-collapse:separate;border-spacing:0;font-size:.85rem;width:100%}
th,td{padding:.3rem .45rem;border-bottom:1px solid var(--line);white-space:nowrap;text-align:right;font-variant-numeric:tabular-nums}
th.k{text-align:left;position:sticky;left:0;background:var(--bg);min-width:7rem;max-width:15rem;white-space:normal;overflow-wrap:break-word;font-weight:500}
td.k{text-align:left}thead th{background:var(--card)}thead th.k{background:var(--card);font-weight:600}
table.narrow{width:auto}
@media (max-width:600px){body{padding:.75rem}th.k{max-width:13.5rem}th,td{padding:.3rem .4rem}}
`;

export interface HtmlOptions extends TrendOptions {
  readonly csvHref?: string | undefined;
  readonly jsonHref?: string | undefined;
}

export function renderReportHtml(report: StoredReport, opts: HtmlOptions = {}): string {
  const described = periodOfReport(report);
  const period: Period = described.word;
  const context = TREND_CONTEXT[described.kind](report.label, opts);
  const title = `ModelArts usage ${report.label} (${report.timezone})`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head>
<body>
${pageHeader(report, described, context.nav, opts)}
${totalsSection(report, period)}
${context.trend}
${chartsSection(report, period)}
<section><h2>Longest queue waits</h2>${waitsTable(report, period)}</section>
${groupSections(report, period)}
${statusesSection(report)}
${anomaliesSection(report)}
</body></html>
`;
}

/** The page's heading, its neighbours (`nav`), the window, the source and the file links. */
function pageHeader(
  report: StoredReport,
  period: PeriodDescriptor,
  nav: string,
  opts: HtmlOptions,
): string {
  const links = [
    opts.csvHref ? `<a href="${escapeHtml(opts.csvHref)}">usage.csv</a>` : "",
    opts.jsonHref ? `<a href="${escapeHtml(opts.jsonHref)}">report.json</a>` : "",
  ]
    .filter(Boolean)
    .join(" · ");
  return `<header><h1>ModelArts usage ${period.headingPrefix}<span class="nw">${escapeHtml(report.label)}</span> <span class="nw">(${escapeHtml(report.timezone)})</span></h1>${nav}
<p class="meta">Window <span class="nw">${escapeHtml(report.window.start)}</span> – <span class="nw">${escapeHtml(report.window.end)}</span> · generated <span class="nw">${escapeHtml(report.generated_at)}</span><br>
${sourceLine(report)} · ${escapeHtml(report.source.versions_scanned)} versions scanned in ${escapeHtml(report.source.pages)} pages${links ? ` · ${links}` : ""}</p></header>`;
}

/** Where the versions came from: the one listing, or how many sources (§10). */
function sourceLine(report: StoredReport): string {
  const { endpoint, project_id } = report.source;
  if (endpoint !== null && project_id !== null && report.sources.length <= 1) {
    return `Source ${escapeHtml(endpoint)} · project ${escapeHtml(project_id)}`;
  }
  return `${escapeHtml(report.sources.length)} sources`;
}

/** The totals as cards, each with its change from the period before, and failures by status. */
function totalsSection(report: StoredReport, period: Period): string {
  const t = report.totals;
  const p = report.previous ?? undefined;
  const failures = Object.entries(t.failures_by_status)
    .map(
      ([code, n]) =>
        `<span class="nw">${escapeHtml(code)} ${escapeHtml(statusName(Number(code)))}: <b>${escapeHtml(n)}</b></span>`,
    )
    .join(" · ");
  const costCard =
    t.cost === null
      ? ""
      : card(`cost (${report.currency ?? ""})`, t.cost, p?.cost ?? undefined, "cost");
  return `<section><h2>Totals${p === undefined ? "" : ` <span class="meta">(change from the ${period} before)</span>`}</h2><div class="cards">
${card("GPU-hours", t.gpu_hours, p?.gpu_hours, "hours")}${card("NPU-hours", t.npu_hours, p?.npu_hours, "hours")}${card("run-hours", t.run_hours, p?.run_hours, "hours")}${costCard}
${card("peak GPUs", t.peak_gpus, p?.peak_gpus, "count")}${card("peak NPUs", t.peak_npus, p?.peak_npus, "count")}${card("GPUs in use", t.gpus, p?.gpus, "count")}${card("NPUs in use", t.npus, p?.npus, "count")}
${card("versions active", t.versions_active, p?.versions_active, "count")}${card("created", t.versions_created, p?.versions_created, "count")}${card("started", t.versions_started, p?.versions_started, "count")}${card("failed", t.versions_failed, p?.versions_failed, "count")}
${card("queue wait (h)", t.wait_hours, p?.wait_hours, "hours")}${card("longest wait (h)", t.max_wait_hours, p?.max_wait_hours, "hours")}
</div><p class="meta">Failed versions by status: ${failures || "none"}</p></section>`;
}

/** GPU-hours by outcome and NPU-hours, by flavor and by pool, as bar charts. */
function chartsSection(report: StoredReport, period: Period): string {
  return `<section><h2>Where the hours went</h2>${legend()}<div class="charts">
${barChart("GPU-hours by flavor, by outcome", "GPU-hours", outcomeBars(report.by_flavor.map((r) => ({ label: flavorLabel(r.flavor_code), hours: r.gpu_hours_by_outcome }))), period)}
${barChart("GPU-hours by pool, by outcome", "GPU-hours", outcomeBars(report.by_pool.map((r) => ({ label: poolLabel(r.pool_id), hours: r.gpu_hours_by_outcome }))), period)}
${barChart(
  "NPU-hours by flavor",
  "NPU-hours",
  simpleBars(
    report.by_flavor.map((r) => ({ label: flavorLabel(r.flavor_code), value: r.npu_hours })),
    "NPU-hours",
  ),
  period,
)}
${barChart(
  "NPU-hours by pool",
  "NPU-hours",
  simpleBars(
    report.by_pool.map((r) => ({ label: poolLabel(r.pool_id), value: r.npu_hours })),
    "NPU-hours",
  ),
  period,
)}
</div></section>`;
}

/** The versions that waited longest to start, or a sentence when none started. */
function waitsTable(report: StoredReport, period: Period): string {
  if (report.longest_waits.length === 0) {
    return `<p class="empty">No version started this ${period}.</p>`;
  }
  const rows = report.longest_waits
    .map(
      (w) =>
        `<tr><th scope="row" class="k">${escapeHtml(w.version_name ?? "")}</th><td>${escapeHtml(w.version_id)}</td><td class="k">${escapeHtml(flavorLabel(w.flavor_code))}</td><td class="k">${escapeHtml(poolLabel(w.pool_id))}</td><td>${escapeHtml(formatHours(w.wait_hours))}</td></tr>`,
    )
    .join("");
  return `<div class="scroll"><table><thead><tr><th scope="col" class="k">job</th><th scope="col">version</th><th scope="col" class="k">flavor</th><th scope="col" class="k">pool</th><th scope="col">waited (h)</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The tables by flavor, by pool and by flavor and pool. */
function groupSections(report: StoredReport, period: Period): string {
  return `<section><h2>By flavor</h2>${table(
    ["flavor"],
    report.by_flavor.map((r) => ({ keys: [flavorLabel(r.flavor_code)], metrics: r })),
    period,
  )}</section>
<section><h2>By pool</h2>${table(
    ["pool"],
    report.by_pool.map((r) => ({ keys: [poolLabel(r.pool_id)], metrics: r })),
    period,
  )}</section>
<section><h2>By flavor and pool</h2>${table(
    ["flavor", "pool"],
    report.by_flavor_pool.map((r) => ({
      keys: [flavorLabel(r.flavor_code), poolLabel(r.pool_id)],
      metrics: r,
    })),
    period,
  )}</section>`;
}

function statusesSection(report: StoredReport): string {
  return `<section><h2>Statuses</h2><div class="scroll" style="display:inline-block"><table class="narrow"><thead><tr><th scope="col">status</th><th scope="col" class="k">name</th><th scope="col">versions</th></tr></thead><tbody>
${report.statuses.map((s) => `<tr><td>${escapeHtml(s.status)}</td><th scope="row" class="k">${escapeHtml(s.name)}</th><td>${escapeHtml(s.versions)}</td></tr>`).join("")}
</tbody></table></div></section>`;
}

/** Bad records skipped, duplicate rows, the reasons, and flavors without a price. */
function anomaliesSection(report: StoredReport): string {
  const reasons = Object.entries(report.anomalies.reasons);
  const unpriced = report.anomalies.unpriced_flavors ?? [];
  // Rows the listing gave more than once (files written before they were counted lack it).
  const duplicates = report.anomalies.duplicate_rows ?? 0;
  return `<section><h2>Anomalies</h2><p>${escapeHtml(report.anomalies.skipped)} bad record${report.anomalies.skipped === 1 ? "" : "s"} skipped in the scan.</p>${duplicates > 0 ? `<p>${escapeHtml(duplicates)} duplicate row${duplicates === 1 ? "" : "s"} in the listing.</p>` : ""}
${reasons.length > 0 ? `<ul>${reasons.map(([r, n]) => `<li>${escapeHtml(r)}: ${escapeHtml(n)}</li>`).join("")}</ul>` : ""}
${unpriced.length > 0 ? `<p>Flavors without a price: ${unpriced.map((f) => escapeHtml(flavorLabel(f))).join(", ")}</p>` : ""}</section>`;
}
