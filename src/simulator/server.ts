/**
 * A ModelArts API simulator: a real HTTP server on loopback that answers the training-job
 * listing and the IAM token call the way modelarts-api.md describes them, with both kinds of
 * authentication, and with faults on demand. It powers the `npm start` demo, the tests and
 * the benchmark, so it is strict where the real API is strict and never crashes on bad input.
 *
 * Decisions where the real API is silent or undocumented:
 * - `pageCap` caps every page, `limit=0` ("all") included: the API reference leaves the
 *   maximum page size open, and a client must advance by what came back.
 * - `offset` and `limit` are echoed back as asked, not as served.
 * - Sorting is stable: ties on the sort key are broken by `version_id` in the same direction,
 *   then by position in the data. Missing or unreadable sort keys sort lowest, numbers before
 *   strings. Records that are not objects are served as they are (the client must skip them).
 * - A record belongs to workspace `"0"` unless it carries its own `workspace_id`.
 * - Missing credentials and unknown or expired tokens get 401 `ModelArts.0203`; a bad AK/SK
 *   signature gets 403 `ModelArts.0206`; another project id gets 404 `ModelArts.0104`.
 * - Order of a listing request: auth → project → query validation (400 `ModelArts.0104`) →
 *   latency → the next queued fault, else the random failure → `onListing` hook → page.
 *   `requests.listing` counts every request to the listing route, failed ones included.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import * as z from "zod";
import { verifySignature } from "../modelarts/signer.js";
import { mulberry32 } from "./workload.js";

export interface SimulatorAuth {
  /** Ready tokens accepted as `X-Auth-Token` forever. */
  tokens?: readonly string[];
  /** Key pairs accepted for `SDK-HMAC-SHA256` signing. */
  aksk?: readonly { ak: string; sk: string }[];
  /** Users that may get a token from `POST /v3/auth/tokens`. */
  iamUsers?: readonly { username: string; password: string; domain: string }[];
}

export type Fault =
  /**
   * An HTTP error status with the documented ModelArts error body; `retryAfter` is sent as
   * the Retry-After header as it is (any text), `retryAfterSeconds` as a number.
   */
  | {
      kind: "status";
      status: number;
      retryAfterSeconds?: number;
      retryAfter?: string;
      errorCode?: string;
    }
  /** HTTP 200 with `total_count` as it is but no records: a page that lost its contents. */
  | { kind: "empty" }
  /** HTTP 200 with `is_success: false`. */
  | { kind: "not-success"; errorCode: string; errorMessage?: string }
  /**
   * HTTP 200 with the first half of the page's JSON. `"short-body"` (default) sends a
   * complete HTTP response whose Content-Length matches the cut body, so the client sees
   * invalid JSON; `"abort"` announces the full length and destroys the connection mid-body,
   * so the client's body read fails.
   */
  | { kind: "truncate"; mode?: "short-body" | "abort" }
  /** HTTP 200 with a text/html gateway page instead of JSON. */
  | { kind: "non-json" }
  /** Never answers (until the client gives up or the simulator closes). */
  | { kind: "hang" }
  /** Resets the connection without an answer. */
  | { kind: "reset" };

export interface SimulatorOptions {
  /** The only project id the listing accepts. */
  projectId: string;
  /** Raw records, served as they are (may hold deliberately bad ones). */
  versions: readonly unknown[];
  auth: SimulatorAuth;
  /** Most records on one page, whatever `limit` asks for (`limit=0` included). */
  pageCap?: number;
  /** Delay before each listing answer, in ms. */
  latencyMs?: number;
  /** Clock for token expiry and the X-Sdk-Date skew check; default Date.now. */
  now?: () => number;
  /** Fraction of listing requests answered with a random 429/500/502/503. */
  failureRate?: number;
  /**
   * A fault for a listing request by what it asks (after the queued faults, before the
   * random ones): lets a test fail one offset, or draw faults from a seeded schedule.
   */
  faultFor?: (request: { offset: number; limit: number; request: number }) => Fault | undefined;
  /** Seed of the random failures, so that a run can be repeated. */
  seed?: number;
  /** Lifetime of IAM-issued tokens; default 24 h. */
  tokenTtlMs?: number;
  /**
   * Positions (0-based, in the listing's order) of rows that `total_count` counts but no page
   * shows: a page holding one comes back a record short. A listing that cannot be read whole,
   * whatever the paging (the scan must fail rather than report on part of it).
   */
  hiddenRows?: readonly number[];
}

