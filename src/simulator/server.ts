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
 *   the workspace's access (403 `ModelArts.0108`) → latency → the next queued fault, else the
 *   random failure → `onListing` hook → page. `requests.listing` counts every request to the
 *   listing route, failed ones included.
 * - ListWorkspace (`/v1/{project_id}/workspaces`): auth → project → query validation →
 *   latency → the next queued workspace fault → page; counted in `requests.workspaces`.
 *
 * This file holds the options, the routing and the lifecycle; the listing, workspaces,
 * authentication and faults live in `listing.ts`, `workspaces.ts`, `iam.ts` and `faults.ts`.
 */
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { answerWithFault, type Fault, type FaultFor, FaultSource } from "./faults.js";
import { rateLimitHeaders, readBody, sendJson, sendModelArtsError } from "./http.js";
import { type AuthRequest, Iam, type SimulatorAuth } from "./iam.js";
import { Listing, type ListingState, parseListingQuery } from "./listing.js";
import {
  DEFAULT_WORKSPACES,
  parseWorkspaceQuery,
  type SimulatedWorkspace,
  Workspaces,
} from "./workspaces.js";

export type { Fault } from "./faults.js";
export type { SimulatorAuth } from "./iam.js";
export type { ListingState } from "./listing.js";
export type { SimulatedWorkspace } from "./workspaces.js";

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
  faultFor?: FaultFor;
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
  /**
   * The project's workspaces, served by ListWorkspace; default just `{id: "0", name:
   * "default"}`. Records name theirs in `workspace_id` (none: workspace "0").
   */
  workspaces?: readonly SimulatedWorkspace[];
  /** Most workspaces on one ListWorkspace page, whatever `limit` asks for. */
  workspacePageCap?: number;
}

