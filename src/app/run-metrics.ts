import { roundCents, roundHours } from "../report/format.js";
import type { UsageReport } from "../report/types.js";
import type { SupersededReport } from "./report-job.js";

/**
 * The run's CloudWatch metrics (report.md §11 "Metrics"), as values: each day's usage per source
 * and pool, and the run's own figures. Pure; the Publish handler writes them in the embedded
 * metric format and the stack's dashboard (serverless.yml) graphs them by these names.
 */

/** The namespace the handlers publish in and the dashboard reads. */
export const METRICS_NAMESPACE = "ModelArtsUsageReport";

/** The metric names, one definition for the handler, the dashboard and the tests. */
export const USAGE_METRICS = {
  gpuHours: "GpuHours",
  npuHours: "NpuHours",
  failedVersions: "FailedVersions",
  cost: "Cost",
} as const;

export const RUN_METRICS = {
  duration: "RunDuration",
  pages: "Pages",
  versionsScanned: "VersionsScanned",
} as const;

/** The dimensions of a usage point, besides Powertools' `service`. */
export const USAGE_DIMENSIONS = ["source", "pool"] as const;

/** The `pool` dimension of versions that ran on no dedicated pool (`pool_id` null). */
export const PUBLIC_POOL = "public";

/** One day's usage of one source on one pool, summed over its flavors. */
export interface UsagePoint {
  /** The report's date (`YYYY-MM-DD`), a property of the document, not a dimension. */
  readonly date: string;
  readonly source: string;
  /** The pool id, or PUBLIC_POOL. */
  readonly pool: string;
  /** Rounded to 6 decimals after summing, as report.json rounds hours. */
  readonly gpuHours: number;
  readonly npuHours: number;
  readonly failedVersions: number;
  /** In the price table's currency, to cents; `null` without a price table (no Cost metric). */
  readonly cost: number | null;
}

interface Sums {
  gpu: number;
  npu: number;
  failed: number;
  cost: number | null;
}

/**
 * The usage points of a run's daily reports: one per (day, source, pool) that has a row in the
 * day's `by_source_flavor_pool` (groups with at least one version), in the order they first
 * appear there. Days the run did not write (a later scan's report is stored) are left out: their
 * figures are not what the reports say. A month's report is not a day and is not passed here.
 */
export function usagePoints(
  reports: readonly { readonly report: UsageReport }[],
  superseded: readonly SupersededReport[] = [],
): UsagePoint[] {
  const skipped = new Set(superseded.filter((s) => s.period === "day").map((s) => s.label));
  const points: UsagePoint[] = [];
  for (const { report } of reports) {
    if (report.period !== "day" || skipped.has(report.label)) continue;
    const groups = new Map<string, { source: string; pool: string; sums: Sums }>();
    for (const row of report.by_source_flavor_pool) {
      // Every row of the group names its source (§10); the fallback only keeps the dimension.
      const source = row.source ?? "(none)";
      const pool = row.pool_id ?? PUBLIC_POOL;
      // JSON of the pair: no separator a name could contain is needed.
      const key = JSON.stringify([source, pool]);
      let group = groups.get(key);
      if (group === undefined) {
        const sums = { gpu: 0, npu: 0, failed: 0, cost: row.cost === null ? null : 0 };
        group = { source, pool, sums };
        groups.set(key, group);
      }
      const { sums } = group;
      sums.gpu += row.gpu_hours;
      sums.npu += row.npu_hours;
      sums.failed += row.versions_failed;
      // A row's cost is null only without a price table, and then every row's is.
      sums.cost = sums.cost === null || row.cost === null ? null : sums.cost + row.cost;
    }
    for (const { source, pool, sums } of groups.values()) {
      points.push({
        date: report.label,
        source,
        pool,
        gpuHours: roundHours(sums.gpu),
        npuHours: roundHours(sums.npu),
        failedVersions: sums.failed,
        // Each row's cost is already in cents; rounding again only drops the float noise.
        cost: sums.cost === null ? null : roundCents(sums.cost),
      });
    }
  }
  return points;
}

/** The run's own figures. */
export interface RunFigures {
  /** From the plan's clock (Plan's start) to the end of Publish, in milliseconds. */
  readonly durationMs: number;
  readonly pages: number;
  readonly versionsScanned: number;
}

export function runFigures(
  planNow: number,
  endedAt: number,
  scan: { readonly pages: number; readonly versionsScanned: number },
): RunFigures {
  return {
    durationMs: Math.max(0, endedAt - planNow),
    pages: scan.pages,
    versionsScanned: scan.versionsScanned,
  };
}
