import { formatHours } from "./format.js";
import type { HistoryDay } from "./history-day.js";
import { escapeHtml, OUTCOME_COLOURS, poolLabel } from "./html.js";
import { addDays, addMonths, datesOfMonth, isValidDate, isValidMonth } from "./time.js";

/**
 * The days around a report, from the history index (history.json): on a day page the last 30
 * days, on a month page the days of the month, as three column charts in inline SVG (GPU- and
 * NPU-hours by pool, failed versions), one column per day linking to its page, plus the
 * links to the day (month) before and after. Pure, and escaped like the rest of the page.
 *
 * It imports the page's escaping and labels from render-html.ts, which imports this module:
 * the cycle is harmless (neither module uses the other's exports while it loads).
 */

export interface TrendOptions {
  /** Days of the history index, in any order and of any range: the page picks its own. */
  readonly history?: readonly HistoryDay[] | undefined;
  /** A day's page, as a link that works from this page; `undefined`: show it without a link. */
  readonly dayHref?: ((date: string) => string | undefined) | undefined;
  /** A month's page, likewise. */
  readonly monthHref?: ((month: string) => string | undefined) | undefined;
}

/** How a figure is written: counts as integers, hours as in the files. */
type Kind = "count" | "hours";
const fmt = (x: number, kind: Kind) => (kind === "hours" ? formatHours(x) : String(x));
/** A generous width of one character of the labels (14px sans-serif digits). */
const CHAR_WIDTH = 8.5;
/** The same in bold (the page's own day): Chromium draws "11-27" 44.7 units wide. */
const BOLD_CHAR_WIDTH = 9.5;

/** Pool colours, the same in the GPU and the NPU chart (Tableau 10, without its red and grey). */
const POOL_COLOURS = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#ff9da7",
  "#9c755f",
];
const OTHERS_COLOUR = "#bab0ac";
/** At most this many series: with more pools, the smallest are summed as "others". */
const MAX_POOLS = POOL_COLOURS.length;
const TREND_DAYS = 30;
const TREND_WIDTH = 480;
const TREND_TOP = 8;
const TREND_PLOT = 130;
const TREND_AXIS = 24;

interface Slot {
  date: string;
  /** `undefined`: the history has no entry for the date. */
  day: HistoryDay | undefined;
  href: string | undefined;
  /** The text under the column, on some columns only (30 labels do not fit on a phone). */
  label: string | undefined;
  /** The page's own day. */
  current: boolean;
}

interface Series {
  label: string;
  colour: string;
}

/** A day's column: the figure its title gives, and its stacked parts by series. */
interface Column {
  total: number;
  parts: number[];
}

/** `f()`, or `undefined` where it would leave the calendar (years 0000–9999). */
function within<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** A scale's top: the next round figure (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10ⁿ) at or above `max`. */
function niceCeil(max: number, kind: Kind): number {
  if (!(max > 0 && Number.isFinite(max))) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  const top = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8].map((m) => m * p).find((v) => v >= max) ?? 10 * p;
  // Hours are written to 6 decimals: a smaller top would be labelled 0.
  return kind === "count" ? Math.max(1, Math.ceil(top)) : Math.max(top, 0.000001);
}

/** The pools with GPU- or NPU-hours on these days, the largest first, each with its colour. */
function poolSeries(days: HistoryDay[]): Grouped {
  return groupSeries(days, (d) => d.pools.map((p) => ({ key: poolLabel(p.pool_id), p })));
}

/** The sources with GPU- or NPU-hours on these days (§10), the largest first. */
function sourceSeries(days: HistoryDay[]): Grouped {
  return groupSeries(days, (d) => d.sources.map((p) => ({ key: p.source, p })));
}

interface Grouped {
  series: Series[];
  indexOf: (key: string) => number | undefined;
}

