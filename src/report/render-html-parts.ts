import { OUTCOMES, type Outcome } from "../modelarts/statuses.js";
import { formatHours, formatReadable } from "./format.js";
import { escapeHtml, OUTCOME_COLOURS } from "./html.js";
import type { Period as PeriodDescriptor } from "./period.js";
import type { Metrics } from "./types.js";

/**
 * The pieces the report pages are built of (render-html.ts: a day's or month's page;
 * render-html-source.ts: one source's page and the by-source section): figures, cards, tables,
 * bar charts as inline SVG, and the style sheet. Everything shown is escaped.
 */

export const flavorLabel = (f: string | null) => f ?? "(none)";

/** How a figure is written: counts as integers, hours as in the files, money in cents. */
export type Kind = "count" | "hours" | "cost";
/** What the page covers, in its sentences ("Nothing this day."): the period's word. */
export type Period = PeriodDescriptor["word"];

export function fmt(x: number, kind: Kind): string {
  if (kind === "hours") return formatHours(x);
  if (kind === "cost") return x.toFixed(2);
  return String(x);
}

/** Longest chart label, in code points; longer ones keep both ends ("modelarts.v…0xv100"). */
const MAX_LABEL = 22;

/** Shortened by code points, so that no surrogate pair is cut in half. */
export function shorten(label: string): string {
  const chars = Array.from(label);
  if (chars.length <= MAX_LABEL) return label;
  const head = Math.ceil((MAX_LABEL - 1) / 2);
  const tail = MAX_LABEL - 1 - head;
  return `${chars.slice(0, head).join("")}…${chars.slice(chars.length - tail).join("")}`;
}

export interface Bar {
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
export function barChart(title: string, unit: string, bars: Bar[], period: Period): string {
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

export function simpleBars(rows: { label: string; value: number }[], unit: string): Bar[] {
  return rows.map((r) => ({
    label: r.label,
    parts: [{ value: r.value, colour: undefined, name: unit }],
  }));
}

export function outcomeBars(rows: { label: string; hours: Record<Outcome, number> }[]): Bar[] {
  return rows.map((r) => ({
    label: r.label,
    parts: OUTCOMES.map((o) => ({ value: r.hours[o], colour: OUTCOME_COLOURS[o], name: o })),
  }));
}

export function legend(): string {
  return `<p class="legend">${OUTCOMES.map((o) => `<span><i style="background:${OUTCOME_COLOURS[o]}"></i>${o}</span>`).join("")}</p>`;
}

export const METRIC_COLUMNS: [keyof Metrics, string, Kind][] = [
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

export function metricCells(m: Metrics): string {
  return METRIC_COLUMNS.map(([key, , kind]) => {
    const v = m[key];
    const text = typeof v === "number" ? fmt(v, kind) : "–";
    return `<td>${escapeHtml(text)}</td>`;
  }).join("");
}

export function table(
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
export function readable(className: string, exact: string, shown: string, after = ""): string {
  const title = exact === shown ? "" : ` title="${escapeHtml(exact)}"`;
  return `<div class="${className}"${title}>${escapeHtml(shown + after)}</div>`;
}

/** "+12.5 (+8%)" against the day (month) before; nothing without a previous report. */
export function change(now: number, before: number | undefined, kind: Kind): string {
  if (before === undefined) return "";
  const d = now - before;
  const size = fmt(Math.abs(d), kind);
  if (Number(size) === 0) return '<div class="d">± 0</div>';
  const sign = d > 0 ? "+" : "−";
  const pct = before === 0 ? "" : ` (${sign}${Math.round(Math.abs((d / before) * 100))}%)`;
  const shown = `${sign}${formatReadable(Math.abs(d), kind)}`;
  return readable(`d ${d > 0 ? "up" : "down"}`, `${sign}${size}`, shown, pct);
}

export function card(label: string, value: number, before: number | undefined, kind: Kind): string {
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
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:1rem 2rem}.charts.one{max-width:640px}
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
