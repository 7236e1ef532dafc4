import type { Budget } from "../report/budgets.js";
import { buildDailyReports, buildMonthReport } from "../report/build.js";
import { historyDayOf } from "../report/history-day.js";
import { DAY, MONTH, periodOfReport } from "../report/period.js";
import type { PriceTable } from "../report/prices.js";
import { renderJobsCsv, renderSourcesCsv, renderUsageCsv } from "../report/render-csv.js";
import { renderReportJson } from "../report/render-json.js";
import { MAX_RANGE_DAYS } from "../report/select-dates.js";
import {
  MANIFEST_FILE,
  type PeriodReport,
  type ReportFileName,
  type ReportPeriod,
} from "../report/types.js";
import type { ScanProgress, ScanResult } from "../scan/scan.js";
import { scanSources } from "../scan/sources.js";
import { ConfigError } from "../shared/errors.js";
import { type Log, silentLog } from "../shared/log.js";
import type { Alert } from "../storage/alerts.js";
import { updateHistory } from "../storage/history.js";
import {
  type LatestMonthPointer,
  type LatestPointer,
  readLatest,
  updateLatest,
  updateLatestMonth,
} from "../storage/pointers.js";
import {
  buildManifest,
  type Completeness,
  readReportTotals,
  storedScanStart,
  writeManifest,
  writeReportFiles,
} from "../storage/publish.js";
import { acquireRunLock } from "../storage/run-lock.js";
import { alertsOfRun } from "./run-alerts.js";
import { applyBudgets } from "./run-budgets.js";
import {
  completenessOf,
  type JobSource,
  keepForRun,
  progressOfAll,
  type ScanSummary,
  type SourceListing,
  sourceInputs,
  summed,
} from "./source-scans.js";

export type { JobSource, ScanSummary, SourceListing } from "./source-scans.js";
export { keepForRun } from "./source-scans.js";

import type { ReportStore } from "../storage/store.js";

/**
 * The main job: one scan of the API, the reports of every requested date (and of a month, when
 * asked), their files, the history index, and then `latest.json` / `latest-month.json`. Any
 * failure before the end throws, and the pointers have not moved.
 */

export interface ReportJobOptions {
  /** Consecutive dates, ascending, at most MAX_RANGE_DAYS; may be empty with a month. */
  readonly dates: readonly string[];
  /** A calendar month (`YYYY-MM`) to report as one window, from the same scan. */
  readonly month?: string | undefined;
  readonly timeZone: string;
  readonly failureStatuses: readonly number[];
  readonly now: number;
  /** Prices for `cost` (§9); without them costs are `null`. */
  readonly prices?: PriceTable | undefined;
  /** Budgets (§11) whose states the reports carry; none by default. */
  readonly budgets?: readonly Budget[] | undefined;
  /** Listing requests in flight at once across every source (default: each source's own cap). */
  readonly maxInFlight?: number | undefined;
}

export interface ReportJobDeps {
  /** In configuration order (after expansion); at least one. */
  readonly sources: readonly JobSource[];
  readonly store: ReportStore;
  readonly log?: Log | undefined;
  /** The scan's progress, summed over the sources. */
  readonly onProgress?: ((progress: ScanProgress) => void) | undefined;
}

type WrittenKeys = Record<ReportFileName | typeof MANIFEST_FILE, string>;

/** A day or month this run did not write: the stored report was made from a later scan. */
export interface SupersededReport {
  readonly period: ReportPeriod;
  /** The date or month. */
  readonly label: string;
  /** When the stored report's scan started (ISO, capped by when its manifest was written). */
  readonly scanStartedAt: string;
}

export interface ReportJobResult {
  readonly reports: readonly PeriodReport[];
  readonly written: readonly { date: string; keys: WrittenKeys }[];
  /**
   * Days (and the month) left as they were because a report made from a scan that started
   * later is already stored: a slow run finishing after a newer one never replaces its view.
   */
  readonly superseded: readonly SupersededReport[];
  /** The pointer in force after the run; `undefined` for a run of a month alone, before any day. */
  readonly latest: LatestPointer | undefined;
  /**
   * The month's report, its files and latest-month.json after the run, when a month was asked
   * and written (not superseded).
   */
  readonly month?: {
    readonly report: PeriodReport;
    readonly keys: WrittenKeys;
    readonly latest: LatestMonthPointer;
  };
  /** The sums over the sources. */
  readonly scan: ScanSummary;
  /** Each source's own, in configuration order. */
  readonly sourceScans: readonly (ScanSummary & { readonly name: string })[];
  /** Alerts this run raised (§11): ones raised before by another run are not repeated. */
  readonly alerts: readonly Alert[];
}

