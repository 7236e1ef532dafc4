import { OUTCOMES, type Outcome } from "../modelarts/statuses.js";
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
    versions_started: m.versions_started,
    wait_hours: roundHours(m.wait_hours),
    max_wait_hours: roundHours(m.max_wait_hours),
    gpu_hours_by_outcome: roundOutcomes(m.gpu_hours_by_outcome),
    npu_hours_by_outcome: roundOutcomes(m.npu_hours_by_outcome),
    cost: m.cost,
  };
}

function roundOutcomes(hours: Record<Outcome, number>): Record<Outcome, number> {
  return Object.fromEntries(OUTCOMES.map((o) => [o, roundHours(hours[o])])) as Record<
    Outcome,
    number
  >;
}

/**
 * report.json: keys in the order of report.md §5 (the §9 additions after them), two-space
 * indentation, a final newline.
 */
export function renderReportJson(report: UsageReport): string {
  // A month report names its month `report_month` where a day's names its `report_date`.
  const label =
    report.period === "month"
      ? { report_month: report.report_date }
      : { report_date: report.report_date };
  const ordered = {
    schema_version: report.schema_version,
    ...label,
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
    anomalies: {
      skipped: report.anomalies.skipped,
      duplicate_rows: report.anomalies.duplicate_rows,
      reasons: { ...report.anomalies.reasons },
      unpriced_flavors: [...(report.anomalies.unpriced_flavors ?? [])],
    },
    currency: report.currency,
    previous: report.previous === null ? null : roundedMetrics(report.previous),
    longest_waits: report.longest_waits.map((w) => ({
      version_id: w.version_id,
      version_name: w.version_name,
      flavor_code: w.flavor_code,
      pool_id: w.pool_id,
      wait_hours: roundHours(w.wait_hours),
    })),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
