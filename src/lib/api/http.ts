import { HttpError } from "../errors.js";

/** A transport-neutral HTTP answer; the Lambda handlers turn it into API Gateway's shape. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export const JSON_TYPE = "application/json; charset=utf-8";

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
    { error: { code: error.code, message: error.message } },
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

/** `?format=` wins; otherwise an Accept header that prefers text/html gets the page. */
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
  if (accept !== undefined && /(^|,)\s*text\/html\b/.test(accept)) return "html";
  return "json";
}