export function renderFiles(daily: PeriodReport): Record<ReportFileName, string> {
  return {
    "report.json": renderReportJson(daily.report),
    "usage.csv": renderUsageCsv(daily.report),
    "jobs.csv": renderJobsCsv(daily.report.label, daily.jobs, periodOfReport(daily.report)),
    "sources.csv": renderSourcesCsv(daily.report),
  };
}

export async function runReportJob(
  deps: ReportJobDeps,
  opts: ReportJobOptions,
): Promise<ReportJobResult> {
  checkRun(deps, opts);
  const scans = await scanForReports(deps, opts);
  return publishScans(deps, opts, scans);
}

/** What a run may cover, and that it has a source: else a ConfigError before any work. */
export function checkRun(
  deps: { readonly sources: readonly unknown[] },
  opts: ReportJobOptions,
): void {
  const { dates, month } = opts;
  if (dates.length > MAX_RANGE_DAYS || (dates.length === 0 && month === undefined)) {
    throw new ConfigError(
      `a run covers 1 to ${MAX_RANGE_DAYS} dates or a month, not ${dates.length}`,
    );
  }
  if (deps.sources.length === 0) throw new ConfigError("a run needs at least one source");
}

/** What publishing needs: the store, and each source as report.json names it. */
export interface PublishDeps {
  /** In configuration order, one for each scan. */
  readonly sources: readonly SourceListing[];
  readonly store: ReportStore;
  readonly log?: Log | undefined;
}

/**
 * The second half of a run, given every source's scan (in one process, or merged from the
 * partials of a run on Step Functions): the reports, their files under the lock, the pointers.
 */
export async function publishScans(
  deps: PublishDeps,
  opts: ReportJobOptions,
  scans: readonly ScanResult[],
): Promise<ReportJobResult> {
  checkRun(deps, opts);
  if (scans.length !== deps.sources.length) {
    throw new ConfigError(`${scans.length} scans for ${deps.sources.length} sources`);
  }
  const { reports, monthReport } = await buildReports(deps, opts, scans);
  await applyBudgets(deps.store, opts.budgets ?? [], reports, monthReport);
  const sourceScans = scans.map(({ versions: _versions, ...summary }, i) => ({
    name: (deps.sources[i] as SourceListing).name,
    ...summary,
  }));
  const published = await publishReports(deps, opts, sourceScans, reports, monthReport);
  // Of the days written (not those a newer report superseded).
  const writtenDays = new Set(published.written.map((w) => w.date));
  const alerts = await alertsOfRun(
    deps.store,
    reports.filter((r) => writtenDays.has(r.report.label)),
    opts.now,
  );
  return { reports, ...published, scan: summed(sourceScans), sourceScans, alerts };
}

/** One scan a source, all at once, each keeping what any of the requested windows needs. */
async function scanForReports(deps: ReportJobDeps, opts: ReportJobOptions): Promise<ScanResult[]> {
  const log = deps.log ?? silentLog;
  const { dates, timeZone, month } = opts;
  const label = [dates.length === 0 ? undefined : `${dates[0]}..${dates[dates.length - 1]}`, month]
    .filter(Boolean)
    .join(" and ");
  const several = deps.sources.length > 1;
  log.info("scan started", {
    dates: label,
    timeZone,
    ...(several ? { sources: deps.sources.map((s) => s.name) } : {}),
  });
  const scans = await scanSources(deps.sources, {
    keep: keepForRun(opts),
    maxInFlight: opts.maxInFlight,
    onProgress: progressOfAll(
      deps.sources.map((s) => s.name),
      deps.onProgress,
    ),
    onSourceDone: (name, scan) =>
      log.info("scan finished", {
        ...(several ? { source: name } : {}),
        pages: scan.pages,
        versionsScanned: scan.versionsScanned,
        versionsInRange: scan.versions.size,
        skipped: scan.anomalies.skipped,
        totalCountFirst: scan.totalCountFirst,
        totalCountLast: scan.totalCountLast,
      }),
  });
  return scans;
}

/** The reports of the dates and the month from the scans (pure, but for `previous`). */
async function buildReports(
  deps: PublishDeps,
  opts: ReportJobOptions,
  scans: readonly ScanResult[],
): Promise<{ reports: PeriodReport[]; monthReport: PeriodReport | undefined }> {
  const { dates, month } = opts;
  const shared = {
    prices: opts.prices,
    timeZone: opts.timeZone,
    now: opts.now,
    failureStatuses: opts.failureStatuses,
  };
  // Iterators are read once: each report takes its own over the same versions.
  const reports =
    dates.length === 0
      ? []
      : buildDailyReports({
          ...shared,
          sources: sourceInputs(deps.sources, scans),
          dates,
          previousTotals: await readReportTotals(deps.store, DAY, DAY.previous(dates[0] as string)),
        });
  const monthReport =
    month === undefined
      ? undefined
      : buildMonthReport({
          ...shared,
          sources: sourceInputs(deps.sources, scans),
          month,
          previousTotals: await readReportTotals(deps.store, MONTH, MONTH.previous(month)),
        });
  return { reports, monthReport };
}

