import { statusName } from "../modelarts/statuses.js";
import { formatHours } from "./format.js";
import { escapeHtml, poolLabel } from "./html.js";
import { type Period as PeriodDescriptor, periodOfReport } from "./period.js";
import { budgetsSection } from "./render-html-budgets.js";
import {
  barChart,
  card,
  flavorLabel,
  legend,
  outcomeBars,
  PAGE_STYLE,
  type Period,
  simpleBars,
  table,
} from "./render-html-parts.js";
import { bySourceSection } from "./render-html-source.js";
import { dayContext, monthContext, type TrendOptions } from "./render-trend.js";
import type { StoredReport } from "./stored-schema.js";

/**
 * The report as one self-contained page (report.md §7, §9): totals with the change from the
 * day (month) before, the days around it from the history (a day page: the last 30 days; a
 * month page: its days), bar charts as inline SVG (GPU-hours by outcome, GPU- and NPU-hours by
 * flavor and by pool), the longest queue waits, the sources when there are several (each a
 * link to its own page, render-html-source.ts), and the tables. No scripts, no external styles, fonts
 * or images. Everything from the report is escaped: flavor codes, pool ids, job names and
 * reasons come from users or the upstream. Hours are written as in the files (formatHours, six
 * decimals at most), so a figure on the page can be found in report.json and the CSV files.
 */

/** The days around the report: a day's last 30 days, a month's days. */
const TREND_CONTEXT = { day: dayContext, month: monthContext } as const;

export interface HtmlOptions extends TrendOptions {
  readonly csvHref?: string | undefined;
  readonly jsonHref?: string | undefined;
  /** A source's page (§10), for the by-source section; `undefined`: its name is not a link. */
  readonly sourceHref?: ((name: string) => string | undefined) | undefined;
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
${budgetsSection(report)}
${context.trend}
${chartsSection(report, period)}
${bySourceSection(report, period, opts.sourceHref)}
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
