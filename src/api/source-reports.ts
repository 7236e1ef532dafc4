import { createHash } from "node:crypto";
import { csvText } from "../report/format.js";
import { DAY, MONTH, type PeriodRef, periodOf } from "../report/period.js";
import { renderSourceHtml, type SourceSlice } from "../report/render-html-source.js";
import { StoredReportError } from "../report/stored-schema.js";
import type { ReportFileName } from "../report/types.js";
import { RequestError } from "../shared/errors.js";
import { CONTENT_TYPES, reportKey } from "../storage/publish.js";
import type { ReportStore, StoredObject } from "../storage/store.js";
import { CsvFileError, recordsWhere } from "./csv-records.js";
import {
  type ApiResponse,
  conditional,
  htmlResponse,
  jsonResponse,
  negotiateFormat,
} from "./http.js";
import type { LinkScope } from "./links.js";
import { plainHref, type ReportRequest, readStoredReport } from "./reports.js";
import { pathOf, requireLabel, requireSourceName, type SourceTarget } from "./routes.js";

/**
 * One source's slice of a day's or month's report (report.md §10), for a team that should see
 * its own usage and nothing of the others': `/reports/{date}/sources/{name}` and
 * `/reports/months/{month}/sources/{name}`. JSON (default): the source's entry of `sources`,
 * its `by_source` row as totals, its `by_source_flavor_pool` rows and its anomalies;
 * `?format=csv`: its rows of sources.csv; `?format=jobs`: its rows of jobs.csv; `?format=html`
 * (or a browser's Accept): its page. The rows served are the stored bytes, picked out of the
 * stored files. A source the report does not have is 404, whatever the format, and the answer
 * names no other source.
 */

export type SourceFormat = "json" | "csv" | "jobs" | "html";

/** `?format=jobs` beside the formats of the report routes. */
export function negotiateSourceFormat(
  format: string | undefined,
  accept: string | undefined,
): SourceFormat {
  if (format === "jobs") return "jobs";
  if (format !== undefined && format !== "json" && format !== "csv" && format !== "html") {
    throw new RequestError(`format "${format.slice(0, 40)}" is not json, csv, jobs or html`, {
      code: "invalid_format",
    });
  }
  return negotiateFormat(format, accept);
}

/**
 * The ETag of an answer made from a stored file: the file's own, with what was picked from it.
 * The same file gives the same ETag for the same source and format.
 */
function derivedEtag(object: StoredObject, ...parts: string[]): string {
  const hash = createHash("sha256").update(["source-v1", object.etag, ...parts].join("\n"));
  return `"${hash.digest("base64url").slice(0, 32)}"`;
}

const CACHE = { "cache-control": "private, no-cache", vary: "accept" } as const;

async function readFile(store: ReportStore, target: SourceTarget, name: ReportFileName) {
  const key = reportKey(target.period, target.label, name);
  const object = await store.get(key);
  if (object === undefined) {
    throw new RequestError(`there is no report for ${target.label}`, { code: "not_found" });
  }
  return { key, object };
}

/** The source's slice of the stored report; 404 when the report has no such source. */
async function readSlice(store: ReportStore, target: SourceTarget) {
  const { key, object } = await readFile(store, target, "report.json");
  const report = readStoredReport(object.body, key, target.period, target.label);
  const info = report.sources.find((s) => s.name === target.source);
  if (info === undefined) {
    // Only the name asked for (checked by the route) is repeated: nothing of the others.
    throw new RequestError(`the report of ${target.label} has no source "${target.source}"`, {
      code: "not_found",
    });
  }
  const row = report.by_source.find((r) => r.source === target.source);
  if (row === undefined) throw new StoredReportError(key, `by_source has no row for a source`);
  const { source: _, ...totals } = row;
  const slice: SourceSlice = {
    period: target.period,
    label: target.label,
    timezone: report.timezone,
    window: report.window,
    generated_at: report.generated_at,
    source: info,
    totals,
    by_flavor_pool: report.by_source_flavor_pool
      .filter((r) => r.source === target.source)
      .map(({ source: _s, ...rest }) => rest),
    anomalies: report.anomalies.by_source?.[target.source] ?? { skipped: 0, duplicate_rows: 0 },
    currency: report.currency,
  };
  return { slice, failureStatuses: report.failure_statuses, object };
}

