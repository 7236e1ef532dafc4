import { setTimeout as sleepFor } from "node:timers/promises";
import * as z from "zod";
import { UpstreamError, UpstreamHttpError } from "../shared/errors.js";
import { type Log, silentLog } from "../shared/log.js";
import type { RequestAuthenticator } from "./auth.js";
import { DEFAULT_RETRY_POLICY, type RetryHooks, type RetryPolicy, withRetry } from "./retry.js";
import { parseRetryAfter } from "./retry-after.js";
import { type HttpAnswer, type HttpTransport, nodeTransport } from "./transport.js";
import {
  type Answer,
  readAllWorkspaces,
  TRAIN_JOB_LIST_ACTION,
  WORKSPACE_LIST_ACTION,
  type Workspace,
  workspacePage,
  workspacesUrl,
} from "./workspaces.js";

export type { Workspace } from "./workspaces.js";

/** One listing page as the scan needs it; records are still raw (parsed by the scan). */
export interface ListPage {
  readonly totalCount: number;
  readonly records: readonly unknown[];
  readonly requestId: string | undefined;
}

export interface ListPageOptions {
  /** Aborts the request, its retries and its waits (the scan failed elsewhere). */
  readonly signal?: AbortSignal | undefined;
}

/** The port the scan reads from: the real HTTP client here, or anything with the same shape. */
export interface VersionSource {
  listPage(offset: number, limit: number, options?: ListPageOptions): Promise<ListPage>;
}

export interface ModelArtsClientOptions {
  /** Base URL, no path, e.g. https://modelarts.eu-de.otc.t-systems.com */
  readonly endpoint: string;
  readonly projectId: string;
  readonly auth: RequestAuthenticator;
  readonly workspaceId?: string | null | undefined;
  readonly poolId?: string | null | undefined;
  readonly timeoutMs?: number | undefined;
  readonly retry?: RetryPolicy | undefined;
  readonly retryHooks?: RetryHooks | undefined;
  readonly log?: Log | undefined;
  /** How requests are sent; default node:http(s) with kept-alive connections (transport.ts). */
  readonly transport?: HttpTransport | undefined;
}

/**
 * Error codes that say the request itself is wrong or not allowed: retrying cannot help
 * (modelarts-api.md, "Failure body"). ModelArts.0203 (invalid token) gets one token refresh.
 */
const FATAL_ERROR_CODES = new Set([
  "ModelArts.0101",
  "ModelArts.0104",
  "ModelArts.0107",
  "ModelArts.0108",
  "ModelArts.0203",
  "ModelArts.0204",
  "ModelArts.0206",
]);
const TOKEN_INVALID_CODE = "ModelArts.0203";
const NOT_AUTHORISED_CODE = "ModelArts.0108";
const BASE_HEADERS: Readonly<Record<string, string>> = { accept: "application/json" };

const integer = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^[0-9]+$/)
    .transform(Number),
]);

/**
 * The page's own fields, checked without copying its records (a schema would rebuild the
 * array of every page): `total_count` a non-negative integer (or digits), `versions` an array.
 * The records are parsed one by one by the scan. The name of the first field that is wrong,
 * or the page.
 */
function readPage(json: unknown): { totalCount: number; records: unknown[] } | string {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "body";
  const body = json as { total_count?: unknown; versions?: unknown };
  const total = integer.safeParse(body.total_count);
  if (!total.success) return "total_count";
  if (!Array.isArray(body.versions)) return "versions";
  return { totalCount: total.data, records: body.versions };
}

const rid = (requestId: string | undefined) => (requestId ? ` (request id ${requestId})` : "");

/** A versions page, or an UpstreamError (retryable: a bad answer, not a bad request). */
function versionsPage(json: unknown, offset: number, answer: Answer): ListPage {
  const { where, requestId } = answer;
  const page = readPage(json);
  if (typeof page === "string") {
    throw new UpstreamError(`${where} answered a page without a valid ${page}${rid(requestId)}`, {
      retryable: true,
    });
  }
  const { totalCount, records } = page;
  if (records.length === 0 && offset < totalCount) {
    // Inside the listing by its own count, yet empty: a fault of the server, not the end.
    throw new UpstreamError(
      `${where} answered an empty page although total_count is ${totalCount}${rid(requestId)}`,
      { retryable: true },
    );
  }
  return { totalCount, records, requestId };
}

const errorBody = z.object({
  is_success: z.boolean().optional(),
  error_code: z.string().optional(),
  error_message: z.string().optional(),
  error_msg: z.string().optional(),
});