export interface ListingState {
  /** The simulator's own list: changes made here are what the next pages show. */
  versions: unknown[];
  /** 1-based number of this listing request (`requests.listing`). */
  request: number;
}

export interface Simulator {
  /** `http://127.0.0.1:<port>`; serves both ModelArts and IAM (`/v3/auth/tokens`). */
  readonly url: string;
  /** Counters tests can read: all requests, listing requests, IAM token requests. */
  readonly requests: { count: number; listing: number; iam: number };
  /** Faults for the next listing requests, in order, one each. */
  queueFaults(...faults: Fault[]): void;
  setVersions(versions: readonly unknown[]): void;
  /**
   * Called before each listing request is answered with a page (not before faults or errors):
   * lets a test change the data during a scan. Changes made to the records outside the hook
   * or setVersions are not seen by the sort. A hook that throws makes that answer a 500.
   */
  onListing(hook: ((state: ListingState) => void) | undefined): void;
  close(): Promise<void>;
}

const DEFAULT_TOKEN_TTL_MS = 24 * 3_600_000;
const MAX_BODY_BYTES = 1024 * 1024;
const LISTING_PATH = /^\/v1\/([^/]+)\/training-jobs\/versions\/?$/;
const IAM_PATH = "/v3/auth/tokens";
const DIGITS = /^[0-9]+$/;
const SORT_FIELDS = ["create_time", "job_desc", "status", "duration", "job_name"] as const;
type SortBy = (typeof SORT_FIELDS)[number];
/** Indicative flow-control headers; the simulator does not enforce them. */
const RATE_LIMIT = 1000;
const RATE_WINDOW_MS = 60_000;

interface ListingParams {
  offset: number;
  limit: number;
  sortBy: SortBy;
  order: "asc" | "desc";
  status: number | undefined;
  poolId: string | undefined;
  workspaceId: string;
}

type Auth = { ok: true } | { ok: false; status: number; code: string; message: string };

const iamRequestSchema = z.object({
  auth: z.object({
    identity: z.object({
      methods: z.array(z.string()).refine((methods) => methods.includes("password"), {
        message: 'methods must include "password"',
      }),
      password: z.object({
        user: z.object({
          name: z.string().min(1),
          password: z.string().min(1),
          domain: z.object({ name: z.string().min(1) }),
        }),
      }),
    }),
    scope: z
      .object({
        project: z
          .object({ name: z.string().min(1).optional(), id: z.string().min(1).optional() })
          .refine((p) => p.name !== undefined || p.id !== undefined, {
            message: "project needs a name or an id",
          }),
      })
      .optional(),
  }),
});

function validateOptions(opts: SimulatorOptions): void {
  if (opts.projectId === "") throw new RangeError("projectId must not be empty");
  if (opts.pageCap !== undefined && !(Number.isSafeInteger(opts.pageCap) && opts.pageCap >= 1)) {
    throw new RangeError(`pageCap must be a positive integer, got ${opts.pageCap}`);
  }
  if (opts.latencyMs !== undefined && !(opts.latencyMs >= 0 && Number.isFinite(opts.latencyMs))) {
    throw new RangeError(`latencyMs must be a non-negative number, got ${opts.latencyMs}`);
  }
  if (opts.failureRate !== undefined && !(opts.failureRate >= 0 && opts.failureRate <= 1)) {
    throw new RangeError(`failureRate must be between 0 and 1, got ${opts.failureRate}`);
  }
  if (opts.tokenTtlMs !== undefined && !(opts.tokenTtlMs > 0)) {
    throw new RangeError(`tokenTtlMs must be positive, got ${opts.tokenTtlMs}`);
  }
}

// ---- reading records that may be anything ----

function field(record: unknown, name: string): unknown {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return undefined;
  return Object.hasOwn(record, name) ? (record as Record<string, unknown>)[name] : undefined;
}