/** The groups of `rowsOf` with hours on these days, the largest first, each with its colour. */
function groupSeries(
  days: HistoryDay[],
  rowsOf: (d: HistoryDay) => { key: string; p: { gpu_hours: number; npu_hours: number } }[],
): Grouped {
  const hours = new Map<string, number>();
  for (const d of days) {
    for (const { key, p } of rowsOf(d)) {
      hours.set(key, (hours.get(key) ?? 0) + p.gpu_hours + p.npu_hours);
    }
  }
  const ranked = [...hours]
    .filter(([, h]) => h > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const own = ranked.length > MAX_POOLS ? ranked.slice(0, MAX_POOLS - 1) : ranked;
  const series = own.map(([key], i) => ({
    label: key,
    colour: POOL_COLOURS[i] ?? OTHERS_COLOUR,
  }));
  const index = new Map(own.map(([key], i) => [key, i]));
  const others = ranked.length - own.length;
  if (others > 0) series.push({ label: `${others} others`, colour: OTHERS_COLOUR });
  return {
    series,
    indexOf: (key) => index.get(key) ?? (others > 0 ? series.length - 1 : undefined),
  };
}

/** One column per slot, stacked by series, on a scale from 0 to a round figure. */
function columnChart(
  title: string,
  unit: string,
  kind: Kind,
  slots: Slot[],
  series: Series[],
  column: (d: HistoryDay) => Column,
): string {
  const columns = slots.map((s) => (s.day === undefined ? undefined : column(s.day)));
  const sum = (c: Column) => c.parts.reduce((a, v) => a + Math.max(0, v), 0);
  const top = niceCeil(
    Math.max(0, ...columns.map((c) => (c ? Math.max(c.total, sum(c)) : 0))),
    kind,
  );
  const ticks = [0, top / 2, top].filter((t) => kind !== "count" || Number.isInteger(t));
  const left = Math.max(...ticks.map((t) => fmt(t, kind).length)) * CHAR_WIDTH + 10;
  const halfLabel = (s: Slot | undefined) =>
    ((s?.label?.length ?? 0) * (s?.current ? BOLD_CHAR_WIDTH : CHAR_WIDTH)) / 2;
  // Room on the right for the last column's label to sit centred under it (the page's own day
  // is the last column of a day page, shaded, and its label is bold): the columns end short
  // of the edge rather than the label being pushed off its column or cut at the edge.
  const lastHalf = halfLabel(slots.at(-1));
  const right = Math.max(0, lastHalf - (TREND_WIDTH - left - lastHalf) / slots.length / 2);
  const plotEnd = TREND_WIDTH - right;
  const slotWidth = (plotEnd - left) / slots.length;
  const barWidth = slotWidth * 0.7;
  const y = (v: number) => TREND_TOP + TREND_PLOT * (1 - v / top);
  const height = TREND_TOP + TREND_PLOT + TREND_AXIS;
  const grid = ticks
    .map(
      (t) =>
        `<line class="g" x1="${escapeHtml(left)}" x2="${escapeHtml(plotEnd.toFixed(2))}" y1="${escapeHtml(y(t).toFixed(1))}" y2="${escapeHtml(y(t).toFixed(1))}"/><text x="${escapeHtml(left - 6)}" y="${escapeHtml((y(t) + 5).toFixed(1))}" text-anchor="end">${escapeHtml(fmt(t, kind))}</text>`,
    )
    .join("");
  const cols = slots
    .map((s, i) => {
      const x = left + i * slotWidth;
      const bx = (x + (slotWidth - barWidth) / 2).toFixed(2);
      const c = columns[i];
      const name = `${s.date}${s.current ? " (this day)" : ""}`;
      let text = `${name}: missing, no report in the history`;
      let bars = `<rect class="m" x="${escapeHtml(bx)}" y="${TREND_TOP}" width="${escapeHtml(barWidth.toFixed(2))}" height="${TREND_PLOT}"/>`;
      if (c !== undefined) {
        text = `${name}: ${fmt(c.total, kind)} ${unit}`;
        bars = stackedBars(c, { date: s.date, x: bx, width: barWidth, y }, series, unit, kind);
      }
      // Labels stay inside the chart: the first and last ones are moved in from its edges.
      const half = halfLabel(s);
      const lx = Math.min(Math.max(x + slotWidth / 2, left + half), TREND_WIDTH - half);
      const label =
        s.label === undefined
          ? ""
          : `<text x="${escapeHtml(lx.toFixed(1))}" y="${TREND_TOP + TREND_PLOT + 18}" text-anchor="middle"${s.current ? ' class="cur"' : ""}>${escapeHtml(s.label)}</text>`;
      // A rectangle as tall as the slot makes an empty day's column a target as well.
      const inner = `<title>${escapeHtml(text)}</title><rect class="${s.current ? "cur" : "hit"}" x="${escapeHtml(x.toFixed(2))}" y="0" width="${escapeHtml(slotWidth.toFixed(2))}" height="${height}"/>${bars}${label}`;
      const date = escapeHtml(s.date);
      return s.href === undefined
        ? `<g data-date="${date}">${inner}</g>`
        : `<a href="${escapeHtml(s.href)}" data-date="${date}">${inner}</a>`;
    })
    .join("");
  // role="group", not "img": an image's links would be hidden from screen readers.
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><svg role="group" aria-label="${escapeHtml(title)}" viewBox="0 0 ${TREND_WIDTH} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">${grid}${cols}</svg></figure>`;
}

/** Where one column's bars go: its date, left edge, width and the chart's vertical scale. */
interface BarPlace {
  date: string;
  x: string;
  width: number;
  y: (v: number) => number;
}

/** A column's parts as bars stacked from 0, each titled with its series when there are several. */
function stackedBars(c: Column, at: BarPlace, series: Series[], unit: string, kind: Kind): string {
  const { date, x, width, y } = at;
  let base = 0;
  return c.parts
    .map((v, k) => {
      if (!(v > 0)) return "";
      const y1 = y(base + v);
      const h = y(base) - y1;
      base += v;
      const part = series[k];
      const tip =
        series.length > 1 && part
          ? `<title>${escapeHtml(`${date} · ${part.label}: ${fmt(v, kind)} ${unit}`)}</title>`
          : "";
      return `<rect x="${escapeHtml(x)}" y="${escapeHtml(y1.toFixed(2))}" width="${escapeHtml(width.toFixed(2))}" height="${escapeHtml(h.toFixed(2))}" fill="${part?.colour ?? OTHERS_COLOUR}">${tip}</rect>`;
    })
    .join("");
}

/** The three charts over the slots (GPU-, NPU-hours by pool, failures), or why there are none. */
function trendSection(heading: string, slots: Slot[], empty: string): string {
  const h2 = `<h2>${escapeHtml(heading)}</h2>`;
  const days = slots.flatMap((s) => (s.day === undefined ? [] : [s.day]));
  if (days.length === 0) return `<section>${h2}<p class="empty">${escapeHtml(empty)}</p></section>`;
  const { series, indexOf } = poolSeries(days);
  const stack = (d: HistoryDay, hours: (p: HistoryDay["pools"][number]) => number) => {
    const parts = series.map(() => 0);
    for (const p of d.pools) {
      const i = indexOf(poolLabel(p.pool_id));
      if (i !== undefined) parts[i] = (parts[i] ?? 0) + hours(p);
    }
    return parts;
  };
  const legend = legendOf(series);
  const notes = [
    "Each column is a day",
    slots.some((s) => s.href !== undefined) ? "; a click opens its page" : "",
    slots.some((s) => s.current) ? "; the shaded column is this day" : "",
    days.length < slots.length ? "; a dashed outline marks a day without a report" : "",
  ].join("");
  const failed = [{ label: "failed versions", colour: OUTCOME_COLOURS.failed }];
  return `<section>${h2}<p class="meta">${notes}.</p>${legend ? `<p class="legend">${legend}</p>` : ""}<div class="charts">
${columnChart("GPU-hours per day, by pool", "GPU-hours", "hours", slots, series, (d) => ({ total: d.totals.gpu_hours, parts: stack(d, (p) => p.gpu_hours) }))}
${columnChart("NPU-hours per day, by pool", "NPU-hours", "hours", slots, series, (d) => ({ total: d.totals.npu_hours, parts: stack(d, (p) => p.npu_hours) }))}
${columnChart("Failed versions per day", "failed versions", "count", slots, failed, (d) => ({ total: d.totals.versions_failed, parts: [d.totals.versions_failed] }))}
${sourceTrend(slots, days)}</div></section>`;
}

function legendOf(series: readonly Series[]): string {
  return series
    .map((s) => `<span><i style="background:${s.colour}"></i>${escapeHtml(s.label)}</span>`)
    .join("");
}

/**
 * GPU-hours per day by source (§10), when any of these days had more than one source: a cell
 * of the charts' grid.
 */
function sourceTrend(slots: Slot[], days: HistoryDay[]): string {
  if (!days.some((d) => d.sources.length > 1)) return "";
  const { series, indexOf } = sourceSeries(days);
  const stack = (d: HistoryDay) => {
    const parts = series.map(() => 0);
    for (const s of d.sources) {
      const i = indexOf(s.source);
      if (i !== undefined) parts[i] = (parts[i] ?? 0) + s.gpu_hours;
    }
    return parts;
  };
  // A cell of the charts' grid, beside the failures: its own legend, then the chart.
  return `<div><p class="legend">${legendOf(series)}</p>${columnChart("GPU-hours per day, by source", "GPU-hours", "hours", slots, series, (d) => ({ total: d.totals.gpu_hours, parts: stack(d) }))}</div>`;
}

/** The history by date; of two entries for a date, the one generated last. */
function historyByDate(history: readonly HistoryDay[]): Map<string, HistoryDay> {
  const byDate = new Map<string, HistoryDay>();
  for (const d of history) {
    const seen = byDate.get(d.date);
    if (seen === undefined || seen.generated_at <= d.generated_at) byDate.set(d.date, d);
  }
  return byDate;
}

function navLinks(links: [string | undefined, string][]): string {
  const shown = links.flatMap(([href, text]) =>
    href === undefined ? [] : [`<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`],
  );
  return shown.length === 0 ? "" : `<nav class="meta">${shown.join(" · ")}</nav>`;
}

/** A day page's links to the days before and after, and its section of the last 30 days. */
export function dayContext(date: string, opts: TrendOptions): { nav: string; trend: string } {
  if (!isValidDate(date)) return { nav: "", trend: "" };
  const byDate = historyByDate(opts.history ?? []);
  const href = (d: string | undefined) => (d === undefined ? undefined : opts.dayHref?.(d));
  const next = within(() => addDays(date, 1));
  const nav = navLinks([
    [href(within(() => addDays(date, -1))), "← previous day"],
    [next !== undefined && byDate.has(next) ? href(next) : undefined, "next day →"],
  ]);
  const dates = Array.from({ length: TREND_DAYS }, (_, i) =>
    within(() => addDays(date, i - TREND_DAYS + 1)),
  ).filter((d) => d !== undefined);
  const slots = dates.map((d, i) => ({
    date: d,
    day: byDate.get(d),
    href: href(d),
    // Every 7th day from this one: the same weekday, and always this day's own label.
    label: (dates.length - 1 - i) % 7 === 0 ? d.slice(5) : undefined,
    current: d === date,
  }));
  const trend = trendSection(
    `The last ${TREND_DAYS} days`,
    slots,
    `The history holds none of the last ${TREND_DAYS} days.`,
  );
  return { nav, trend };
}

/** A month page's links to the months before and after, and its section of its days. */
export function monthContext(month: string, opts: TrendOptions): { nav: string; trend: string } {
  if (!isValidMonth(month)) return { nav: "", trend: "" };
  const byDate = historyByDate(opts.history ?? []);
  const shift = (n: number) => {
    const m = within(() => addMonths(month, n));
    return m !== undefined && isValidMonth(m) ? m : undefined;
  };
  const before = shift(-1);
  const after = shift(1);
  // A month is reported once it has ended: the next month's page exists from its last day on.
  const afterEnded =
    after !== undefined && byDate.has(within(() => datesOfMonth(after).at(-1)) ?? "");
  const nav = navLinks([
    [before === undefined ? undefined : opts.monthHref?.(before), "← previous month"],
    [after !== undefined && afterEnded ? opts.monthHref?.(after) : undefined, "next month →"],
  ]);
  const slots = (within(() => datesOfMonth(month)) ?? []).map((d) => {
    const n = Number(d.slice(8));
    return {
      date: d,
      day: byDate.get(d),
      href: opts.dayHref?.(d),
      label: n === 1 || n % 5 === 0 ? String(n) : undefined,
      current: false,
    };
  });
  const trend = trendSection("Days of the month", slots, "The history holds no day of this month.");
  return { nav, trend };
}
