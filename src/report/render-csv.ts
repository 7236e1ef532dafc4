import { outcomeOf, statusName } from "../modelarts/statuses.js";
import { type Cell, CSV_FORMAT, GROUP_KEYS, USAGE_METRIC_COLUMNS } from "./fields.js";
import { csvText, isoUtc } from "./format.js";
import { MS_PER_HOUR } from "./interval.js";
import { DAY, type Period, periodOfReport } from "./period.js";
import type { JobRow, UsageReport } from "./types.js";

/**
 * usage.csv and jobs.csv (report.md §5): RFC 4180, UTF-8 without BOM, CRLF after every row.
 * Hours are written with six decimals and cost with two, always (`12.000000`, `200.00`): a
 * reader that types each file from its text (DuckDB, pandas) then types every day's file the
 * same, whole numbers or not (issue 18).
 */

/** usage.csv's columns: the label, the fields naming its row, and the metrics (fields.ts). */
export const USAGE_CSV_HEADER: readonly string[] = [
  DAY.labelField,
  ...GROUP_KEYS.by_flavor_pool,
  ...USAGE_METRIC_COLUMNS.map((c) => c.header),
];

/** sources.csv (§10): usage.csv's columns with `source` after the label. */
export const SOURCES_CSV_HEADER: readonly string[] = [
  DAY.labelField,
  ...GROUP_KEYS.by_source_flavor_pool,
  ...USAGE_METRIC_COLUMNS.map((c) => c.header),
];

export const JOBS_CSV_HEADER = [
  "report_date",
  "version_id",
  "version_name",
  "status",
  "status_name",
  "flavor_code",
  "pool_id",
  "gpu_num",
  "npu_num",
  "create_time",
  "start_time",
  "end_time",
  "overlap_hours",
  "gpu_hours",
  "npu_hours",
  "failed",
  "outcome",
  "wait_hours",
  "cost",
  "source",
] as const;

/** A file's header for `period`: its label column is the period's label field. */
function headerOf(header: readonly string[], period: Period): readonly string[] {
  return [period.labelField, ...header.slice(1)];
}

export type { Cell };

/**
 * RFC 4180 by hand: a field is quoted when it holds a quote, a comma, a CR or an LF, with its
 * quotes doubled; every record ends with CRLF. csv-stringify wrote the same bytes (it is the
 * oracle of the tests) but allocated about 9 KB a row through its per-field hooks: 370 MB and
 * 0.4 s for a month's 40 000 jobs, against 0.1 s here.
 */
const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(cell: Cell): string {
  const s = typeof cell === "number" ? String(cell) : cell;
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvRecord(cells: readonly Cell[]): string {
  // join, not +=: a row built by concatenation stays a tree of string pieces until the file is
  // joined, about 2 KB a row held at once for a month's jobs.csv; join gives one flat string.
  return `${cells.map(csvField).join(",")}\r\n`;
}

/** A header and a row per item, each row worked out as it is written. */
function csvOf<T>(header: readonly string[], items: Iterable<T>, row: (item: T) => Cell[]): string {
  const lines: string[] = [csvRecord(header)];
  for (const item of items) lines.push(csvRecord(row(item)));
  return lines.join("");
}

export function renderUsageCsv(report: UsageReport): string {
  return csvOf(
    headerOf(USAGE_CSV_HEADER, periodOfReport(report)),
    report.by_flavor_pool,
    (r): Cell[] => [
      report.label,
      csvText(r.flavor_code),
      csvText(r.pool_id),
      ...USAGE_METRIC_COLUMNS.map((c) => c.cell(r)),
    ],
  );
}

/** sources.csv: one row per source × flavor × pool group (§10), in report order. */
export function renderSourcesCsv(report: UsageReport): string {
  return csvOf(
    headerOf(SOURCES_CSV_HEADER, periodOfReport(report)),
    report.by_source_flavor_pool,
    (r): Cell[] => [
      report.label,
      csvText(r.source),
      csvText(r.flavor_code),
      csvText(r.pool_id),
      ...USAGE_METRIC_COLUMNS.map((c) => c.cell(r)),
    ],
  );
}

/**
 * One row per version in the report, in the order given (the aggregation orders them by
 * source, then id).
 * `label` is the date, or for a month report the month.
 */
export function renderJobsCsv(label: string, jobs: Iterable<JobRow>, period: Period): string {
  return csvOf(
    headerOf(JOBS_CSV_HEADER, period),
    jobs,
    ({ source, version: v, overlapMs, failed, waitMs, cost }): Cell[] => [
      label,
      v.versionId,
      csvText(v.versionName),
      v.status,
      csvText(statusName(v.status)),
      csvText(v.flavorCode),
      csvText(v.poolId),
      v.gpuNum,
      v.npuNum,
      isoUtc(v.createTime),
      isoUtc(v.startTime),
      isoUtc(v.endTime),
      CSV_FORMAT.hours(overlapMs / MS_PER_HOUR),
      CSV_FORMAT.hours((v.gpuNum * overlapMs) / MS_PER_HOUR),
      CSV_FORMAT.hours((v.npuNum * overlapMs) / MS_PER_HOUR),
      failed ? "true" : "false",
      outcomeOf(v.status),
      waitMs === null ? "" : CSV_FORMAT.hours(waitMs / MS_PER_HOUR),
      CSV_FORMAT.cost(cost),
      csvText(source),
    ],
  );
}
