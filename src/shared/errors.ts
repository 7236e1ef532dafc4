/**
 * One small error hierarchy. Everything the library throws on purpose is a UsageReportError
 * that says what went wrong (and, passed on, its `cause`); none knows how an edge reports it.
 * Each edge maps them in one place, by `instanceof`: `exitCodeOf` on the command line
 * (src/cli/main.ts), `toHttp` in the HTTP API (src/api/http.ts), `stepError` for the state
 * machine's steps (src/handlers/step-errors.ts). Messages never contain secrets: callers pass only safe details.
 */
export class UsageReportError extends Error {
  override readonly name: string = "UsageReportError";
  /** Takes the subclasses' options whole; only `cause` is Error's (and only when there is one). */
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/**
 * A setting or a command-line argument is wrong: the operator's to fix. Exit code 2; over HTTP
 * a 500 `not_configured` (the caller cannot fix it, and is not told what it is).
 */
export class ConfigError extends UsageReportError {
  override readonly name: string = "ConfigError";
}

/** The upstream ModelArts/IAM API answered with an error, or not at all. */
export class UpstreamError extends UsageReportError {
  override readonly name: string = "UpstreamError";
  /** Whether trying the same request again may succeed. */
  readonly retryable: boolean;
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options);
    this.retryable = options.retryable;
  }
}

export interface UpstreamHttpErrorDetails {
  method: string;
  /** URL without credentials; the query string is kept (it holds no secrets). */
  url: string;
  status: number;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
  requestId?: string | undefined;
  /** Seconds to wait before retrying, from a Retry-After header. */
  retryAfterSeconds?: number | undefined;
  /** What the operator can do about it, e.g. the IAM action a refused call needs. */
  hint?: string | undefined;
}

/** The upstream answered with an HTTP error status or with `is_success: false`. */
export class UpstreamHttpError extends UpstreamError {
  override readonly name = "UpstreamHttpError";
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly errorMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(details: UpstreamHttpErrorDetails, options: { retryable: boolean }) {
    const code = details.errorCode ? ` ${details.errorCode}` : "";
    const text = details.errorMessage ? `: ${details.errorMessage}` : "";
    const hint = details.hint ? `; ${details.hint}` : "";
    const rid = details.requestId ? ` (request id ${details.requestId})` : "";
    super(
      `${details.method} ${details.url} failed with HTTP ${details.status}${code}${text}${hint}${rid}`,
      options,
    );
    this.method = details.method;
    this.url = details.url;
    this.status = details.status;
    this.errorCode = details.errorCode;
    this.errorMessage = details.errorMessage;
    this.requestId = details.requestId;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** The scan could not read the whole project; no report may be written from it. */
export class IncompleteScanError extends UsageReportError {
  override readonly name = "IncompleteScanError";
}

/**
 * The scans of one or more of an organisation's sources failed (report.md §10): nothing is
 * written. The message names each failed source and why; `failures` keeps their errors.
 */
export class SourcesFailedError extends UsageReportError {
  override readonly name = "SourcesFailedError";
  readonly failures: readonly { readonly source: string; readonly error: unknown }[];
  constructor(failures: readonly { source: string; error: unknown }[], of: number) {
    const why = (e: unknown) => (e instanceof Error ? e.message : String(e));
    super(
      `the scan of ${failures.length} of ${of} sources failed, so nothing was written: ${failures
        .map((f) => `${f.source}: ${why(f.error)}`)
        .join("; ")}`,
    );
    this.failures = failures;
  }
}

/** Reading or writing report storage failed. */
export class StorageError extends UsageReportError {
  override readonly name = "StorageError";
}

/**
 * What someone asked for is not valid: a command-line argument, a request's body or path. Theirs
 * to fix, not the operator's (that is a ConfigError): exit code 2, HTTP 400.
 */
export class InvalidInputError extends UsageReportError {
  override readonly name: string = "InvalidInputError";
}

/** The stable error codes of report.md §7 for a request the API refuses as asked. */
export type RequestErrorCode =
  | "invalid_body"
  | "invalid_cursor"
  | "invalid_date"
  | "invalid_format"
  | "invalid_host"
  | "invalid_json"
  | "invalid_limit"
  | "invalid_month"
  | "invalid_source"
  | "body_too_large"
  | "unsupported_media_type"
  | "unauthorized"
  | "not_found"
  | "no_report";

/**
 * A request the API cannot answer as asked, with the stable error code of report.md §7; the
 * HTTP edge (`toHttp`) gives it its status. The message is shown to the caller: it must say
 * what is wrong and hold no secret.
 */
export class RequestError extends UsageReportError {
  override readonly name = "RequestError";
  readonly code: RequestErrorCode;
  constructor(message: string, options: { code: RequestErrorCode; cause?: unknown }) {
    super(message, options);
    this.code = options.code;
  }
}