/**
 * The ModelArts training-job versions listing and ListWorkspace, with auth, timeouts, error
 * mapping and retries.
 */
export class ModelArtsClient implements VersionSource {
  readonly #opts: ModelArtsClientOptions;
  readonly #transport: HttpTransport;
  readonly #log: Log;
  /**
   * Until when every request waits: a 429 (flow control) slows down all the concurrent page
   * requests together, not only the one that got it.
   */
  #pausedUntil = 0;

  constructor(opts: ModelArtsClientOptions) {
    this.#opts = opts;
    this.#transport = opts.transport ?? nodeTransport;
    this.#log = opts.log ?? silentLog;
  }

  /** The listing URL for one page: oldest first, so jobs created during a scan land at the end. */
  pageUrl(offset: number, limit: number): URL {
    const { endpoint, projectId, workspaceId, poolId } = this.#opts;
    const url = new URL(`/v1/${encodeURIComponent(projectId)}/training-jobs/versions`, endpoint);
    url.searchParams.set("offset", String(offset));
    url.searchParams.set("limit", String(limit));
    url.searchParams.set("sort_by", "create_time");
    url.searchParams.set("order", "asc");
    if (workspaceId) url.searchParams.set("workspace_id", workspaceId);
    if (poolId) url.searchParams.set("pool_id", poolId);
    return url;
  }

  listPage(offset: number, limit: number, options: ListPageOptions = {}): Promise<ListPage> {
    const access = `listing the training jobs of workspace ${this.#opts.workspaceId || "0"} needs credentials of project ${this.#opts.projectId} allowed the IAM action ${TRAIN_JOB_LIST_ACTION}`;
    const read = (json: unknown, answer: Answer) => versionsPage(json, offset, answer);
    return this.#call(this.pageUrl(offset, limit), access, read, options.signal);
  }

  /**
   * The workspaces the credentials may use (ListWorkspace with `filter_accessible=true`), all
   * pages of them, in the order listed; each page with the retries and errors of a versions
   * page. Ends when `total_count` workspaces are read; a page that adds none before then is an
   * error (the listing changed or repeats itself), never a loop.
   */
  listWorkspaces(options: ListPageOptions = {}): Promise<Workspace[]> {
    const { endpoint, projectId } = this.#opts;
    const access = `ListWorkspace needs credentials of project ${projectId} allowed the IAM action ${WORKSPACE_LIST_ACTION}`;
    return readAllWorkspaces((offset) =>
      this.#call(workspacesUrl(endpoint, projectId, offset), access, workspacePage, options.signal),
    );
  }

