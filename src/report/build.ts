import type { JobVersion } from "../modelarts/version-record.js";
import { aggregate } from "./aggregate.js";
import type { ReportWindow } from "./interval.js";
import { periodField, periodOf } from "./period.js";
import type { PriceTable } from "./prices.js";
import type { PeriodAggregate } from "./rows.js";
import { dayWindow, formatWithOffset, monthWindow } from "./time.js";
import type {
  Anomalies,
  Metrics,
  PeriodReport,
  ReportPeriod,
  ReportSource,
  SourceAnomalies,
  SourceInfo,
} from "./types.js";

/** One source's scan: what it is, what its scan saw, and its versions (§10). */
export interface SourceInput {
  readonly info: SourceInfo;
  readonly anomalies: ScanAnomalies;
  readonly versions: Iterable<JobVersion>;
}

export interface BuildInput {
  /** In configuration order (after expansion); one for a single listing. */
  readonly sources: readonly SourceInput[];
  /** Consecutive report dates, ascending. */
  readonly dates: readonly string[];
  readonly timeZone: string;
  /** When the report is generated: `generated_at`, and the end of still-running jobs. */
  readonly now: number;
  readonly failureStatuses: readonly number[];
  readonly prices?: PriceTable | undefined;
  /** The totals of the day before the first date, when that report exists (§9 `previous`). */
  readonly previousTotals?: Metrics | null | undefined;
}

export function dayWindows(dates: readonly string[], timeZone: string): ReportWindow[] {
  return dates.map((date) => ({ label: date, ...dayWindow(date, timeZone) }));
}

type Shared = Omit<BuildInput, "dates" | "previousTotals">;

/**
 * `source` (§10): one source's listing, or for several the sums of what was read and `null`
 * for the rest.
 */
export function reportSourceOf(sources: readonly SourceInfo[]): ReportSource {
  const [only] = sources;
  if (sources.length === 1 && only !== undefined) {
    return {
      endpoint: only.endpoint,
      project_id: only.project_id,
      workspace_id: only.workspace_id,
      pool_id: only.pool_id,
      versions_scanned: only.versions_scanned,
      pages: only.pages,
    };
  }
  return {
    endpoint: null,
    project_id: null,
    workspace_id: null,
    pool_id: null,
    versions_scanned: sources.reduce((n, s) => n + s.versions_scanned, 0),
    pages: sources.reduce((n, s) => n + s.pages, 0),
  };
}

/** What a scan counts of the records it could not use. */
export type ScanAnomalies = Pick<Anomalies, "skipped" | "duplicate_rows" | "reasons">;

/**
 * Several scans' anomalies as one: the counts summed, the reasons merged in the order first
 * met (so one scan's are written as it gave them).
 */
export function sumAnomalies(list: readonly ScanAnomalies[]): ScanAnomalies {
  const reasons: Record<string, number> = {};
  for (const a of list) {
    for (const [reason, n] of Object.entries(a.reasons))
      reasons[reason] = (reasons[reason] ?? 0) + n;
  }
  return {
    skipped: list.reduce((n, a) => n + a.skipped, 0),
    duplicate_rows: list.reduce((n, a) => n + a.duplicate_rows, 0),
    reasons,
  };
}

/** The anomalies of the whole scan: the sources' sums, and each source's own. */
export function anomaliesOf(
  sources: readonly SourceInput[],
): Anomalies & { by_source: Record<string, SourceAnomalies> } {
  const bySource: Record<string, SourceAnomalies> = {};
  for (const { info, anomalies } of sources) {
    bySource[info.name] = { skipped: anomalies.skipped, duplicate_rows: anomalies.duplicate_rows };
  }
  return { ...sumAnomalies(sources.map((s) => s.anomalies)), by_source: bySource };
}

const versionsOf = (sources: readonly SourceInput[]) =>
  sources.map((s) => ({ name: s.info.name, versions: s.versions }));

/** The report object of one aggregated window. */
function shape(
  day: PeriodAggregate,
  window: ReportWindow,
  input: Shared,
  failureStatuses: number[],
  previous: Metrics | null,
  period: ReportPeriod,
): PeriodReport {
  const infos = input.sources.map((s) => s.info);
  const { by_source, ...sums } = anomaliesOf(input.sources);
  const anomalies = { ...sums, by_source };
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
      source: reportSourceOf(infos),
      sources: infos.map((s) => ({ ...s })),
      failure_statuses: failureStatuses,
      totals: day.totals,
      by_flavor: day.by_flavor,
      by_pool: day.by_pool,
      by_flavor_pool: day.by_flavor_pool,
      by_source: day.by_source,
      by_source_flavor_pool: day.by_source_flavor_pool,
      statuses: day.statuses,
      anomalies: { ...anomalies, unpriced_flavors: day.unpricedFlavors },
      currency: input.prices?.currency ?? null,
      previous,
      longest_waits: day.longestWaits,
      // Set by the run, which knows the month's other days (budgets.ts).
      budgets: [],
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
    sources: versionsOf(input.sources),
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
    sources: versionsOf(input.sources),
    windows: [window],
    now: input.now,
    failureStatuses,
    prices: input.prices,
  });
  if (month === undefined) throw new RangeError("no month aggregated");
  return shape(month, window, input, failureStatuses, input.previousTotals ?? null, "month");
}
