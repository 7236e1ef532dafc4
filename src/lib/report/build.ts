import type { JobVersion } from "../modelarts/version-record.js";
import { aggregate, type DayWindow } from "./aggregate.js";
import type { PriceTable } from "./prices.js";
import { dayWindow, formatWithOffset } from "./time.js";
import type { Anomalies, DailyReport, Metrics, ReportSource } from "./types.js";

export interface BuildInput {
  readonly versions: Iterable<JobVersion>;
  /** Consecutive report dates, ascending. */
  readonly dates: readonly string[];
  readonly timeZone: string;
  /** When the report is generated: `generated_at`, and the end of still-running jobs. */
  readonly now: number;
  readonly failureStatuses: readonly number[];
  readonly source: ReportSource;
  /** Describe the whole scan, so every date of a range shows the same figures (§4). */
  readonly anomalies: Anomalies;
  readonly prices?: PriceTable | undefined;
  /** The totals of the day before the first date, when that report exists (§9 `previous`). */
  readonly previousTotals?: Metrics | null | undefined;
}

export function dayWindows(dates: readonly string[], timeZone: string): DayWindow[] {
  return dates.map((date) => ({ date, ...dayWindow(date, timeZone) }));
}

/** The daily reports of a range of dates, from one set of versions. Pure. */
export function buildDailyReports(input: BuildInput): DailyReport[] {
  const windows = dayWindows(input.dates, input.timeZone);
  const failureStatuses = [...new Set(input.failureStatuses)].sort((a, b) => a - b);
  const days = aggregate({
    versions: input.versions,
    windows,
    now: input.now,
    failureStatuses,
    prices: input.prices,
  });
  const generatedAt = new Date(input.now).toISOString();
  return days.map((day, i) => {
    const w = windows[i] as DayWindow;
    return {
      report: {
        schema_version: 1,
        report_date: day.date,
        timezone: input.timeZone,
        window: {
          start: formatWithOffset(w.start, input.timeZone),
          end: formatWithOffset(w.end, input.timeZone),
        },
        generated_at: generatedAt,
        source: { ...input.source },
        failure_statuses: failureStatuses,
        totals: day.totals,
        by_flavor: day.by_flavor,
        by_pool: day.by_pool,
        by_flavor_pool: day.by_flavor_pool,
        statuses: day.statuses,
        anomalies: {
          skipped: input.anomalies.skipped,
          reasons: { ...input.anomalies.reasons },
          unpriced_flavors: day.unpricedFlavors,
        },
        currency: input.prices?.currency ?? null,
        // Within a range the day before is in memory; for the first date it comes from storage.
        previous: i === 0 ? (input.previousTotals ?? null) : (days[i - 1]?.totals ?? null),
        longest_waits: day.longestWaits,
      },
      jobs: day.jobs,
    };
  });
}
