import { roundHours } from "./format.js";
import type { Metrics, UsageReport } from "./types.js";

/** Metrics in the order of report.md §3, hours rounded to 6 decimals (sums were taken before). */
export function roundedMetrics(m: Metrics): Metrics {
  return {
    versions_active: m.versions_active,
    versions_created: m.versions_created,
    versions_failed: m.versions_failed,
    failures_by_status: { ...m.failures_by_status },
    gpus: m.gpus,
    npus: m.npus,
    peak_gpus: m.peak_gpus,
    peak_npus: m.peak_npus,
    gpu_hours: roundHours(m.gpu_hours),
    npu_hours: roundHours(m.npu_hours),
    run_hours: roundHours(m.run_hours),
  };
}

/** report.json: keys in the order of report.md §5, two-space indentation, a final newline. */
export function renderReportJson(report: UsageReport): string {
  const ordered: UsageReport = {
    schema_version: report.schema_version,
    report_date: report.report_date,
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
    failure_statuses: [...report.failure_statuses],
    totals: roundedMetrics(report.totals),
    by_flavor: report.by_flavor.map((r) => ({ flavor_code: r.flavor_code, ...roundedMetrics(r) })),
    by_pool: report.by_pool.map((r) => ({ pool_id: r.pool_id, ...roundedMetrics(r) })),
    by_flavor_pool: report.by_flavor_pool.map((r) => ({
      flavor_code: r.flavor_code,
      pool_id: r.pool_id,
      ...roundedMetrics(r),
    })),
    statuses: report.statuses.map((s) => ({
      status: s.status,
      name: s.name,
      versions: s.versions,
    })),
    anomalies: { skipped: report.anomalies.skipped, reasons: { ...report.anomalies.reasons } },
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