export interface Simulator {
  /** `http://127.0.0.1:<port>`; serves both ModelArts and IAM (`/v3/auth/tokens`). */
  readonly url: string;
  /** Counters tests can read: all requests, listing, ListWorkspace and IAM token requests. */
  readonly requests: { count: number; listing: number; workspaces: number; iam: number };
  /** Faults for the next listing requests, in order, one each. */
  queueFaults(...faults: Fault[]): void;
  /** Faults for the next ListWorkspace requests, in order, one each. */
  queueWorkspaceFaults(...faults: Fault[]): void;
  setVersions(versions: readonly unknown[]): void;
  /**
   * Called before each listing request is answered with a page (not before faults or errors):
   * lets a test change the data during a scan. Changes made to the records outside the hook
   * or setVersions are not seen by the sort. A hook that throws makes that answer a 500.
   */
  onListing(hook: ((state: ListingState) => void) | undefined): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const LISTING_PATH = /^\/v1\/([^/]+)\/training-jobs\/versions\/?$/;
const WORKSPACES_PATH = /^\/v1\/([^/]+)\/workspaces\/?$/;
const IAM_PATH = "/v3/auth/tokens";

function validateOptions(opts: SimulatorOptions): void {
  if (opts.projectId === "") throw new RangeError("projectId must not be empty");
  for (const [name, cap] of [
    ["pageCap", opts.pageCap],
    ["workspacePageCap", opts.workspacePageCap],
  ] as const) {
    if (cap !== undefined && !(Number.isSafeInteger(cap) && cap >= 1)) {
      throw new RangeError(`${name} must be a positive integer, got ${cap}`);
    }
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

/** One simulator's parts, shared by its request handlers. */
interface Parts {
  opts: SimulatorOptions;
  requests: Simulator["requests"];
  iam: Iam;
  listing: Listing;
  workspaces: Workspaces;
  faults: FaultSource;
  workspaceFaults: FaultSource;
  rateLimit: () => Record<string, string>;
  /** Aborted by close(): ends the latency sleeps. */
  closing: AbortSignal;
}

function decodeProjectId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Auth, then the project: false when the request is answered with an error already. */
function admit(
  parts: Parts,
  auth: AuthRequest,
  res: ServerResponse,
  projectSegment: string,
  headers: Record<string, string>,
): boolean {
  const verdict = parts.iam.authenticate(auth);
  if (!verdict.ok) {
    sendModelArtsError(res, verdict.status, verdict.code, verdict.message, headers);
    return false;
  }
  const projectId = decodeProjectId(projectSegment);
  if (projectId !== parts.opts.projectId) {
    const message = `Project ${projectId} does not exist`;
    sendModelArtsError(res, 404, "ModelArts.0104", message, headers);
    return false;
  }
  return true;
}

async function handleListing(
  parts: Parts,
  auth: AuthRequest,
  res: ServerResponse,
  projectSegment: string,
): Promise<void> {
  const { opts, requests, listing } = parts;
  requests.listing += 1;
  const request = requests.listing;
  const headers = parts.rateLimit();
  if (!admit(parts, auth, res, projectSegment, headers)) return;
  const params = parseListingQuery(auth.query);
  if (typeof params === "string") {
    const message = `Invalid parameter: ${params}`;
    return sendModelArtsError(res, 400, "ModelArts.0104", message, headers);
  }
  if (parts.workspaces.refuses(params.workspaceId)) {
    const message = `Not authorised to list training jobs in workspace ${params.workspaceId}`;
    return sendModelArtsError(res, 403, "ModelArts.0108", message, headers);
  }

  if (opts.latencyMs !== undefined && opts.latencyMs > 0) {
    await sleep(opts.latencyMs, undefined, { signal: parts.closing });
  }
  const fault = parts.faults.next({ offset: params.offset, limit: params.limit, request });
  if (fault !== undefined) {
    const page = {
      empty: () => ({
        is_success: true,
        total_count: listing.total(params),
        versions: [],
        offset: params.offset,
      }),
      body: () => listing.pageBody(params),
    };
    return answerWithFault(fault, auth.req, res, page, headers);
  }

  listing.beforePage(request);
  const text = listing.pageBody(params);
  res.writeHead(200, {
    ...headers,
    "Content-Type": "application/json;charset=UTF-8",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** ListWorkspace, with the listing's auth and project checks and latency. */
async function handleWorkspaces(
  parts: Parts,
  auth: AuthRequest,
  res: ServerResponse,
  projectSegment: string,
): Promise<void> {
  parts.requests.workspaces += 1;
  const request = parts.requests.workspaces;
  const headers = parts.rateLimit();
  if (!admit(parts, auth, res, projectSegment, headers)) return;
  const query = parseWorkspaceQuery(auth.query);
  if (typeof query === "string") {
    return sendModelArtsError(res, 400, "ModelArts.0104", `Invalid parameter: ${query}`, headers);
  }
  const latency = parts.opts.latencyMs ?? 0;
  if (latency > 0) await sleep(latency, undefined, { signal: parts.closing });
  const page = parts.workspaces.page(query);
  const fault = parts.workspaceFaults.next({ offset: query.offset, limit: query.limit, request });
  if (fault !== undefined) {
    const faulted = {
      empty: () => ({ ...page, count: 0, workspaces: [] }),
      body: () => JSON.stringify(page),
    };
    return answerWithFault(fault, auth.req, res, faulted, headers);
  }
  sendJson(res, 200, page, headers);
}

async function handle(parts: Parts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  parts.requests.count += 1;
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
  if (path === IAM_PATH && req.method === "POST") {
    parts.requests.iam += 1;
    return parts.iam.handleTokenRequest(res, body);
  }
  const listing = LISTING_PATH.exec(path);
  if (listing?.[1] !== undefined && req.method === "GET") {
    return handleListing(parts, { req, path, query, body }, res, listing[1]);
  }
  const workspaces = WORKSPACES_PATH.exec(path);
  if (workspaces?.[1] !== undefined && req.method === "GET") {
    return handleWorkspaces(parts, { req, path, query, body }, res, workspaces[1]);
  }
  // What API Gateway answers for a route it does not know.
  return sendJson(res, 404, {
    error_code: "APIGW.0101",
    error_msg: "The API does not exist or has not been published in the environment",
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

export async function startSimulator(
  opts: SimulatorOptions,
  port = 0,
  host = "127.0.0.1",
): Promise<Simulator> {
  validateOptions(opts);
  const now = opts.now ?? Date.now;
  const closing = new AbortController();
  // Every answer delayed by latencyMs listens for the close: as many as requests in flight.
  setMaxListeners(0, closing.signal);
  const parts: Parts = {
    opts,
    requests: { count: 0, listing: 0, workspaces: 0, iam: 0 },
    iam: new Iam({ projectId: opts.projectId, auth: opts.auth, now, tokenTtlMs: opts.tokenTtlMs }),
    listing: new Listing(opts.versions, { pageCap: opts.pageCap, hiddenRows: opts.hiddenRows }),
    workspaces: new Workspaces(opts.workspaces ?? DEFAULT_WORKSPACES, opts.workspacePageCap),
    faults: new FaultSource(opts),
    workspaceFaults: new FaultSource({}),
    rateLimit: rateLimitHeaders(now),
    closing: closing.signal,
  };

  const server = createServer((req, res) => {
    handle(parts, req, res).catch(() => {
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
  await listen(server, port, host);
  // After listening, a server error (e.g. too many open files) must not end the process.
  server.on("error", () => {});

  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(":") ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    requests: parts.requests,
    queueFaults: (...more: Fault[]) => parts.faults.queue(more),
    queueWorkspaceFaults: (...more: Fault[]) => parts.workspaceFaults.queue(more),
    setVersions: (next: readonly unknown[]) => parts.listing.setVersions(next),
    onListing: (hook) => parts.listing.onListing(hook),
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