  /**
   * One GET of a JSON answer with the client's retries, flow-control pause and token refresh;
   * `read` checks the body (its UpstreamErrors are retried like any bad answer). `access` says
   * what a refusal (401/403) needs, added to its error.
   */
  #call<T>(
    url: URL,
    access: string,
    read: (json: unknown, answer: Answer) => T,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const hooks = this.#opts.retryHooks ?? {};
    const clock = hooks.clock ?? Date.now;
    const sleep =
      hooks.sleep ??
      ((ms: number, s: AbortSignal | undefined) =>
        sleepFor(ms, undefined, s === undefined ? {} : { signal: s }));
    const attempt = async () => {
      const wait = this.#pausedUntil - clock();
      if (wait > 0) await sleep(wait, signal);
      const { json, answer } = await this.#withTokenRefresh(url, access, signal);
      return read(json, answer);
    };
    return withRetry(
      this.#opts.retry ?? DEFAULT_RETRY_POLICY,
      attempt,
      {
        ...hooks,
        onRetry: (info) => {
          if (info.error instanceof UpstreamHttpError && info.error.status === 429) {
            this.#pausedUntil = Math.max(this.#pausedUntil, clock() + info.delayMs);
          }
          this.#log.warn("ModelArts request failed, retrying", {
            attempt: info.attempt,
            delayMs: info.delayMs,
            error: info.error.message,
            requestId: info.error instanceof UpstreamHttpError ? info.error.requestId : undefined,
          });
          hooks.onRetry?.(info);
        },
      },
      signal,
    );
  }

  /** The request timeout, shortened so that no request outlives the run's deadline. */
  #timeout(): number {
    const timeout = this.#opts.timeoutMs ?? 30_000;
    const deadline = this.#opts.retry?.deadline;
    const clock = this.#opts.retryHooks?.clock ?? Date.now;
    // Whole milliseconds, as the error message says.
    return deadline === undefined
      ? timeout
      : Math.max(1, Math.floor(Math.min(timeout, deadline - clock())));
  }

  /** The auth headers; a token fetch in flight is left to others when the scan aborts. */
  async #authHeaders(url: URL, signal: AbortSignal | undefined): Promise<Record<string, string>> {
    const headers = this.#opts.auth.authenticate({
      method: "GET",
      url,
      headers: { ...BASE_HEADERS },
      body: "",
    });
    if (signal === undefined) return headers;
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      headers.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  async #withTokenRefresh(
    url: URL,
    access: string,
    signal: AbortSignal | undefined,
  ): Promise<{ json: unknown; answer: Answer }> {
    const used = await this.#authHeaders(url, signal);
    try {
      return await this.#getJson(url, access, used, signal);
    } catch (error) {
      const expired =
        error instanceof UpstreamHttpError &&
        (error.status === 401 || error.errorCode === TOKEN_INVALID_CODE);
      // The authenticator refreshes once for all the requests rejected with the same token.
      if (!expired || !this.#opts.auth.invalidate(used)) throw error;
      this.#log.info("ModelArts rejected the token; fetching a new one", {
        requestId: error.requestId,
      });
      return await this.#getJson(url, access, await this.#authHeaders(url, signal), signal);
    }
  }

  /** One GET and its body, within the request timeout; the scan's abort ends it at once. */
  async #send(
    url: URL,
    authHeaders: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<HttpAnswer> {
    const method = "GET";
    const where = `${method} ${url.href}`;
    const timeoutMs = this.#timeout();
    // One controller per request, its timer cleared and its listener on the scan's signal
    // removed as soon as the answer is read. AbortSignal.timeout would live on for the whole
    // timeout, and with it (through fetch's abort listener) everything the request held: at a
    // thousand pages a second that kept tens of megabytes of finished requests alive.
    const request = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      request.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError"));
    }, timeoutMs);
    const onAbort = () => request.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      return await this.#transport(url, {
        method,
        headers: { ...BASE_HEADERS, ...authHeaders },
        signal: request.signal,
      });
    } catch (cause) {
      // Aborted by the scan: its reason (the first failure) is what the caller reports.
      signal?.throwIfAborted();
      const reason = timedOut
        ? `no answer within ${timeoutMs} ms`
        : `the connection failed (${cause instanceof Error ? cause.message : String(cause)})`;
      throw new UpstreamError(`${where}: ${reason}`, { retryable: true, cause });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The answer's JSON, or the error it says (a failure body, a status, not JSON). */
  async #getJson(
    url: URL,
    access: string,
    authHeaders: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<{ json: unknown; answer: Answer }> {
    const method = "GET";
    const where = `${method} ${url.href}`;
    const response = await this.#send(url, authHeaders, signal);
    const { text } = response;
    const ok = response.status >= 200 && response.status < 300;
    const requestId = response.header("x-request-id");
    const now = (this.#opts.retryHooks?.clock ?? Date.now)();
    const details = { method, url: url.href, status: response.status, requestId };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      const type = response.header("content-type") ?? "no content type";
      if (!ok) throw httpError(details, undefined, response, now, access);
      throw new UpstreamError(
        `${where} answered HTTP ${response.status} with a body that is not JSON (${type}, ${text.length} characters; truncated?)${rid(requestId)}`,
        { retryable: true, cause },
      );
    }
    // The failure body is read only when the answer says it failed.
    const failed =
      !ok ||
      (typeof json === "object" &&
        json !== null &&
        (json as { is_success?: unknown }).is_success === false);
    if (failed) {
      const failure = errorBody.safeParse(json);
      throw httpError(details, failure.success ? failure.data : undefined, response, now, access);
    }
    return { json, answer: { where, requestId } };
  }
}

function httpError(
  details: { method: string; url: string; status: number; requestId: string | undefined },
  body: z.infer<typeof errorBody> | undefined,
  response: HttpAnswer,
  now: number,
  access: string,
): UpstreamHttpError {
  const errorCode = body?.error_code;
  const status = details.status;
  const refused = status === 401 || status === 403 || errorCode === NOT_AUTHORISED_CODE;
  const retryableStatus = status === 429 || status >= 500 || status === 200;
  const retryable =
    retryableStatus && !(errorCode !== undefined && FATAL_ERROR_CODES.has(errorCode));
  return new UpstreamHttpError(
    {
      ...details,
      errorCode,
      errorMessage: body?.error_message ?? body?.error_msg,
      retryAfterSeconds: parseRetryAfter(response.header("retry-after"), now),
      hint: refused ? access : undefined,
    },
    { retryable },
  );
}
