/**
 * One small error hierarchy. Everything the library throws on purpose is a UsageReportError;
 * the edges (CLI, HTTP handlers, scheduled handler) map these to exit codes and HTTP answers
 * in one place. Messages never contain secrets: callers pass only safe details.
 */
export class UsageReportError extends Error {
  override readonly name: string = "UsageReportError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A setting or a command-line argument is wrong. CLI exit code 2. */
export class ConfigError extends UsageReportError {
  override readonly name: string = "ConfigError";
}

/** The upstream ModelArts/IAM API answered with an error, or not at all. */
export class UpstreamError extends UsageReportError {
  override readonly name: string = "UpstreamError";
  /** Whether trying the same request again may succeed. */
  readonly retryable: boolean;
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
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
    const rid = details.requestId ? ` (request id ${details.requestId})` : "";
    super(
      `${details.method} ${details.url} failed with HTTP ${details.status}${code}${text}${rid}`,
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

/** Reading or writing report storage failed. */
export class StorageError extends UsageReportError {
  override readonly name = "StorageError";
}

/**
 * An HTTP request the API refuses, with the status and the stable error code of report.md §7.
 * The message is shown to the caller: it must say what is wrong and hold no secret.
 */
export class HttpError extends UsageReportError {
  override readonly name = "HttpError";
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;
  /** More to tell the caller, beside `code` and `message` in the error body (no secrets). */
  readonly details: Readonly<Record<string, unknown>>;
  constructor(
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.details = details;
  }
}