/** A number, or a string of digits (report.md §4 allows both), else undefined. */
function numeric(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && DIGITS.test(value)) return Number(value);
  return undefined;
}

type SortKey = number | string | undefined;

function sortKey(record: unknown, sortBy: SortBy): SortKey {
  switch (sortBy) {
    case "create_time":
    case "status":
    case "duration":
      return numeric(field(record, sortBy));
    case "job_name": {
      const name = field(record, "version_name");
      return typeof name === "string" ? name : undefined;
    }
    case "job_desc": {
      const desc = field(record, "version_desc");
      return typeof desc === "string" ? desc : undefined;
    }
  }
}

/** Missing lowest, then numbers, then strings (code-unit order). */
function compareKeys(a: SortKey, b: SortKey): number {
  const rank = (k: SortKey): number => (k === undefined ? 0 : typeof k === "number" ? 1 : 2);
  const byRank = rank(a) - rank(b);
  if (byRank !== 0 || a === undefined || b === undefined) return byRank;
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

function workspaceOf(record: unknown): string {
  const ws = field(record, "workspace_id");
  if (typeof ws === "string" && ws !== "") return ws;
  if (typeof ws === "number") return String(ws);
  return "0";
}

/** The filtered, sorted list a listing query pages through. */
function select(versions: readonly unknown[], p: ListingParams): unknown[] {
  const direction = p.order === "asc" ? 1 : -1;
  const rows: { record: unknown; index: number; key: SortKey; id: SortKey }[] = [];
  versions.forEach((record, index) => {
    if (workspaceOf(record) !== p.workspaceId) return;
    if (p.status !== undefined && numeric(field(record, "status")) !== p.status) return;
    if (p.poolId !== undefined && field(record, "pool_id") !== p.poolId) return;
    rows.push({
      record,
      index,
      key: sortKey(record, p.sortBy),
      id: numeric(field(record, "version_id")),
    });
  });
  rows.sort(
    (a, b) =>
      direction * (compareKeys(a.key, b.key) || compareKeys(a.id, b.id)) || a.index - b.index,
  );
  return rows.map((row) => row.record);
}

function parseListingQuery(query: URLSearchParams): ListingParams | string {
  const integer = (name: string, fallback: number): number | string => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    const n = DIGITS.test(raw) ? Number(raw) : Number.NaN;
    return Number.isSafeInteger(n) ? n : `${name} must be a non-negative integer, got "${raw}"`;
  };
  const offset = integer("offset", 0);
  if (typeof offset === "string") return offset;
  const limit = integer("limit", 20);
  if (typeof limit === "string") return limit;

  const sortBy = query.get("sort_by") ?? "create_time";
  const known = SORT_FIELDS.find((f) => f === sortBy);
  if (known === undefined)
    return `sort_by must be one of ${SORT_FIELDS.join(", ")}, got "${sortBy}"`;
  const order = query.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") return `order must be asc or desc, got "${order}"`;

  const rawStatus = query.get("status");
  let status: number | undefined;
  if (rawStatus !== null && rawStatus !== "") {
    status = DIGITS.test(rawStatus) ? Number(rawStatus) : Number.NaN;
    if (!Number.isSafeInteger(status)) return `status must be a status code, got "${rawStatus}"`;
  }
  const poolId = query.get("pool_id");
  const workspaceId = query.get("workspace_id");
  return {
    offset,
    limit,
    sortBy: known,
    order,
    status,
    poolId: poolId === null || poolId === "" ? undefined : poolId,
    workspaceId: workspaceId === null || workspaceId === "" ? "0" : workspaceId,
  };
}

// ---- answering ----

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json;charset=UTF-8",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** The ModelArts failure body (modelarts-api.md, "Failure body"). */
function sendModelArtsError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { is_success: false, error_code: code, error_message: message }, headers);
}

/** Codes for simulated failures; 429 uses API Gateway's flow-control code. */
function defaultErrorCode(status: number): string {
  if (status === 400 || status === 404) return "ModelArts.0104";
  if (status === 401) return "ModelArts.0203";
  if (status === 403) return "ModelArts.0108";
  if (status === 429) return "APIGW.0308";
  return "ModelArts.0001";
}

