import type { JobVersion } from "../modelarts/version-record.js";
import { dayWindows, type SourceInput, sumAnomalies } from "../report/build.js";
import { isInReport } from "../report/interval.js";
import { MONTH } from "../report/period.js";
import type { ScanProgress, ScanResult } from "../scan/scan.js";
import type { SourceScan } from "../scan/sources.js";
import type { Completeness } from "../storage/publish.js";

/**
 * The run's sources and their scans (report.md §10): what a source is to the job, and the
 * figures of several scans as one — summed for the logs, the progress line and the manifest,
 * and handed to the report's builders each with its own.
 */

/** A source as report.json names it: its name and listing (no secrets). */
export interface SourceListing {
  readonly name: string;
  readonly listing: {
    readonly endpoint: string;
    readonly projectId: string;
    readonly workspaceId: string | null;
    readonly poolId: string | null;
  };
}

/** One source of the run: its listing and the port to scan it through. */
export interface JobSource extends SourceScan, SourceListing {}

/** What a scan saw, without its versions: of one source, or summed over the run's. */
export type ScanSummary = Omit<ScanResult, "versions">;

/** The run's scan figures: the sums of its sources' (the anomalies' reasons merged). */
export function summed(scans: readonly ScanSummary[]): ScanSummary {
  const sum = (f: (s: ScanSummary) => number) => scans.reduce((n, s) => n + f(s), 0);
  return {
    versionsScanned: sum((s) => s.versionsScanned),
    recordsRead: sum((s) => s.recordsRead),
    pages: sum((s) => s.pages),
    repairPages: sum((s) => s.repairPages),
    totalCountFirst: sum((s) => s.totalCountFirst),
    totalCountLast: sum((s) => s.totalCountLast),
    anomalies: sumAnomalies(scans.map((s) => s.anomalies)),
  };
}

/** The progress of every source as one: sums, done when all are. */
export function progressOfAll(
  names: readonly string[],
  onProgress: ((progress: ScanProgress) => void) | undefined,
): ((source: string, progress: ScanProgress) => void) | undefined {
  if (onProgress === undefined) return undefined;
  if (names.length === 1) return (_source, progress) => onProgress(progress);
  const latest = new Map<string, ScanProgress>();
  return (source, progress) => {
    latest.set(source, progress);
    const all = [...latest.values()];
    const known = all.length === names.length && all.every((p) => p.totalCount !== undefined);
    onProgress({
      pages: all.reduce((n, p) => n + p.pages, 0),
      versionsRead: all.reduce((n, p) => n + p.versionsRead, 0),
      totalCount: known ? all.reduce((n, p) => n + (p.totalCount ?? 0), 0) : undefined,
      done: all.length === names.length && all.every((p) => p.done),
    });
  };
}

/** The sources' scans as the report's builders take them. */
export function sourceInputs(
  sources: readonly SourceListing[],
  scans: readonly ScanResult[],
): SourceInput[] {
  return sources.map((s, i) => {
    const scan = scans[i] as ScanResult;
    return {
      info: {
        name: s.name,
        endpoint: s.listing.endpoint,
        project_id: s.listing.projectId,
        workspace_id: s.listing.workspaceId,
        pool_id: s.listing.poolId,
        versions_scanned: scan.versionsScanned,
        pages: scan.pages,
        total_count_first: scan.totalCountFirst,
        total_count_last: scan.totalCountLast,
      },
      anomalies: scan.anomalies,
      versions: scan.versions.values(),
    };
  });
}

/** The manifest's completeness: the sums, and with several sources each one's (§10). */
export function completenessOf(
  scans: readonly (ScanSummary & { readonly name: string })[],
): Completeness {
  const of = (scan: ScanSummary) => ({
    total_count_first: scan.totalCountFirst,
    total_count_last: scan.totalCountLast,
    versions_scanned: scan.recordsRead,
    complete: scan.recordsRead >= Math.min(scan.totalCountFirst, scan.totalCountLast),
  });
  const bySource = scans.map((s) => [s.name, of(s)] as const);
  const total = of(summed(scans));
  const complete = bySource.every(([, c]) => c.complete);
  return { ...total, complete, by_source: Object.fromEntries(bySource) };
}

/** Whether a version belongs to any window of the run (the scan's filter). */
export function keepForRun(opts: {
  readonly dates: readonly string[];
  readonly month?: string | undefined;
  readonly timeZone: string;
  readonly now: number;
  readonly failureStatuses: readonly number[];
}): (v: JobVersion) => boolean {
  const { dates, timeZone, now, month } = opts;
  const windows = [
    ...dayWindows(dates, timeZone),
    ...(month === undefined ? [] : [MONTH.window(month, timeZone)]),
  ];
  const range = {
    start: Math.min(...windows.map((w) => w.start)),
    end: Math.max(...windows.map((w) => w.end)),
  };
  const failureSet = new Set(opts.failureStatuses);
  return (v) => isInReport(v, range, now, failureSet);
}
