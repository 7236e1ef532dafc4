import { renderRefusalHtml } from "../report/render-pages.js";
import { DateSelectionError } from "../report/select-dates.js";
import { StoredReportError } from "../report/stored-schema.js";
import {
  ConfigError,
  InvalidInputError,
  RequestError,
  type RequestErrorCode,
} from "../shared/errors.js";
import {
  type PendingRegeneration,
  RegenerationPendingError,
  RegenerationQueueFullError,
} from "../storage/regenerations.js";
import { LinkRefusedError } from "./links.js";

/** A transport-neutral HTTP answer; the Lambda handlers turn it into API Gateway's shape. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export const JSON_TYPE = "application/json; charset=utf-8";

/**
 * The Content-Security-Policy of every page: what the page needs and no more. Inline styles
 * and inline SVG, plain links and downloads (`sandbox allow-downloads`: the page runs in an
 * opaque origin with scripts, forms, popups and plugins off); nothing is loaded from anywhere.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "sandbox allow-downloads",
].join("; ");

/** A page (HTML) answer with the page policy. */
export function htmlResponse(status: number, body: string, headers: Record<string, string> = {}) {
  return {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": PAGE_CSP,
      ...headers,
    },
    body,
  };
}

export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): ApiResponse {
  return {
    status,
    headers: { "content-type": JSON_TYPE, ...headers },
    body: `${JSON.stringify(value)}\n`,
  };
}

/** The status of each request error code (report.md §7). */
const REQUEST_STATUS: Record<RequestErrorCode, number> = {
  invalid_body: 400,
  invalid_cursor: 400,
  invalid_date: 400,
  invalid_format: 400,
  invalid_host: 400,
  invalid_json: 400,
  invalid_limit: 400,
  invalid_month: 400,
  invalid_source: 400,
  unauthorized: 401,
  not_found: 404,
  no_report: 404,
  body_too_large: 413,
  unsupported_media_type: 415,
};

/** Where `toHttp` tells the operator about a failure that is the service's, not the caller's. */
export interface ErrorLog {
  error(message: string, extra: Record<string, unknown>): void;
}

/** The error body of report.md §7; never a stack trace. */
function errorAnswer(
  status: number,
  code: string,
  message: string,
  more: { headers?: Record<string, string>; details?: Record<string, unknown> } = {},
): ApiResponse {
  return jsonResponse(status, { error: { code, message, ...more.details } }, more.headers);
}

/** The pending regenerations an answer lists (their ids stay inside). */
const listed = (pending: readonly PendingRegeneration[]) => ({
  pending: pending.map((p) => ({
    from: p.from,
    to: p.to,
    accepted_at: p.accepted_at,
    expires_at: p.expires_at,
  })),
});

/** Whether the client asked for JSON over HTML (a script); a browser's Accept prefers HTML. */
function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return acceptQuality(accept, "application/json") > acceptQuality(accept, "text/html");
}

/**
 * The one mapping of errors to HTTP answers: what the caller did wrong gets its 4xx and a
 * message that says so; anything else is the service's fault, logged and answered with a
 * generic 5xx, never a stack trace or a detail (report.md §7).
 */
export function toHttp(
  error: unknown,
  opts: { accept?: string | undefined; log: ErrorLog },
): ApiResponse {
  if (error instanceof RequestError) {
    const headers = error.code === "unauthorized" ? { "www-authenticate": "Bearer" } : {};
    return errorAnswer(REQUEST_STATUS[error.code], error.code, error.message, { headers });
  }
  if (error instanceof LinkRefusedError) {
    if (prefersJson(opts.accept)) return errorAnswer(403, error.refusal, error.message);
    // A person followed the link: a page that says what happened, not a JSON error.
    return htmlResponse(403, renderRefusalHtml(error.refusal, error.message), {
      "cache-control": "no-store",
    });
  }
  if (error instanceof DateSelectionError) {
    const code = error.problem === "invalid_date" ? "invalid_date" : "invalid_body";
    return errorAnswer(400, code, error.message);
  }
  if (error instanceof InvalidInputError) return errorAnswer(400, "invalid_body", error.message);
  // 409: the dates conflict with a pending regeneration. 429: nothing conflicts, but as many
  // as allowed are pending; the same POST succeeds once one has finished.
  if (error instanceof RegenerationPendingError) {
    return errorAnswer(409, "regeneration_pending", error.message, {
      details: listed(error.pending),
    });
  }
  if (error instanceof RegenerationQueueFullError) {
    return errorAnswer(429, "regeneration_queue_full", error.message, {
      details: listed(error.pending),
    });
  }
  if (error instanceof StoredReportError) {
    // The store's fault, not the caller's: the file and the field at fault, in the log too.
    opts.log.error(error.message, { code: "invalid_stored_report" });
    return errorAnswer(502, "invalid_stored_report", error.message);
  }
  if (error instanceof ConfigError) {
    // The operator's fault, not the caller's: the log says what to fix, the answer not.
    opts.log.error("the function is not configured correctly", { reason: error.message });
    return errorAnswer(500, "not_configured", "the service is not configured correctly");
  }
  opts.log.error("request failed", { error: error instanceof Error ? error : String(error) });
  return errorAnswer(500, "internal_error", "the request could not be completed");
}

/** Whether an If-None-Match header matches an ETag (weak comparison, lists and `*` allowed). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}

/** 304 when the client already has this content, otherwise `answer`. */
export function conditional(
  ifNoneMatch: string | undefined,
  etag: string,
  answer: () => ApiResponse,
): ApiResponse {
  if (etagMatches(ifNoneMatch, etag)) return { status: 304, headers: { etag }, body: "" };
  const response = answer();
  return { ...response, headers: { ...response.headers, etag } };
}

export type ReportFormat = "json" | "csv" | "html";

/**
 * The quality an Accept header gives `type` (e.g. `text/html`), taken from the most specific
 * range that matches it (`text/html` over `text/*` over `*\/*`); 0 when none does. Media
 * ranges are case-insensitive; a malformed `q` counts as 0.
 */
export function acceptQuality(accept: string, type: string): number {
  const group = `${type.slice(0, type.indexOf("/"))}/*`;
  let specificity = -1;
  let quality = 0;
  for (const part of accept.split(",")) {
    const [range = "", ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    const rank = range === type ? 2 : range === group ? 1 : range === "*/*" ? 0 : -1;
    if (rank <= specificity) continue;
    const q = params.find((p) => /^q\s*=/.test(p))?.replace(/^q\s*=\s*/, "");
    const value = q === undefined ? 1 : /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(q) ? Number(q) : 0;
    specificity = rank;
    quality = value;
  }
  return quality;
}

/**
 * `?format=` wins; otherwise an Accept header that prefers text/html over JSON gets the page
 * (a browser's `text/html,…,*\/*;q=0.8` does; `*\/*`, or `application/json, text/html;q=0.5`
 * from a script, does not: a tie goes to JSON).
 */
export function negotiateFormat(
  format: string | undefined,
  accept: string | undefined,
): ReportFormat {
  if (format !== undefined) {
    if (format === "json" || format === "csv" || format === "html") return format;
    throw new RequestError(`format "${format.slice(0, 40)}" is not json, csv or html`, {
      code: "invalid_format",
    });
  }
  if (
    accept !== undefined &&
    acceptQuality(accept, "text/html") > acceptQuality(accept, "application/json")
  ) {
    return "html";
  }
  return "json";
}