const REASON: Readonly<Record<number, string>> = {
  429: "The throttling threshold has been reached",
  500: "Internal server error",
  502: "Bad gateway",
  503: "Service temporarily unavailable",
};

const GATEWAY_PAGE =
  "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n" +
  "<body><center><h1>502 Bad Gateway</h1></center><hr><center>gateway</center></body></html>\n";

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" ? value : undefined;
}

/** Reads the request body as UTF-8; `undefined` when it is larger than `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startSimulator(
  opts: SimulatorOptions,
  port = 0,
  host = "127.0.0.1",
): Promise<Simulator> {
  validateOptions(opts);
  const now = opts.now ?? Date.now;
  const tokenTtlMs = opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
  const staticTokens = new Set(opts.auth.tokens ?? []);
  const secrets = new Map((opts.auth.aksk ?? []).map(({ ak, sk }) => [ak, sk]));
  const users = opts.auth.iamUsers ?? [];
  /** IAM-issued token → expiry (epoch ms). */
  const issuedTokens = new Map<string, number>();
  const random = mulberry32(opts.seed ?? 0);
  const requests = { count: 0, listing: 0, iam: 0 };
  const faults: Fault[] = [];
  const closing = new AbortController();
  // Every answer delayed by latencyMs listens for the close: as many as requests in flight.
  setMaxListeners(0, closing.signal);
  let versions: unknown[] = [...opts.versions];
  let hook: ((state: ListingState) => void) | undefined;
  /** Sorted and filtered lists by query; emptied whenever the data may have changed. */
  const selections = new Map<string, unknown[]>();
  let rateWindow = { start: 0, used: 0 };

  function authenticate(
    req: IncomingMessage,
    path: string,
    query: URLSearchParams,
    body: string,
  ): Auth {
    const token = header(req, "x-auth-token");
    if (token !== undefined) {
      if (staticTokens.has(token)) return { ok: true };
      const expires = issuedTokens.get(token);
      if (expires !== undefined && expires > now()) return { ok: true };
      return { ok: false, status: 401, code: "ModelArts.0203", message: "Invalid token" };
    }
    const authorization = header(req, "authorization");
    if (authorization?.startsWith("SDK-HMAC-SHA256")) {
      const verdict = verifySignature(
        { method: req.method ?? "GET", path, query, headers: req.headers, body },
        (ak) => secrets.get(ak),
        new Date(now()),
      );
      if (verdict.ok) {
        // Project-scoped services need X-Project-Id, signed, with AK/SK (subprojects do; the
        // official SDKs always send it): modelarts-api.md, "Authentication".
        const signed = /SignedHeaders=([^,\s]*)/.exec(authorization)?.[1]?.split(";") ?? [];
        if (header(req, "x-project-id") !== opts.projectId || !signed.includes("x-project-id")) {
          return {
            ok: false,
            status: 403,
            code: "ModelArts.0206",
            message: "Invalid AK/SK request: a signed X-Project-Id of the project is required",
          };
        }
        return { ok: true };
      }
      return {
        ok: false,
        status: 403,
        code: "ModelArts.0206",
        message: `Invalid AK/SK signature: ${verdict.reason}`,
      };
    }
    return {
      ok: false,
      status: 401,
      code: "ModelArts.0203",
      message: "No credentials: send X-Auth-Token or an SDK-HMAC-SHA256 Authorization header",
    };
  }

  function rateLimitHeaders(): Record<string, string> {
    const t = now();
    if (t - rateWindow.start >= RATE_WINDOW_MS) rateWindow = { start: t, used: 0 };
    rateWindow.used += 1;
    return {
      "X-ratelimit": String(RATE_LIMIT),
      "X-ratelimit-used": String(rateWindow.used),
      "X-ratelimit-window": `${RATE_WINDOW_MS / 1000}s`,
    };
  }

  function selection(p: ListingParams): unknown[] {
    const key = JSON.stringify([p.sortBy, p.order, p.status, p.poolId, p.workspaceId]);
    let selected = selections.get(key);
    if (selected === undefined) {
      if (selections.size >= 32) selections.clear();
      selected = select(versions, p);
      selections.set(key, selected);
    }
    return selected;
  }

  function hidden(page: unknown[], offset: number): unknown[] {
    const rows = opts.hiddenRows;
    if (rows === undefined || rows.length === 0) return page;
    return page.filter((_, i) => !rows.includes(offset + i));
  }

  function pageBody(p: ListingParams): string {
    const all = selection(p);
    const asked = p.limit === 0 ? all.length : p.limit;
    const size = opts.pageCap === undefined ? asked : Math.min(asked, opts.pageCap);
    return JSON.stringify({
      is_success: true,
      total_count: all.length,
      versions: hidden(all.slice(p.offset, p.offset + size), p.offset),
      offset: p.offset,
      limit: p.limit,
    });
  }

  /** Answers with the fault (a hang leaves the request unanswered on purpose). */
  function answerWithFault(
    fault: Fault,
    req: IncomingMessage,
    res: ServerResponse,
    p: ListingParams,
    headers: Record<string, string>,
  ): void {
    switch (fault.kind) {
      case "status": {
        const extra = { ...headers };
        if (fault.retryAfterSeconds !== undefined) {
          extra["Retry-After"] = String(fault.retryAfterSeconds);
        }
        if (fault.retryAfter !== undefined) extra["Retry-After"] = fault.retryAfter;
        const message = REASON[fault.status] ?? `Simulated HTTP ${fault.status}`;
        sendModelArtsError(
          res,
          fault.status,
          fault.errorCode ?? defaultErrorCode(fault.status),
          message,
          extra,
        );
        return;
      }
      case "not-success":
        sendJson(
          res,
          200,
          {
            is_success: false,
            error_code: fault.errorCode,
            error_message: fault.errorMessage ?? "Simulated failure",
          },
          headers,
        );
        return;
      case "empty":
        sendJson(
          res,
          200,
          { is_success: true, total_count: selection(p).length, versions: [], offset: p.offset },
          headers,
        );
        return;
      case "truncate": {
        const full = Buffer.from(pageBody(p), "utf8");
        const half = full.subarray(0, Math.floor(full.length / 2));
        const abort = fault.mode === "abort";
        res.writeHead(200, {
          ...headers,
          "Content-Type": "application/json;charset=UTF-8",
          "Content-Length": String(abort ? full.length : half.length),
        });
        if (abort) res.write(half, () => req.socket.destroy());
        else res.end(half);
        return;
      }
      case "non-json":
        res.writeHead(200, {
          ...headers,
          "Content-Type": "text/html",
          "Content-Length": String(Buffer.byteLength(GATEWAY_PAGE)),
        });
        res.end(GATEWAY_PAGE);
        return;
      case "hang":
        // Leave it open: the client's timeout has to end it (or close() does).
        return;
      case "reset":
        req.socket.resetAndDestroy();
        return;
    }
  }

  function randomFailure(): Fault | undefined {
    const rate = opts.failureRate ?? 0;
    if (rate === 0 || random() >= rate) return undefined;
    const roll = random();
    if (roll < 0.4) return { kind: "status", status: 429, retryAfterSeconds: 1 };
    if (roll < 0.6) return { kind: "status", status: 500 };
    if (roll < 0.8) return { kind: "status", status: 502 };
    return { kind: "status", status: 503 };
  }

  async function handleListing(
    req: IncomingMessage,
    res: ServerResponse,
    projectSegment: string,
    path: string,
    query: URLSearchParams,
    body: string,
  ): Promise<void> {
    requests.listing += 1;
    const request = requests.listing;
    const headers = rateLimitHeaders();
    const auth = authenticate(req, path, query, body);
    if (!auth.ok) return sendModelArtsError(res, auth.status, auth.code, auth.message, headers);

    let projectId: string;
    try {
      projectId = decodeURIComponent(projectSegment);
    } catch {
      projectId = projectSegment;
    }
    if (projectId !== opts.projectId) {
      return sendModelArtsError(
        res,
        404,
        "ModelArts.0104",
        `Project ${projectId} does not exist`,
        headers,
      );
    }
    const params = parseListingQuery(query);
    if (typeof params === "string") {
      return sendModelArtsError(
        res,
        400,
        "ModelArts.0104",
        `Invalid parameter: ${params}`,
        headers,
      );
    }

    if (opts.latencyMs !== undefined && opts.latencyMs > 0) {
      await sleep(opts.latencyMs, undefined, { signal: closing.signal });
    }
    const fault =
      faults.shift() ??
      opts.faultFor?.({ offset: params.offset, limit: params.limit, request }) ??
      randomFailure();
    if (fault !== undefined) return answerWithFault(fault, req, res, params, headers);

    if (hook !== undefined) {
      hook({ versions, request });
      // The hook may have changed the list in place.
      selections.clear();
    }
    const text = pageBody(params);
    res.writeHead(200, {
      ...headers,
      "Content-Type": "application/json;charset=UTF-8",
      "Content-Length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  function handleIam(res: ServerResponse, body: string): void {
    requests.iam += 1;
    const iamError = (code: number, title: string, message: string): void =>
      sendJson(res, code, { error: { code, message, title } });
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      iamError(400, "Bad Request", "The request body is not valid JSON.");
      return;
    }
    const parsed = iamRequestSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue === undefined ? "body" : issue.path.map(String).join(".");
      iamError(
        400,
        "Bad Request",
        `Invalid request body at ${where}: ${issue?.message ?? "invalid"}`,
      );
      return;
    }
    const { user } = parsed.data.auth.identity.password;
    const known = users.some(
      (u) =>
        u.username === user.name && u.domain === user.domain.name && u.password === user.password,
    );
    if (!known) {
      iamError(401, "Unauthorized", "The username or password is wrong.");
      return;
    }

    const issuedAt = now();
    for (const [token, expires] of issuedTokens) {
      if (expires <= issuedAt) issuedTokens.delete(token);
    }
    // Real tokens are long opaque strings starting with "MII"; the shape does not matter.
    const token = `MIIsim${randomBytes(48).toString("base64url")}`;
    issuedTokens.set(token, issuedAt + tokenTtlMs);
    const project = parsed.data.auth.scope?.project;
    sendJson(
      res,
      201,
      {
        token: {
          expires_at: new Date(issuedAt + tokenTtlMs).toISOString(),
          issued_at: new Date(issuedAt).toISOString(),
          methods: ["password"],
          user: { name: user.name, domain: { name: user.domain.name } },
          ...(project === undefined
            ? {}
            : { project: { id: project.id ?? opts.projectId, name: project.name ?? null } }),
        },
      },
      { "X-Subject-Token": token },
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests.count += 1;
    res.setHeader("X-request-id", randomUUID().replaceAll("-", ""));
    // Split by hand: `new URL("//x", base)` would read "x" as a host.
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    const path = q < 0 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));

    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) {
      return sendJson(
        res,
        413,
        { error_code: "APIGW.0201", error_msg: "Request body too large" },
        { Connection: "close" },
      );
    }
    if (path === IAM_PATH && req.method === "POST") return handleIam(res, body);
    const listing = LISTING_PATH.exec(path);
    if (listing?.[1] !== undefined && req.method === "GET") {
      return handleListing(req, res, listing[1], path, query, body);
    }
    // What API Gateway answers for a route it does not know.
    return sendJson(res, 404, {
      error_code: "APIGW.0101",
      error_msg: "The API does not exist or has not been published in the environment",
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // Closing (latency sleep aborted), a client that went away, or a bug: never crash.
      if (closing.signal.aborted || res.headersSent) {
        res.destroy();
        return;
      }
      try {
        sendModelArtsError(res, 500, "ModelArts.0001", "Internal server error");
      } catch {
        res.destroy();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // After listening, a server error (e.g. too many open files) must not end the process.
  server.on("error", () => {});

  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(":") ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${address.port}`,
    requests,
    queueFaults(...more: Fault[]): void {
      // Fail in the test that queues a bad fault, not later inside a request.
      for (const fault of more) {
        if (
          fault.kind === "status" &&
          !(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)
        ) {
          throw new RangeError(
            `a status fault needs an HTTP status from 200 to 599, got ${fault.status}`,
          );
        }
      }
      faults.push(...more);
    },
    setVersions(next: readonly unknown[]): void {
      versions = [...next];
      selections.clear();
    },
    onListing(next: ((state: ListingState) => void) | undefined): void {
      hook = next;
    },
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
