import { GROUP_KEYS, type Group, type GroupRow, roundedMetrics } from "./fields.js";
import { roundHours } from "./format.js";
import { periodOfReport } from "./period.js";
import type { UsageReport } from "./types.js";

/** A group's rows: the fields naming each row, then its metrics rounded (report.md §5). */
function groupRows<G extends Group>(group: G, rows: readonly GroupRow<G>[]) {
  const keys: readonly string[] = GROUP_KEYS[group];
  return rows.map((r) => ({
    ...Object.fromEntries(keys.map((k) => [k, (r as Record<string, unknown>)[k]])),
    ...roundedMetrics(r),
  }));
}

/**
 * report.json: keys in the order of report.md §5 (the §9 additions after them), two-space
 * indentation, a final newline.
 */
export function renderReportJson(report: UsageReport): string {
  const ordered = {
    schema_version: report.schema_version,
    // A month report names its month `report_month` where a day's names its `report_date`.
    [periodOfReport(report).labelField]: report.label,
    timezone: report.timezone,
    window: { start: report.window.start, end: report.window.end },
    generated_at: report.generated_at,
    source: {
      endpoint: report.source.endpoint,
      project_id: report.source.project_id,
      workspace_id: report.source.workspace_id,
      pool_id: report.source.pool_id,
      versions_scanned: report.source.versions_scanned,
      pages: report.source.pages,
    },
    sources: report.sources.map((s) => ({
      name: s.name,
      endpoint: s.endpoint,
      project_id: s.project_id,
      workspace_id: s.workspace_id,
      pool_id: s.pool_id,
      versions_scanned: s.versions_scanned,
      pages: s.pages,
      total_count_first: s.total_count_first,
      total_count_last: s.total_count_last,
    })),
    failure_statuses: [...report.failure_statuses],
    totals: roundedMetrics(report.totals),
    by_flavor: groupRows("by_flavor", report.by_flavor),
    by_pool: groupRows("by_pool", report.by_pool),
    by_flavor_pool: groupRows("by_flavor_pool", report.by_flavor_pool),
    by_source: groupRows("by_source", report.by_source),
    by_source_flavor_pool: groupRows("by_source_flavor_pool", report.by_source_flavor_pool),
    statuses: report.statuses.map((s) => ({
      status: s.status,
      name: s.name,
      versions: s.versions,
    })),
    anomalies: {
      skipped: report.anomalies.skipped,
      duplicate_rows: report.anomalies.duplicate_rows,
      reasons: { ...report.anomalies.reasons },
      unpriced_flavors: [...(report.anomalies.unpriced_flavors ?? [])],
      by_source: Object.fromEntries(
        Object.entries(report.anomalies.by_source ?? {}).map(([name, a]) => [
          name,
          { skipped: a.skipped, duplicate_rows: a.duplicate_rows },
        ]),
      ),
    },
    currency: report.currency,
    previous: report.previous === null ? null : roundedMetrics(report.previous),
    longest_waits: report.longest_waits.map((w) => ({
      ...(w.source === undefined ? {} : { source: w.source }),
      version_id: w.version_id,
      version_name: w.version_name,
      flavor_code: w.flavor_code,
      pool_id: w.pool_id,
      wait_hours: roundHours(w.wait_hours),
    })),
    budgets: report.budgets.map((b) => ({
      name: b.name,
      period: b.period,
      metric: b.metric,
      limit: b.limit,
      actual: b.actual,
      forecast: b.forecast,
      state: b.state,
    })),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
