import type { ReportJobResult } from "../app/report-job.js";

/** What a run tells its caller and the log: the dates, the pointers, the scan's figures. */

export interface ReportOutcome {
  dates: string[];
  month: string | null;
  latest: string | null;
  latestMonth: string | null;
  versionsScanned: number;
  pages: number;
  skipped: number;
  duplicateRows: number;
  /** Dates or months left alone: a report from a later scan was already stored. */
  superseded: string[];
  /** The sources scanned, in configuration order after expansion (report.md §10). */
  sources: string[];
}

/** What a run tells its caller (and the log): the dates, the pointers, the scan's figures. */
export function outcomeOf(
  result: ReportJobResult,
  dates: readonly string[],
  month: string | undefined,
): ReportOutcome {
  return {
    dates: [...dates],
    month: month ?? null,
    latest: result.latest?.report_date ?? null,
    latestMonth: result.month?.latest.report_month ?? null,
    versionsScanned: result.scan.versionsScanned,
    pages: result.scan.pages,
    skipped: result.scan.anomalies.skipped,
    duplicateRows: result.scan.anomalies.duplicate_rows,
    superseded: result.superseded.map((s) => s.label),
    sources: result.sourceScans.map((s) => s.name),
  };
}
