import type { JobVersion } from "../modelarts/version-record.js";
import { aggregate } from "./aggregate.js";
import type { ReportWindow } from "./interval.js";
import { periodField, periodOf } from "./period.js";
import type { PriceTable } from "./prices.js";
import type { PeriodAggregate } from "./rows.js";
import { dayWindow, formatWithOffset, monthWindow } from "./time.js";
import type { Anomalies, Metrics, PeriodReport, ReportPeriod, ReportSource } from "./types.js";

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

export function dayWindows(dates: readonly string[], timeZone: string): ReportWindow[] {
  return dates.map((date) => ({ label: date, ...dayWindow(date, timeZone) }));
}

type Shared = Omit<BuildInput, "versions" | "dates" | "previousTotals">;

/** The report object of one aggregated window. */
function shape(
  day: PeriodAggregate,
  window: ReportWindow,
  input: Shared,
  failureStatuses: number[],
  previous: Metrics | null,
  period: ReportPeriod,
): PeriodReport {
  return {
    report: {
      schema_version: 1,
      ...periodField(periodOf(period)),
      label: day.label,
      timezone: input.timeZone,
      window: {
        start: formatWithOffset(window.start, input.timeZone),
        end: formatWithOffset(window.end, input.timeZone),
      },
      generated_at: new Date(input.now).toISOString(),
      source: { ...input.source },
      failure_statuses: failureStatuses,
      totals: day.totals,
      by_flavor: day.by_flavor,
      by_pool: day.by_pool,
      by_flavor_pool: day.by_flavor_pool,
      statuses: day.statuses,
      anomalies: {
        skipped: input.anomalies.skipped,
        duplicate_rows: input.anomalies.duplicate_rows,
        reasons: { ...input.anomalies.reasons },
        unpriced_flavors: day.unpricedFlavors,
      },
      currency: input.prices?.currency ?? null,
      previous,
      longest_waits: day.longestWaits,
    },
    jobs: day.jobs,
  };
}

const sortedStatuses = (statuses: readonly number[]) =>
  [...new Set(statuses)].sort((a, b) => a - b);

/** The daily reports of a range of dates, from one set of versions. Pure. */
export function buildDailyReports(input: BuildInput): PeriodReport[] {
  const windows = dayWindows(input.dates, input.timeZone);
  const failureStatuses = sortedStatuses(input.failureStatuses);
  const days = aggregate({
    versions: input.versions,
    windows,
    now: input.now,
    failureStatuses,
    prices: input.prices,
  });
  return days.map((day, i) =>
    shape(
      day,
      windows[i] as ReportWindow,
      input,
      failureStatuses,
      // Within a range the day before is in memory; for the first date it comes from storage.
      i === 0 ? (input.previousTotals ?? null) : (days[i - 1]?.totals ?? null),
      "day",
    ),
  );
}

export interface MonthInput extends Omit<BuildInput, "dates"> {
  /** `YYYY-MM`. */
  readonly month: string;
}

/**
 * The report of a calendar month as one window (§3 and §9 over the whole month): its peaks are
 * the month's peaks, its counts count distinct versions, its hours are exact. Pure.
 */
export function buildMonthReport(input: MonthInput): PeriodReport {
  const window: ReportWindow = { label: input.month, ...monthWindow(input.month, input.timeZone) };
  const failureStatuses = sortedStatuses(input.failureStatuses);
  const [month] = aggregate({
    versions: input.versions,
    windows: [window],
    now: input.now,
    failureStatuses,
    prices: input.prices,
  });
  if (month === undefined) throw new RangeError("no month aggregated");
  return shape(month, window, input, failureStatuses, input.previousTotals ?? null, "month");
}
