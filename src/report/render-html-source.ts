import { escapeHtml, poolLabel } from "./html.js";
import { periodOf } from "./period.js";
import {
  barChart,
  card,
  flavorLabel,
  fmt,
  legend,
  outcomeBars,
  PAGE_STYLE,
  type Period,
  simpleBars,
  table,
} from "./render-html-parts.js";
import type { StoredReport } from "./stored-schema.js";
import type { FlavorPoolRow, Metrics, ReportPeriod, SourceAnomalies, SourceInfo } from "./types.js";

/**
 * The sources of an organisation's report (§10) on the pages: the by-source section of a day's
 * or month's page (a table and a bar chart of GPU-hours, each name a link to the source's own
 * page), and that page: one source's slice of the report, which shows nothing of any other
 * source. Everything shown is escaped.
 */

/** The by-source section: only when the report has more than one source. */
export function bySourceSection(
  report: StoredReport,
  period: Period,
  sourceHref: ((name: string) => string | undefined) | undefined,
): string {
  if (report.sources.length <= 1) return "";
  const name = (source: string | null) => {
    const text = source ?? "";
    const href = sourceHref?.(text);
    return href === undefined
      ? escapeHtml(text)
      : `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
  };
  const rows = report.by_source
    .map(
      (r) =>
        `<tr><th scope="row" class="k">${name(r.source)}</th><td>${escapeHtml(fmt(r.gpu_hours, "hours"))}</td><td>${escapeHtml(fmt(r.npu_hours, "hours"))}</td><td>${escapeHtml(r.peak_gpus)}</td><td>${escapeHtml(r.versions_active)}</td><td>${escapeHtml(r.versions_failed)}</td><td>${r.cost === null ? "–" : escapeHtml(fmt(r.cost, "cost"))}</td></tr>`,
    )
    .join("");
  const head = ["GPU-h", "NPU-h", "peak GPUs", "versions active", "failed", "cost"]
    .map((h) => `<th scope="col">${escapeHtml(h)}</th>`)
    .join("");
  const chart = barChart(
    "GPU-hours by source",
    "GPU-hours",
    simpleBars(
      report.by_source.map((r) => ({ label: r.source ?? "", value: r.gpu_hours })),
      "GPU-hours",
    ),
    period,
  );
  return `<section id="sources"><h2>By source</h2><p class="meta">${escapeHtml(report.sources.length)} sources; peaks are each source's own (the totals' peak is that of the sum).</p><div class="charts one">${chart}</div>
<div class="scroll"><table><thead><tr><th scope="col" class="k">source</th>${head}</tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

/** One source's slice of a report: what its JSON answer holds and its page shows. */
export interface SourceSlice {
  readonly period: ReportPeriod;
  readonly label: string;
  readonly timezone: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly generated_at: string;
  readonly source: SourceInfo;
  readonly totals: Metrics;
  readonly by_flavor_pool: readonly FlavorPoolRow[];
  readonly anomalies: SourceAnomalies;
  readonly currency: string | null;
}

export interface SourcePageOptions {
  /** The source's report.json slice, its rows of sources.csv and of jobs.csv. */
  readonly jsonHref?: string | undefined;
  readonly csvHref?: string | undefined;
  readonly jobsHref?: string | undefined;
  /** The whole report's page, where the way in opens it. */
  readonly reportHref?: string | undefined;
  /** The source's rows in jobs.csv, when the file was read. */
  readonly jobs?: number | undefined;
}

const anchor = (href: string | undefined, text: string) =>
  href === undefined ? "" : `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;

export function renderSourceHtml(slice: SourceSlice, opts: SourcePageOptions = {}): string {
  const described = periodOf(slice.period);
  const period = described.word;
  const s = slice.source;
  const t = slice.totals;
  const title = `ModelArts usage ${slice.label} · ${s.name} (${slice.timezone})`;
  const links = [
    anchor(opts.jsonHref, "JSON"),
    anchor(opts.csvHref, "sources.csv rows"),
    anchor(opts.jobsHref, "jobs.csv rows"),
    anchor(opts.reportHref, "the whole report"),
  ]
    .filter(Boolean)
    .join(" · ");
  const listing = [
    `endpoint ${s.endpoint}`,
    `project ${s.project_id}`,
    ...(s.workspace_id === null ? [] : [`workspace ${s.workspace_id}`]),
    ...(s.pool_id === null ? [] : [`pool ${s.pool_id}`]),
  ]
    .map((x) => `<span class="nw">${escapeHtml(x)}</span>`)
    .join(" · ");
  const costCard =
    t.cost === null ? "" : card(`cost (${slice.currency ?? ""})`, t.cost, undefined, "cost");
  const jobs =
    opts.jobs === undefined
      ? ""
      : `<p>${escapeHtml(opts.jobs)} version${opts.jobs === 1 ? "" : "s"} in this ${escapeHtml(period)}'s jobs.csv.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head>
<body>
<header><h1>ModelArts usage ${described.headingPrefix}<span class="nw">${escapeHtml(slice.label)}</span> · source <span class="nw">${escapeHtml(s.name)}</span> <span class="nw">(${escapeHtml(slice.timezone)})</span></h1>
<p class="meta">Window <span class="nw">${escapeHtml(slice.window.start)}</span> – <span class="nw">${escapeHtml(slice.window.end)}</span> · generated <span class="nw">${escapeHtml(slice.generated_at)}</span><br>
${listing} · ${escapeHtml(s.versions_scanned)} versions scanned in ${escapeHtml(s.pages)} pages${links ? ` · ${links}` : ""}</p></header>
<section><h2>Totals</h2><div class="cards">
${card("GPU-hours", t.gpu_hours, undefined, "hours")}${card("NPU-hours", t.npu_hours, undefined, "hours")}${card("run-hours", t.run_hours, undefined, "hours")}${costCard}
${card("peak GPUs", t.peak_gpus, undefined, "count")}${card("peak NPUs", t.peak_npus, undefined, "count")}${card("versions active", t.versions_active, undefined, "count")}${card("created", t.versions_created, undefined, "count")}${card("failed", t.versions_failed, undefined, "count")}
</div>${jobs}</section>
<section><h2>Where the hours went</h2>${legend()}<div class="charts one">
${barChart("GPU-hours by flavor and pool, by outcome", "GPU-hours", outcomeBars(slice.by_flavor_pool.map((r) => ({ label: `${flavorLabel(r.flavor_code)} · ${poolLabel(r.pool_id)}`, hours: r.gpu_hours_by_outcome }))), period)}
</div></section>
<section><h2>By flavor and pool</h2>${table(
    ["flavor", "pool"],
    slice.by_flavor_pool.map((r) => ({
      keys: [flavorLabel(r.flavor_code), poolLabel(r.pool_id)],
      metrics: r,
    })),
    period,
  )}</section>
<section><h2>Anomalies</h2><p>${escapeHtml(slice.anomalies.skipped)} bad record${slice.anomalies.skipped === 1 ? "" : "s"} skipped and ${escapeHtml(slice.anomalies.duplicate_rows)} duplicate row${slice.anomalies.duplicate_rows === 1 ? "" : "s"} in this source's listing.</p></section>
</body></html>
`;
}