/** What a run shares while it writes its reports under the lock. */
interface Publication {
  readonly store: ReportStore;
  readonly log: Log;
  readonly now: number;
  readonly generatedAt: string;
  readonly completeness: Completeness;
  readonly lock: { renew(): Promise<void> };
  readonly superseded: SupersededReport[];
}

/** Writes a report's files and manifest; `undefined` when a newer report is stored. */
async function writeReport(
  run: Publication,
  report: PeriodReport,
): Promise<WrittenKeys | undefined> {
  const { store, log, now, generatedAt } = run;
  const period = periodOfReport(report.report);
  const name = report.report.label;
  // The run's `now` is read from the writer's clock as the run starts, before the scan: the
  // report describes the versions as of that instant.
  const scanStartedAt = generatedAt;
  const stored = await storedScanStart(store, period, name);
  if (stored !== undefined && stored > now) {
    const at = new Date(stored).toISOString();
    run.superseded.push({ period: period.kind, label: name, scanStartedAt: at });
    log.warn(`skipped ${name}: a newer report (scan started ${at}) is already stored`, {
      store: store.url,
      thisScanStartedAt: scanStartedAt,
    });
    return undefined;
  }
  const files = renderFiles(report);
  const dataKeys = await writeReportFiles(store, period, name, files);
  // The manifest comes after the data files, so a manifest always describes whole files.
  const manifestKey = await writeManifest(
    store,
    period,
    buildManifest(period, name, { generatedAt, scanStartedAt }, files, run.completeness),
  );
  log.info("report written", { [period.noun]: name, store: store.url });
  await run.lock.renew();
  return { ...dataKeys, [MANIFEST_FILE]: manifestKey };
}

/**
 * Files are written under the run lock, so two runs never interleave their files. The lock is
 * renewed after each report and checked right before the pointers move. The lock is taken
 * after the scan (a scan may take many minutes), so a slower run that started earlier can get
 * here after a newer one: each report is compared with the stored one first.
 */
async function publishReports(
  deps: PublishDeps,
  opts: ReportJobOptions,
  scans: readonly (ScanSummary & { readonly name: string })[],
  reports: readonly PeriodReport[],
  monthReport: PeriodReport | undefined,
): Promise<Omit<ReportJobResult, "reports" | "scan" | "sourceScans" | "alerts">> {
  const log = deps.log ?? silentLog;
  const { now, timeZone, month } = opts;
  const lock = await acquireRunLock(deps.store, { log });
  try {
    const generatedAt = new Date(now).toISOString();
    const run: Publication = {
      store: deps.store,
      log,
      now,
      generatedAt,
      // The scan fails rather than return short (IncompleteScanError): what is written is whole.
      completeness: completenessOf(scans),
      lock,
      superseded: [],
    };
    const written: { date: string; keys: WrittenKeys }[] = [];
    const writtenReports: PeriodReport[] = [];
    for (const daily of reports) {
      const keys = await writeReport(run, daily);
      if (keys === undefined) continue;
      written.push({ date: daily.report.label, keys });
      writtenReports.push(daily);
    }
    const monthKeys = monthReport === undefined ? undefined : await writeReport(run, monthReport);
    if (writtenReports.length > 0) {
      await updateHistory(
        deps.store,
        writtenReports.map((r) => historyDayOf(r.report)),
        log,
      );
      await lock.renew();
    }
    const writer = { now, timeZone, log };
    const newest = written[written.length - 1];
    const latest =
      newest === undefined
        ? await readLatest(deps.store).catch(() => undefined)
        : await updateLatest(
            deps.store,
            { report_date: newest.date, generated_at: generatedAt, files: newest.keys },
            writer,
          );
    const monthResult =
      monthReport === undefined || monthKeys === undefined || month === undefined
        ? undefined
        : {
            report: monthReport,
            keys: monthKeys,
            latest: await updateLatestMonth(
              deps.store,
              { report_month: month, generated_at: generatedAt, files: monthKeys },
              writer,
            ),
          };
    return {
      written,
      superseded: run.superseded,
      latest,
      ...(monthResult === undefined ? {} : { month: monthResult }),
    };
  } finally {
    await lock.release();
  }
}
