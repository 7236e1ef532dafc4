import { ConfigError } from "./errors.js";
import { type Log, silentLog } from "./log.js";
import type { VersionSource } from "./modelarts/client.js";
import { buildDailyReports, dayWindows } from "./report/build.js";
import { isInReport } from "./report/interval.js";
import type { PriceTable } from "./report/prices.js";
import { renderJobsCsv, renderUsageCsv } from "./report/render-csv.js";
import { renderReportJson } from "./report/render-json.js";
import { addDays, yesterday } from "./report/time.js";
import { type DailyReport, MANIFEST_FILE, type ReportFileName } from "./report/types.js";
import { type ScanProgress, type ScanResult, scanVersions } from "./scan.js";
import {
  buildManifest,
  type LatestPointer,
  readReportTotals,
  updateLatest,
  writeDailyFiles,
  writeManifest,
} from "./storage/publish.js";
import { acquireRunLock } from "./storage/run-lock.js";
import type { ReportStore } from "./storage/store.js";

/**
 * The main job: one scan of the API, the reports of every requested date, their files, and
 * then `latest.json`. Any failure before the end throws, and `latest.json` has not moved.
 */

export const MAX_RANGE_DAYS = 92;

export interface ReportJobOptions {
  /** Consecutive dates, ascending, at most MAX_RANGE_DAYS. */
  readonly dates: readonly string[];
  readonly timeZone: string;
  readonly failureStatuses: readonly number[];
  readonly now: number;
  readonly pageSize: number;
  /** Page requests in flight at once (default 1). */
  readonly concurrency?: number | undefined;
  /** Prices for `cost` (§9); without them costs are `null`. */
  readonly prices?: PriceTable | undefined;
  /** Where the versions come from, as written in `source` (no secrets). */
  readonly sourceInfo: {
    readonly endpoint: string;
    readonly projectId: string;
    readonly workspaceId: string | null;
    readonly poolId: string | null;
  };
}

export interface ReportJobDeps {
  readonly versions: VersionSource;
  readonly store: ReportStore;
  readonly log?: Log | undefined;
  readonly onProgress?: ((progress: ScanProgress) => void) | undefined;
}

export interface ReportJobResult {
  readonly reports: readonly DailyReport[];
  readonly written: readonly {
    date: string;
    keys: Record<ReportFileName | typeof MANIFEST_FILE, string>;
  }[];
  /** The pointer in force after the run. */
  readonly latest: LatestPointer;
  readonly scan: Omit<ScanResult, "versions">;
}

export function renderFiles(daily: DailyReport): Record<ReportFileName, string> {
  return {
    "report.json": renderReportJson(daily.report),
    "usage.csv": renderUsageCsv(daily.report),
    "jobs.csv": renderJobsCsv(daily.report.report_date, daily.jobs),
  };
}

export async function runReportJob(
  deps: ReportJobDeps,
  opts: ReportJobOptions,
): Promise<ReportJobResult> {
  const log = deps.log ?? silentLog;
  const { dates, timeZone, now } = opts;
  if (dates.length === 0 || dates.length > MAX_RANGE_DAYS) {
    throw new ConfigError(`a run covers 1 to ${MAX_RANGE_DAYS} dates, not ${dates.length}`);
  }
  const windows = dayWindows(dates, timeZone);
  const range = {
    start: (windows[0] as (typeof windows)[number]).start,
    end: (windows[windows.length - 1] as (typeof windows)[number]).end,
  };
  const failureSet = new Set(opts.failureStatuses);

  log.info("scan started", { dates: `${dates[0]}..${dates[dates.length - 1]}`, timeZone });
  const scan = await scanVersions(deps.versions, {
    pageSize: opts.pageSize,
    concurrency: opts.concurrency,
    keep: (v) => isInReport(v, range, now, failureSet),
    onProgress: deps.onProgress,
  });
  const { versions, ...scanSummary } = scan;
  log.info("scan finished", {
    pages: scan.pages,
    versionsScanned: scan.versionsScanned,
    versionsInRange: versions.size,
    skipped: scan.anomalies.skipped,
    totalCountFirst: scan.totalCountFirst,
    totalCountLast: scan.totalCountLast,
  });

  const previousTotals = await readReportTotals(deps.store, addDays(dates[0] as string, -1));
  const reports = buildDailyReports({
    prices: opts.prices,
    previousTotals,
    versions: versions.values(),
    dates,
    timeZone,
    now,
    failureStatuses: opts.failureStatuses,
    source: {
      endpoint: opts.sourceInfo.endpoint,
      project_id: opts.sourceInfo.projectId,
      workspace_id: opts.sourceInfo.workspaceId,
      pool_id: opts.sourceInfo.poolId,
      versions_scanned: scan.versionsScanned,
      pages: scan.pages,
    },
    anomalies: scan.anomalies,
  });

  // Files are written under the run lock, so two runs never interleave their files. The lock
  // is renewed after each date and checked right before latest.json moves.
  const lock = await acquireRunLock(deps.store, { log });
  try {
    const written: { date: string; keys: Record<ReportFileName | typeof MANIFEST_FILE, string> }[] =
      [];
    const generatedAt = new Date(now).toISOString();
    // The scan fails rather than return short (IncompleteScanError): what is written is whole.
    const completeness = {
      total_count_first: scan.totalCountFirst,
      total_count_last: scan.totalCountLast,
      versions_scanned: scan.recordsRead,
      complete: scan.recordsRead >= Math.min(scan.totalCountFirst, scan.totalCountLast),
    };
    for (const daily of reports) {
      const date = daily.report.report_date;
      const files = renderFiles(daily);
      const dataKeys = await writeDailyFiles(deps.store, date, files);
      // The manifest comes after the data files, so a manifest always describes whole files.
      const manifestKey = await writeManifest(
        deps.store,
        buildManifest(date, generatedAt, files, completeness),
      );
      written.push({ date, keys: { ...dataKeys, [MANIFEST_FILE]: manifestKey } });
      log.info("report written", { date, store: deps.store.url });
      await lock.renew();
    }
    const newest = written[written.length - 1] as (typeof written)[number];
    const latest = await updateLatest(
      deps.store,
      { report_date: newest.date, generated_at: generatedAt, files: newest.keys },
      { latestAllowed: yesterday(now, timeZone) },
    );
    return { reports, written, latest, scan: scanSummary };
  } finally {
    await lock.release();
  }
}
