import { z } from "zod";
import { HttpError } from "../errors.js";
import { type Log, silentLog } from "../log.js";
import { renderReportHtml } from "../report/render-html.js";
import { renderListingHtml } from "../report/render-pages.js";
import { isValidDate } from "../report/time.js";
import {
  MANIFEST_FILE,
  REPORT_FILES,
  type ReportFileName,
  type UsageReport,
} from "../report/types.js";
import { DateSelectionError, type RunSelection, selectRun } from "../select-dates.js";
import { CONTENT_TYPES, dailyKey, readLatest } from "../storage/publish.js";
import type { ReportStore } from "../storage/store.js";
import {
  type ApiResponse,
  conditional,
  htmlResponse,
  jsonResponse,
  negotiateFormat,
} from "./http.js";
import type { LinkScope } from "./links.js";

/**
 * The routes of report.md §7 over a report store, independent of Lambda. Every input is
 * checked here before it reaches a storage key.
 */

export const MAX_REGENERATION_DAYS = 31;
/** The files of a day that can be downloaded: the data files and their manifest. */
const DOWNLOADABLE = [...REPORT_FILES, MANIFEST_FILE] as const;
const DOWNLOAD_URL_SECONDS = 300;

function requireDate(date: string): string {
  if (!isValidDate(date)) {
    throw new HttpError(
      400,
      "invalid_date",
      `"${date.slice(0, 40)}" is not a date (YYYY-MM-DD that exists)`,
    );
  }
  return date;
}

/** `latest` or a date; the date the route names, or 404 when there is no report yet. */
async function resolveDate(store: ReportStore, dateParam: string): Promise<string> {
  if (dateParam === "latest") {
    const latest = await readLatest(store);
    if (latest === undefined)
      throw new HttpError(404, "no_report", "no report has been written yet");
    return latest.report_date;
  }
  return requireDate(dateParam);
}

function notFound(date: string): HttpError {
  return new HttpError(404, "not_found", `there is no report for ${date}`);
}

const reportShape = z
  .object({ schema_version: z.literal(1), report_date: z.string(), generated_at: z.string() })
  .passthrough();

/** report.json as stored by this service; a file that is not one is a server-side fault. */
function parseStoredReport(body: Buffer, key: string): UsageReport {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    throw new Error(`${key} is not JSON`);
  }
  const parsed = reportShape.safeParse(json);
  if (!parsed.success) throw new Error(`${key} is not a report.json of schema version 1`);
  // The writer is this service (render-json.ts); beyond the checked head the shape is trusted.
  return parsed.data as unknown as UsageReport;
}

/**
 * How a page links to another route: the plain path for scripts, or a short-lived signed link
 * (scoped to what it opens) so that a browser can follow it. Given by the handler.
 */
export type PageHref = (path: string, scope: LinkScope) => string;

const plainHref: PageHref = (path) => path;