/** The header and the source's rows of a stored CSV file (sources.csv, jobs.csv). */
async function rowsOf(store: ReportStore, target: SourceTarget, name: ReportFileName) {
  const { key, object } = await readFile(store, target, name);
  try {
    // The files write the name as any text cell (a leading "-" gets its "'", §5).
    const picked = recordsWhere(object.body.toString("utf8"), "source", csvText(target.source));
    return { object, ...picked };
  } catch (error) {
    if (error instanceof CsvFileError) throw new StoredReportError(key, error.message);
    throw error;
  }
}

/** report.json's slice: its keys in the order of report.json, the period's label field. */
function sliceJson(slice: SourceSlice, failureStatuses: readonly number[]) {
  return {
    schema_version: 1,
    [periodOf(slice.period).labelField]: slice.label,
    timezone: slice.timezone,
    window: slice.window,
    generated_at: slice.generated_at,
    source: slice.source,
    totals: slice.totals,
    by_flavor_pool: slice.by_flavor_pool,
    anomalies: slice.anomalies,
    failure_statuses: failureStatuses,
    currency: slice.currency,
  };
}

/** A source's rows of a CSV file, as a download named after the period and the source. */
async function csvAnswer(
  store: ReportStore,
  target: SourceTarget,
  file: "sources.csv" | "jobs.csv",
  ifNoneMatch: string | undefined,
): Promise<ApiResponse> {
  const { object, header, rows } = await rowsOf(store, target, file);
  const answer = conditional(ifNoneMatch, derivedEtag(object, target.source, file), () => ({
    status: 200,
    headers: {
      "content-type": CONTENT_TYPES[file],
      "content-disposition": `attachment; filename="${target.label}-${target.source}-${file}"`,
      ...CACHE,
    },
    body: header.text + rows.map((r) => r.text).join(""),
  }));
  return { ...answer, headers: { ...CACHE, ...answer.headers } };
}

async function pageAnswer(
  store: ReportStore,
  target: SourceTarget,
  slice: SourceSlice,
  request: ReportRequest,
): Promise<ApiResponse> {
  const href = request.links === undefined ? plainHref : await request.links();
  // The page's own links are signed with its source's scope: a page reached by a team's link
  // hands out nothing wider. The whole report is linked only where the way in opens it.
  const own = (query: string) => href(`${pathOf(target)}${query}`, target, true);
  const whole: LinkScope =
    target.period === "day"
      ? { kind: "day", date: target.label }
      : { kind: "month", month: target.label };
  const { rows } = await rowsOf(store, target, "jobs.csv");
  const html = renderSourceHtml(slice, {
    jsonHref: own(""),
    csvHref: own("?format=csv"),
    jobsHref: own("?format=jobs"),
    reportHref: href(`${pathOf(whole)}?format=html`, whole),
    jobs: rows.length,
  });
  return htmlResponse(200, html, CACHE);
}

export async function getPeriodSource(
  store: ReportStore,
  period: PeriodRef,
  params: { label: string; name: string },
  request: ReportRequest,
): Promise<ApiResponse> {
  const described = periodOf(period);
  const target: SourceTarget = {
    kind: "source",
    period: described.kind,
    label: requireLabel(described, params.label),
    source: requireSourceName(params.name),
  };
  const format = negotiateSourceFormat(request.format, request.accept);
  const { slice, failureStatuses, object } = await readSlice(store, target);
  if (format === "csv") return csvAnswer(store, target, "sources.csv", request.ifNoneMatch);
  if (format === "jobs") return csvAnswer(store, target, "jobs.csv", request.ifNoneMatch);
  if (format === "html") return pageAnswer(store, target, slice, request);
  const answer = conditional(request.ifNoneMatch, derivedEtag(object, target.source, "json"), () =>
    jsonResponse(200, sliceJson(slice, failureStatuses), CACHE),
  );
  return { ...answer, headers: { ...CACHE, ...answer.headers } };
}

export function getReportSource(store: ReportStore, date: string, name: string, r: ReportRequest) {
  return getPeriodSource(store, DAY, { label: date, name }, r);
}

export function getMonthSource(store: ReportStore, month: string, name: string, r: ReportRequest) {
  return getPeriodSource(store, MONTH, { label: month, name }, r);
}
