import * as z from "zod";
import type { ReportJobResult } from "../app/report-job.js";

/** What a run tells its caller and the log: the dates, the pointers, the scan's figures. */
export const reportOutcome = z.strictObject({
  dates: z.array(z.string()),
  month: z.string().nullable(),
  latest: z.string().nullable(),
  latestMonth: z.string().nullable(),
  versionsScanned: z.number().int().nonnegative(),
  pages: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  duplicateRows: z.number().int().nonnegative(),
  /** Dates or months left alone: a report from a later scan was already stored. */
  superseded: z.array(z.string()),
  /** The sources scanned, in configuration order after expansion (report.md §10). */
  sources: z.array(z.string()),
});
export type ReportOutcome = z.infer<typeof reportOutcome>;

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
