import { HttpError } from "../shared/errors.js";

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

/** The error body of report.md §7; never a stack trace. */
export function errorResponse(error: HttpError): ApiResponse {
  return jsonResponse(
    error.status,
    { error: { code: error.code, message: error.message, ...error.details } },
    { ...error.headers },
  );
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
    throw new HttpError(
      400,
      "invalid_format",
      `format "${format.slice(0, 40)}" is not json, csv or html`,
    );
  }
  if (
    accept !== undefined &&
    acceptQuality(accept, "text/html") > acceptQuality(accept, "application/json")
  ) {
    return "html";
  }
  return "json";
}
