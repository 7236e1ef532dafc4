import { OUTCOMES, type Outcome } from "../../src/modelarts/statuses.js";
import type { HistoryDay } from "../../src/report/history-day.js";
import type { Metrics, UsageReport } from "../../src/report/types.js";

/**
 * Hand-built report objects for the renderers' tests: the renderers are pure, so they are
 * tested on exactly the figures given here, not on what the aggregation would compute. The
 * aggregation's tests build their expected metrics with the same helpers.
 */

/** Hours by outcome, zero unless given. */
export const byOutcome = (hours: Partial<Record<Outcome, number>> = {}): Record<Outcome, number> =>
  Object.fromEntries(OUTCOMES.map((o) => [o, hours[o] ?? 0])) as Record<Outcome, number>;

/**
 * Metrics of a group, zero unless given. GPU-/NPU-hours not split by outcome in `partial`
 * are counted as `completed`, so the stacked bars add up to the totals.
 */
export function makeMetrics(partial: Partial<Metrics> = {}): Metrics {
  const gpuHours = partial.gpu_hours ?? 0;
  const npuHours = partial.npu_hours ?? 0;
  return {
    versions_active: 0,
    versions_created: 0,
    versions_failed: 0,
    failures_by_status: { "3": 0, "5": 0, "6": 0, "13": 0 },
    gpus: 0,
    npus: 0,
    peak_gpus: 0,
    peak_npus: 0,
    gpu_hours: gpuHours,
    npu_hours: npuHours,
    run_hours: 0,
    versions_started: 0,
    wait_hours: 0,
    max_wait_hours: 0,
    gpu_hours_by_outcome: byOutcome({ completed: gpuHours }),
    npu_hours_by_outcome: byOutcome({ completed: npuHours }),
    cost: null,
    ...partial,
  };
}

/** The source block of the hand-built reports in tests. */
export const SOURCE = {
  endpoint: "https://modelarts.example.com",
  project_id: "proj-1",
  workspace_id: null,
  pool_id: null,
  versions_scanned: 0,
  pages: 1,
};

/** A report for 2026-11-27 in UTC with no rows, overridden by `partial`. */
export function makeReport(partial: Partial<UsageReport> = {}): UsageReport {
  return {
    schema_version: 1,
    period: "day",
    label: "2026-11-27",
    timezone: "UTC",
    window: { start: "2026-11-27T00:00:00+00:00", end: "2026-11-28T00:00:00+00:00" },
    generated_at: "2026-11-28T00:30:12.345Z",
    source: SOURCE,
    failure_statuses: [3, 5, 6, 13],
    totals: makeMetrics(),
    by_flavor: [],
    by_pool: [],
    by_flavor_pool: [],
    sources: [
      {
        name: "default",
        ...SOURCE,
        total_count_first: SOURCE.versions_scanned,
        total_count_last: SOURCE.versions_scanned,
      },
    ],
    by_source: [],
    by_source_flavor_pool: [],
    statuses: [],
    anomalies: { skipped: 0, duplicate_rows: 0, reasons: {}, unpriced_flavors: [] },
    currency: null,
    previous: null,
    longest_waits: [],
    budgets: [],
    ...partial,
  };
}

type HistoryPool = HistoryDay["pools"][number];

/**
 * A day of the history index, zero unless given. Totals not given in `partial` are those of
 * its pools (sums, and the largest peak), so the stacked columns add up to the day's totals.
 */
export function makeHistoryDay(
  date: string,
  partial: {
    generated_at?: string;
    totals?: Partial<HistoryDay["totals"]>;
    pools?: (Partial<HistoryPool> & Pick<HistoryPool, "pool_id">)[];
    sources?: HistoryDay["sources"];
  } = {},
): HistoryDay {
  const pools = (partial.pools ?? []).map((p) => ({
    gpu_hours: 0,
    npu_hours: 0,
    versions_failed: 0,
    peak_gpus: 0,
    peak_npus: 0,
    ...p,
  }));
  const sum = (f: (p: HistoryPool) => number) => pools.reduce((s, p) => s + f(p), 0);
  const max = (f: (p: HistoryPool) => number) => Math.max(0, ...pools.map(f));
  return {
    date,
    generated_at: partial.generated_at ?? `${date}T23:30:00.000Z`,
    totals: {
      versions_active: 0,
      versions_failed: sum((p) => p.versions_failed),
      gpu_hours: sum((p) => p.gpu_hours),
      npu_hours: sum((p) => p.npu_hours),
      run_hours: 0,
      peak_gpus: max((p) => p.peak_gpus),
      peak_npus: max((p) => p.peak_npus),
      cost: null,
      ...partial.totals,
    },
    pools,
    sources: partial.sources ?? [],
  };
}
