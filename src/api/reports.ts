import { DAY, MONTH, type PeriodRef, periodOf } from "../report/period.js";
import { renderReportHtml } from "../report/render-html.js";
import { parseStoredReport, type StoredReport } from "../report/stored-schema.js";
import { DOWNLOADABLE_FILES, type ReportFileName } from "../report/types.js";
import { RequestError } from "../shared/errors.js";
import { readHistory } from "../storage/history.js";
import { readLatestLabel } from "../storage/pointers.js";
import { CONTENT_TYPES, reportKey } from "../storage/publish.js";
import type { ReportStore } from "../storage/store.js";
import { type ApiResponse, conditional, htmlResponse, negotiateFormat } from "./http.js";
import { type LinkScope, targetOfScope } from "./links.js";
import { isSourceName, pathOf, requireLabel } from "./routes.js";

/**
 * The single-report routes of report.md §7 over a report store, independent of Lambda: a
 * day's (`/reports/{date}`, `/reports/latest`) and a month's (`/reports/months/{month}`,
 * `/reports/months/latest`) report.json, usage.csv or page, and their files. Every input is
 * checked here before it reaches a storage key.
 */

/** The files of a report that can be downloaded: the data files and their manifest. */
const DOWNLOAD_URL_SECONDS = 300;

/** `latest` or a date (month): what the route names, or 404 when there is no report yet. */
async function resolveLabel(store: ReportStore, period: PeriodRef, param: string) {
  if (param !== "latest") return requireLabel(periodOf(period).kind, param);
  const latest = await readLatestLabel(store, period);
  if (latest === undefined) {
    throw new RequestError(`no ${periodOf(period).reportName} has been written yet`, {
      code: "no_report",
    });
  }
  return latest;
}

function notFound(label: string): RequestError {
  return new RequestError(`there is no report for ${label}`, { code: "not_found" });
}

/**
 * report.json as stored under `key` for `label`, through the report's schema: a file that is
 * not one (changed in the bucket, cut short) throws StoredReportError, naming the file and the
 * field at fault: the store's fault, not the caller's (502 `invalid_stored_report`, logged).
 */
export function readStoredReport(
  body: Buffer,
  key: string,
  period: PeriodRef,
  label: string,
): StoredReport {
  return parseStoredReport(body, key, { period, label });
}

/**
 * How a page links to another route: the plain path for scripts, or a short-lived signed link
 * scoped to what it opens, so that a browser can follow it. `own` marks the page's own files
 * (always linked); another page is `undefined` when the way in (a signed link of a narrower
 * scope) does not open it. Given by the handler.
 */
export type PageHref = (path: string, scope: LinkScope, own?: boolean) => string | undefined;

export const plainHref: PageHref = (path) => path;

export interface ReportRequest {
  format?: string | undefined;
  accept?: string | undefined;
  ifNoneMatch?: string | undefined;
  /**
   * How the page links to other routes; asked for only when the answer is a page (signing
   * needs the link key, which a JSON or CSV answer must not depend on).
   */
  links?: (() => Promise<PageHref>) | undefined;
}

export async function getPeriodReport(
  store: ReportStore,
  period: PeriodRef,
  param: string,
  request: ReportRequest,
): Promise<ApiResponse> {
  const format = negotiateFormat(request.format, request.accept);
  const label = await resolveLabel(store, period, param);
  const name: ReportFileName = format === "csv" ? "usage.csv" : "report.json";
  const key = reportKey(period, label, name);
  const object = await store.get(key);
  if (object === undefined) throw notFound(label);
  // Served as stored, but only once it has been read as a report (CSV is served as it is).
  const report = name === "report.json" ? readStoredReport(object.body, key, period, label) : null;
  // The same URL answers JSON or HTML by Accept, so caches must key on it (Vary).
  const cache = { "cache-control": "private, no-cache", vary: "accept" };
  if (format === "html" && report !== null) {
    // The page's links open its own files, whatever route it was reached by, and other pages
    // only where the way in allows.
    const href = request.links === undefined ? plainHref : await request.links();
    // Its downloads are signed file by file: a page reached by a "latest" link must not hand
    // out a link to the whole day or month (a month's link opens its days too).
    const link = (scope: LinkScope, query: string, own = false) =>
      href(`${pathOf(targetOfScope(scope))}${query}`, scope, own);
    const own = (name: ReportFileName) =>
      link({ kind: "file", period: periodOf(period).kind, label, name }, "", true);
    const html = renderReportHtml(report, {
      csvHref: own("usage.csv"),
      jsonHref: own("report.json"),
      history: (await readHistory(store)) ?? [],
      dayHref: (date) => link({ kind: "day", date }, "?format=html"),
      monthHref: (month) => link({ kind: "month", month }, "?format=html"),
      // A source's page is a narrower view of this report: linked whatever the way in, signed
      // with that source's scope. A name no source can have (a changed file) is not linked.
      sourceHref: (source) =>
        isSourceName(source)
          ? link(
              { kind: "source", period: periodOf(period).kind, label, source },
              "?format=html",
              true,
            )
          : undefined,
    });
    return htmlResponse(200, html, cache);
  }
  const answer = conditional(request.ifNoneMatch, object.etag, () => ({
    status: 200,
    headers: { "content-type": CONTENT_TYPES[name], ...cache },
    body: object.body.toString("utf8"),
  }));
  // A 304 carries the Cache-Control and Vary the 200 would have (RFC 9110 §15.4.5).
  return { ...answer, headers: { ...cache, ...answer.headers } };
}

export function getReport(store: ReportStore, dateParam: string, request: ReportRequest) {
  return getPeriodReport(store, DAY, dateParam, request);
}

export function getMonthReport(store: ReportStore, monthParam: string, request: ReportRequest) {
  return getPeriodReport(store, MONTH, monthParam, request);
}

export async function getPeriodFile(
  store: ReportStore,
  period: PeriodRef,
  param: string,
  name: string,
): Promise<ApiResponse> {
  const label = requireLabel(period, param);
  const file = DOWNLOADABLE_FILES.find((f) => f === name);
  if (file === undefined)
    throw new RequestError(
      "no such file; files are report.json, usage.csv, jobs.csv and manifest.json",
      { code: "not_found" },
    );
  const key = reportKey(period, label, file);
  const downloadName = `${label}-${file}`;
  const url = await store.downloadUrl(key, downloadName, DOWNLOAD_URL_SECONDS);
  if (url !== undefined) {
    // Presigning does not check existence: look (HEAD) first so a missing day is a 404, not a
    // broken link.
    if (!(await store.has(key))) throw notFound(label);
    return {
      status: 302,
      headers: { location: url, "cache-control": "private, no-store" },
      body: "",
    };
  }
  const object = await store.get(key);
  if (object === undefined) throw notFound(label);
  return {
    status: 200,
    headers: {
      "content-type": CONTENT_TYPES[file],
      "content-disposition": `attachment; filename="${downloadName}"`,
      etag: object.etag,
    },
    body: object.body.toString("utf8"),
  };
}

export function getReportFile(store: ReportStore, dateParam: string, name: string) {
  return getPeriodFile(store, DAY, dateParam, name);
}

export function getMonthFile(store: ReportStore, monthParam: string, name: string) {
  return getPeriodFile(store, MONTH, monthParam, name);
}