export async function getReport(
  store: ReportStore,
  dateParam: string,
  request: {
    format?: string | undefined;
    accept?: string | undefined;
    ifNoneMatch?: string | undefined;
    href?: PageHref | undefined;
  },
): Promise<ApiResponse> {
  const format = negotiateFormat(request.format, request.accept);
  const date = await resolveDate(store, dateParam);
  const name: ReportFileName = format === "csv" ? "usage.csv" : "report.json";
  const key = dailyKey(date, name);
  const object = await store.get(key);
  if (object === undefined) throw notFound(date);
  // The same URL answers JSON or HTML by Accept, so caches must key on it (Vary).
  const cache = { "cache-control": "private, no-cache", vary: "accept" };
  if (format === "html") {
    // The page's links open this date's files, whatever route it was reached by.
    const href = request.href ?? plainHref;
    const day: LinkScope = { kind: "day", date };
    const html = renderReportHtml(parseStoredReport(object.body, key), {
      csvHref: href(`/reports/${date}/files/usage.csv`, day),
      jsonHref: href(`/reports/${date}/files/report.json`, day),
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

export async function getReportFile(
  store: ReportStore,
  dateParam: string,
  name: string,
): Promise<ApiResponse> {
  const date = requireDate(dateParam);
  const file = DOWNLOADABLE.find((f) => f === name);
  if (file === undefined)
    throw new HttpError(
      404,
      "not_found",
      "no such file; files are report.json, usage.csv, jobs.csv and manifest.json",
    );
  const key = dailyKey(date, file);
  const downloadName = `${date}-${file}`;
  const url = await store.downloadUrl(key, downloadName, DOWNLOAD_URL_SECONDS);
  if (url !== undefined) {
    // Presigning does not check existence: look (HEAD) first so a missing day is a 404, not a
    // broken link.
    if (!(await store.has(key))) throw notFound(date);
    return {
      status: 302,
      headers: { location: url, "cache-control": "private, no-store" },
      body: "",
    };
  }
  const object = await store.get(key);
  if (object === undefined) throw notFound(date);
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

const limitSchema = z
  .string()
  .regex(/^[0-9]{1,3}$/)
  .transform(Number)
  .pipe(z.number().int().min(1).max(100));

function decodeCursor(cursor: string): string {
  const date = /^[A-Za-z0-9_-]{1,40}$/.test(cursor)
    ? Buffer.from(cursor, "base64url").toString("utf8")
    : "";
  if (!isValidDate(date))
    throw new HttpError(400, "invalid_cursor", "cursor is not one this API gave out");
  return date;
}

export async function listReports(
  store: ReportStore,
  query: {
    limit?: string | undefined;
    cursor?: string | undefined;
    format?: string | undefined;
    accept?: string | undefined;
    href?: PageHref | undefined;
  },
  log: Log = silentLog,
): Promise<ApiResponse> {
  // The listing has no CSV form; JSON or a page.
  const format = negotiateFormat(query.format === "csv" ? "json" : query.format, query.accept);
  let limit = 30;
  if (query.limit !== undefined) {
    const parsed = limitSchema.safeParse(query.limit);
    if (!parsed.success)
      throw new HttpError(400, "invalid_limit", "limit must be a whole number from 1 to 100");
    limit = parsed.data;
  }
  const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const dates = (await store.listFolders("daily"))
    .filter((d) => isValidDate(d) && (before === undefined || d < before))
    .sort()
    .reverse();
  const page = dates.slice(0, limit);
  const reports = await Promise.all(
    page.map(async (date) => {
      const key = dailyKey(date, "report.json");
      const object = await store.get(key);
      if (object === undefined) return undefined; // a day still being written
      try {
        const report = parseStoredReport(object.body, key);
        return { report_date: date, generated_at: report.generated_at };
      } catch (error) {
        // One damaged or foreign file must not hide every other day from the listing.
        log.warn("skipped a stored report.json that cannot be read", {
          key,
          reason: error instanceof Error ? error.message : String(error),
        });
        return undefined;
      }
    }),
  );
  const last = page[page.length - 1];
  const next_cursor =
    dates.length > limit && last !== undefined
      ? Buffer.from(last, "utf8").toString("base64url")
      : null;
  const found = reports.filter((r) => r !== undefined);
  if (format === "html") {
    const href = query.href ?? plainHref;
    const rows = found.map((r) => {
      const day: LinkScope = { kind: "day", date: r.report_date };
      return {
        ...r,
        pageHref: href(`/reports/${r.report_date}?format=html`, day),
        csvHref: href(`/reports/${r.report_date}/files/usage.csv`, day),
      };
    });
    const older =
      next_cursor === null
        ? null
        : href(`/reports?format=html&limit=${limit}&cursor=${next_cursor}`, { kind: "list" });
    return htmlResponse(200, renderListingHtml(rows, older), {
      "cache-control": "private, no-cache",
      vary: "accept",
    });
  }
  return jsonResponse(200, { reports: found, next_cursor });
}

const regenerationBody = z.strictObject({
  date: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  month: z.string().optional(),
});

/** What POST /reports asks for: dates, or a month. */
export type Regeneration = RunSelection;

/**
 * The dates a POST /reports body asks for (report.md §7), or a 400 saying what is wrong:
 * `invalid_date` for a date that does not exist or has not ended in the report time zone,
 * `invalid_body` for anything else.
 */
export function parseRegeneration(
  body: unknown,
  opts: { now: number; timeZone: string },
): Regeneration {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(
      400,
      "invalid_body",
      'the body must be a JSON object {"date": D}, {"from": D, "to": D} or {"month": M}',
    );
  }
  const parsed = regenerationBody.safeParse(body);
  if (!parsed.success) {
    const unknown = Object.keys(body).filter((k) => !["date", "from", "to", "month"].includes(k));
    const issue = parsed.error.issues[0];
    const message =
      unknown.length > 0
        ? `unknown field ${JSON.stringify(unknown[0]?.slice(0, 40))}`
        : `${issue?.path.join(".") || "body"}: must be a string (YYYY-MM-DD, or YYYY-MM for month)`;
    throw new HttpError(400, "invalid_body", message);
  }
  try {
    return selectRun(parsed.data, {
      now: opts.now,
      timeZone: opts.timeZone,
      maxDays: MAX_REGENERATION_DAYS,
      defaultYesterday: false,
    });
  } catch (error) {
    if (error instanceof DateSelectionError) {
      const code = error.problem === "invalid_date" ? "invalid_date" : "invalid_body";
      throw new HttpError(400, code, error.message);
    }
    throw error;
  }
}
