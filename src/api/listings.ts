import * as z from "zod";
import { DAY, MONTH, type Period } from "../report/period.js";
import { type ListingRow, renderListingHtml } from "../report/render-pages.js";
import { RequestError } from "../shared/errors.js";
import { type Log, silentLog } from "../shared/log.js";
import { readHistory } from "../storage/history.js";
import type { ReportStore } from "../storage/store.js";
import { type ApiResponse, htmlResponse, jsonResponse, negotiateFormat } from "./http.js";
import { type PageHref, plainHref, readStoredReport } from "./reports.js";
import { type LinkTarget, listingPath, pathOf } from "./routes.js";

/**
 * GET /reports and GET /reports/months: the stored reports, newest first, in pages of `limit`
 * with an opaque cursor (report.md §7); JSON, or a page for a browser. The daily listing reads
 * the history index (history.json) instead of opening every report.json; without one (lost, or
 * damaged) it falls back to reading the files, and says so in the log.
 */

const limitSchema = z
  .string()
  .regex(/^[0-9]{1,3}$/)
  .transform(Number)
  .pipe(z.number().int().min(1).max(100));

export interface ListingQuery {
  limit?: string | undefined;
  cursor?: string | undefined;
  format?: string | undefined;
  accept?: string | undefined;
  /** How the page links to other routes; asked for only when the answer is a page. */
  links?: (() => Promise<PageHref>) | undefined;
}

interface Entry {
  readonly label: string;
  readonly generated_at: string;
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return 30;
  const parsed = limitSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RequestError("limit must be a whole number from 1 to 100", { code: "invalid_limit" });
  }
  return parsed.data;
}

function decodeCursor(cursor: string, valid: (label: string) => boolean): string {
  const label = /^[A-Za-z0-9_-]{1,40}$/.test(cursor)
    ? Buffer.from(cursor, "base64url").toString("utf8")
    : "";
  if (!valid(label)) {
    throw new RequestError("cursor is not one this API gave out", { code: "invalid_cursor" });
  }
  return label;
}

/** The generated_at of each stored report.json; unreadable ones are skipped and logged. */
async function fromFiles(
  store: ReportStore,
  labels: readonly string[],
  period: Period,
  log: Log,
): Promise<Entry[]> {
  const entries = await Promise.all(
    labels.map(async (label) => {
      const key = period.key(label, "report.json");
      const object = await store.get(key);
      if (object === undefined) return undefined; // still being written
      try {
        const { generated_at } = readStoredReport(object.body, key, period, label);
        return { label, generated_at };
      } catch (error) {
        // One damaged or foreign file must not hide every other report from the listing.
        log.warn("skipped a stored report.json that cannot be read", {
          key,
          reason: error instanceof Error ? error.message : String(error),
        });
        return undefined;
      }
    }),
  );
  return entries.filter((e) => e !== undefined);
}

interface Listing {
  readonly period: Period;
  /** The name of the list in JSON, and of the page. */
  readonly collection: "reports" | "months";
  /** The link scope of one entry's page and files. */
  readonly scopeOf: (label: string) => Extract<LinkTarget, { kind: "day" | "month" }>;
  /** Every label, newest first, after the cursor. */
  readonly labels: string[];
  readonly entries: (page: string[]) => Promise<Entry[]>;
}

/** The page a query asks for: its size, and the label its cursor starts after (checked first). */
function pageOf(
  query: ListingQuery,
  period: Period,
): { limit: number; before: string | undefined } {
  const limit = parseLimit(query.limit);
  const before =
    query.cursor === undefined ? undefined : decodeCursor(query.cursor, period.isLabel);
  return { limit, before };
}

/** The labels after the cursor (`before`), newest first. */
function newestFirst(labels: readonly string[], before: string | undefined): string[] {
  return labels
    .filter((l) => before === undefined || l < before)
    .sort()
    .reverse();
}

/** One page of the listing, after its cursor: JSON or a page for a browser. */
async function answer(listing: Listing, query: ListingQuery, limit: number): Promise<ApiResponse> {
  const entries = await listing.entries(listing.labels.slice(0, limit));
  const hasMore = listing.labels.length > limit;
  const format = negotiateFormat(query.format === "csv" ? "json" : query.format, query.accept);
  const last = listing.labels.slice(0, limit).at(-1);
  const next_cursor =
    hasMore && last !== undefined ? Buffer.from(last, "utf8").toString("base64url") : null;
  const field = listing.period.labelField;
  if (format !== "html") {
    const rows = entries.map((e) => ({ [field]: e.label, generated_at: e.generated_at }));
    return jsonResponse(200, { [listing.collection]: rows, next_cursor });
  }
  const href = query.links === undefined ? plainHref : await query.links();
  const rows: ListingRow[] = entries.map((e) => {
    const scope = listing.scopeOf(e.label);
    return {
      label: e.label,
      generated_at: e.generated_at,
      pageHref: href(`${pathOf(scope)}?format=html`, scope),
      csvHref: href(pathOf({ ...scope, file: "usage.csv" }), scope),
    };
  });
  const own = listingPath(listing.period.kind);
  const older =
    next_cursor === null
      ? null
      : (href(`${own}?format=html&limit=${limit}&cursor=${next_cursor}`, { kind: "list" }) ?? null);
  return htmlResponse(
    200,
    renderListingHtml(rows, older, listing.collection === "months" ? "months" : "days"),
    { "cache-control": "private, no-cache", vary: "accept" },
  );
}

export async function listReports(
  store: ReportStore,
  query: ListingQuery,
  log: Log = silentLog,
): Promise<ApiResponse> {
  const { limit, before } = pageOf(query, DAY);
  const history = await readHistory(store);
  let labels: string[];
  let entries: (page: string[]) => Promise<Entry[]>;
  if (history !== undefined) {
    const byDate = new Map(history.map((d) => [d.date, d.generated_at]));
    labels = [...byDate.keys()];
    entries = async (page) =>
      page.map((label) => ({ label, generated_at: byDate.get(label) ?? "" }));
  } else {
    log.warn("history.json is missing or damaged: listing from the daily files (npm run reindex)");
    labels = (await store.listFolders(DAY.folder)).filter(DAY.isLabel);
    entries = (page) => fromFiles(store, page, DAY, log);
  }
  const listing: Listing = {
    period: DAY,
    collection: "reports",
    scopeOf: (date) => ({ kind: "day", date }),
    labels: newestFirst(labels, before),
    entries,
  };
  return answer(listing, query, limit);
}

export async function listMonths(
  store: ReportStore,
  query: ListingQuery,
  log: Log = silentLog,
): Promise<ApiResponse> {
  const { limit, before } = pageOf(query, MONTH);
  const labels = (await store.listFolders(MONTH.folder)).filter(MONTH.isLabel);
  const listing: Listing = {
    period: MONTH,
    collection: "months",
    scopeOf: (month) => ({ kind: "month", month }),
    labels: newestFirst(labels, before),
    entries: (page) => fromFiles(store, page, MONTH, log),
  };
  return answer(listing, query, limit);
}
