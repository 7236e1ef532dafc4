import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { runReportJob } from "../../src/app/report-job.js";
import { staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient } from "../../src/modelarts/client.js";
import { renderReportJson } from "../../src/report/render-json.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { S3Store } from "../../src/storage/s3-store.js";
import type { ReportStore } from "../../src/storage/store.js";
import { type ApiServer, startApiServer } from "../helpers/api-server.js";
import { apiGatewayEvent, lambdaContext, matchRoute } from "../helpers/apigw.js";
import { type Handlers, loadHandlers, localS3Env } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";
import { makeReport } from "../helpers/report-fixture.js";
import { type LocalS3, startS3 } from "../helpers/s3.js";

/**
 * The HTTP API of report.md §7 over real HTTP: a node:http stand-in for API Gateway builds
 * payload 2.0 events for the real handlers, which read reports that the real job wrote from
 * the simulator into file storage and into S3 (s3rver). The handlers are configured only
 * through their environment (REPORT_STORAGE, the token, AWS_ENDPOINT_URL_S3), as deployed.
 */

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const PROJECT = "proj-api";
const API_TOKEN = `api-token-${randomUUID()}`;
const UPSTREAM_TOKEN = `upstream-token-${randomUUID()}`;
const DATES = ["2026-11-25", "2026-11-26", "2026-11-27"] as const;
const LATEST = "2026-11-27";
const FILES = ["report.json", "usage.csv", "jobs.csv"] as const;
const BUCKET = "reports";
/** Content of `outside-secret.txt`, planted next to the report root; no answer may show it. */
const SECRET = `OUTSIDE-SECRET-${randomUUID()}`;
const workload = generateWorkload({ versions: 600, seed: 11, now: NOW, days: 10 });

let sim: Simulator;
let s3: LocalS3;
let server: ApiServer;
let dir: string;

type StoreKind = "file storage" | "S3";

/** One kind of store: a root filled with reports, an empty one, and fresh ones for POST. */
interface Subject {
  filled: ReportStore;
  filledUrl: string;
  emptyUrl: string;
  /** What the functions need beside REPORT_STORAGE to reach this kind of store. */
  env: Record<string, string>;
  /** A new empty root and its REPORT_STORAGE URL. */
  fresh(): { store: ReportStore; url: string };
}

const subjects = new Map<StoreKind, Subject>();

function subject(kind: StoreKind): Subject {
  const found = subjects.get(kind);
  if (found === undefined) throw new Error(`${kind} was not set up`);
  return found;
}

let freshCount = 0;

/** What the handlers log (Powertools writes JSON lines to stdout/stderr), kept for checks. */
const logLines: string[] = [];

beforeAll(async () => {
  captureOutput(logLines);
  sim = await startSimulator({
    projectId: PROJECT,
    versions: workload,
    auth: { tokens: [UPSTREAM_TOKEN] },
    pageCap: 100,
  });
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  dir = await mkdtemp(join(tmpdir(), "api-"));

  // The file root is `dir/root`; the planted file sits next to it, in `dir`. On S3 the root is
  // the prefix `root/`; the planted object sits at the bucket's top.
  await writeFile(join(dir, "outside-secret.txt"), SECRET);
  await s3.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: "outside-secret.txt", Body: SECRET }),
  );

  const fileRoot = join(dir, "root");
  await mkdir(fileRoot);
  subjects.set("file storage", {
    filled: new FileStore(fileRoot),
    filledUrl: `file://${fileRoot}`,
    emptyUrl: `file://${join(dir, "empty")}`,
    env: {},
    fresh() {
      const path = join(dir, `post-${++freshCount}`);
      return { store: new FileStore(path), url: `file://${path}` };
    },
  });
  const s3Store = (prefix: string) => new S3Store({ bucket: BUCKET, prefix, client: s3.client });
  subjects.set("S3", {
    filled: s3Store("root"),
    filledUrl: `s3://${BUCKET}/root`,
    emptyUrl: `s3://${BUCKET}/empty`,
    env: localS3Env(s3.endpoint),
    fresh() {
      const prefix = `post-${++freshCount}`;
      return { store: s3Store(prefix), url: `s3://${BUCKET}/${prefix}` };
    },
  });

  for (const { filled } of subjects.values()) {
    await runReportJob(
      {
        versions: new ModelArtsClient({
          endpoint: sim.url,
          projectId: PROJECT,
          auth: staticTokenAuth(UPSTREAM_TOKEN),
        }),
        store: filled,
      },
      {
        dates: [...DATES],
        timeZone: "UTC",
        failureStatuses: [3, 5, 6, 13],
        now: NOW,
        pageSize: 100,
        sourceInfo: { endpoint: sim.url, projectId: PROJECT, workspaceId: null, poolId: null },
      },
    );
  }
  server = await startApiServer((await configure({})).routes);
});

afterAll(async () => {
  vi.restoreAllMocks();
  // The 500s above were logged with their cause, and no log line holds a token.
  const log = logLines.join("");
  expect(log).toMatch(/"level":"ERROR"/);
  expect(log).not.toContain(API_TOKEN);
  expect(log).not.toContain(UPSTREAM_TOKEN);
  await server?.close();
  await sim?.close();
  await s3?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
  for (const name of Object.keys(environment)) delete environment[name];
});

/** The functions' environment in the current test: what `configure` was given, merged. */
const environment: Record<string, string | undefined> = {};

/**
 * Gives the functions `env` (merged into what this test set before) and loads them afresh, as
 * a new container reads its environment; the API server calls these from then on.
 */
async function configure(env: Record<string, string | undefined>): Promise<Handlers> {
  Object.assign(environment, env);
  const handlers = await loadHandlers(environment);
  server?.setHandlers(handlers.routes);
  current = handlers;
  return handlers;
}

/** The handlers loaded last. */
let current: Handlers | undefined;

/** The files route's function, called with a hand-made event (what API Gateway would pass). */
const fileRoute: Handlers["routes"]["GET /reports/{date}/files/{name}"] = (event, context) => {
  if (current === undefined) throw new Error("no handlers loaded");
  return current.routes["GET /reports/{date}/files/{name}"](event, context);
};

/** The functions over one kind of store, with REPORT_API_TOKEN (the local stage's token). */
function useStore(kind: StoreKind, url: string, token: string | undefined = API_TOKEN) {
  return configure({
    ...subject(kind).env,
    REPORT_STORAGE: url,
    REPORT_API_TOKEN_SECRET: undefined,
    REPORT_API_TOKEN: token,
  });
}

/** The token is configured only through REPORT_API_TOKEN (the local stage). */
function useToken(token: string | undefined) {
  return configure({ REPORT_API_TOKEN_SECRET: undefined, REPORT_API_TOKEN: token });
}

// --- talking to the API ------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Headers;
  bytes: Buffer;
  text: string;
}

interface Call {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The bearer token to send; `null` sends no Authorization header. */
  token?: string | null;
  base?: string;
}

/** Error bodies: `{"error": {"code", "message"}}` and nothing that looks like a stack trace. */
function expectErrorBody(text: string, code?: string): { code: string; message: string } {
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error?.code).toBe("string");
  expect(typeof body.error?.message).toBe("string");
  if (code !== undefined) expect(body.error?.code).toBe(code);
  expect(text).not.toMatch(/stack/i);
  // V8 frames: "    at fn (file:line:col)" or "at file:line:col".
  expect(text).not.toMatch(/\bat\s+(\S+\s+)?\(?(file:|node:|\/)[^)]*:\d+:\d+/);
  expect(text).not.toMatch(/node_modules|\/work\/|\/tmp\//);
  expect(text).not.toContain(API_TOKEN);
  expect(text).not.toContain(UPSTREAM_TOKEN);
  return body.error as { code: string; message: string };
}

async function call(path: string, opts: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? API_TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${opts.base ?? server.url}${path}`, {
    method: opts.method ?? "GET",
    headers,
    redirect: "manual",
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const answer = { status: res.status, headers: res.headers, bytes, text: bytes.toString("utf8") };
  if (answer.status >= 400) expectErrorBody(answer.text);
  return answer;
}

async function expectError(answer: Promise<Answer>, status: number, code: string) {
  const got = await answer;
  expect({ status: got.status, text: got.text }).toMatchObject({ status });
  return expectErrorBody(got.text, code);
}

/** A request sent byte for byte as given (fetch would resolve `..` and re-encode the path). */
function rawRequest(
  path: string,
  opts: { method?: string; headers?: [string, string][]; body?: string } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method ?? "GET",
        path,
        // As an array, headers go out as given, Host included (Node 20 refuses a request without).
        // A body gets its Content-Length, as any client sends it: without one, Node sends a
        // DELETE's body bare, and the server takes it for the next request.
        headers: [
          ["host", url.host],
          ...(opts.headers ?? []),
          ...(opts.body === undefined
            ? []
            : [["content-length", String(Buffer.byteLength(opts.body))]]),
        ].flat(),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

const jsonPost = (body: string, opts: Call = {}) =>
  call("/reports", {
    method: "POST",
    body,
    ...opts,
    headers: { "content-type": "application/json; charset=utf-8", ...opts.headers },
  });

async function stored(store: ReportStore, key: string): Promise<Buffer> {
  const object = await store.get(key);
  if (object === undefined) throw new Error(`${key} is missing from ${store.url}`);
  return object.body;
}

const authHeader = { authorization: `Bearer ${API_TOKEN}` };

// --- the tests ---------------------------------------------------------------------------

describe.each(["file storage", "S3"] as const)("the report API over %s", (kind) => {
  beforeEach(async () => {
    await useStore(kind, subject(kind).filledUrl);
  });

  describe("authentication", () => {
    const routes: [string, string, string?][] = [
      ["GET", "/reports"],
      ["GET", "/reports?limit=1"],
      ["GET", "/reports/latest"],
      ["GET", `/reports/${LATEST}`],
      ["GET", `/reports/${LATEST}?format=csv`],
      ["GET", `/reports/${LATEST}?format=html`],
      ["GET", "/reports/2026-02-30"],
      ["GET", `/reports/${LATEST}/files/usage.csv`],
      ["GET", `/reports/${LATEST}/files/secret.txt`],
      ["POST", "/reports", '{"date":"2026-11-20"}'],
    ];
    const badAuthorization: [string, string | undefined][] = [
      ["no Authorization header", undefined],
      ["a wrong token", `Bearer wrong-${API_TOKEN}`],
      ["the token with a character missing", `Bearer ${API_TOKEN.slice(0, -1)}`],
      ["the token without the Bearer scheme", API_TOKEN],
      ["Basic credentials", `Basic ${Buffer.from(`user:${API_TOKEN}`).toString("base64")}`],
      ["another scheme", `Token ${API_TOKEN}`],
      ["Bearer without a token", "Bearer"],
      ["two tokens", `Bearer ${API_TOKEN} ${API_TOKEN}`],
      ["the token twice, comma-joined", `Bearer ${API_TOKEN}, Bearer ${API_TOKEN}`],
      ["an empty header", ""],
    ];

    it.each(routes)("refuses %s %s without the right bearer token", async (method, path, body) => {
      const listingsBefore = sim.requests.listing;
      for (const [label, authorization] of badAuthorization) {
        const answer = await call(path, {
          method,
          token: null,
          headers: {
            ...(authorization === undefined ? {} : { authorization }),
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body }),
        });
        expect(answer.status, label).toBe(401);
        expect(answer.headers.get("www-authenticate"), label).toBe("Bearer");
        expect(answer.headers.get("content-type"), label).toMatch(/^application\/json/);
        expectErrorBody(answer.text, "unauthorized");
      }
      expect(sim.requests.listing, "no job ran").toBe(listingsBefore);
    });

    it("accepts the token when REPORT_API_TOKEN ends in a newline, as one read from a file does", async () => {
      await useToken(`${API_TOKEN}\n`);
      expect((await call("/reports")).status).toBe(200);
      expect((await call("/reports", { token: "wrong" })).status).toBe(401);
    });

    it("accepts the Bearer scheme in any case", async () => {
      const answer = await call("/reports", {
        token: null,
        headers: { authorization: `bEaReR ${API_TOKEN}` },
      });
      expect(answer.status).toBe(200);
    });

    it.each([
      ["empty", ""],
      ["unset", undefined],
    ])(
      "answers 500 not_configured when REPORT_API_TOKEN is %s and no secret is named",
      async (_label, value) => {
        await useToken(value);
        await configure({ MODELARTS_TOKEN: UPSTREAM_TOKEN });
        for (const token of [API_TOKEN, null, ""]) {
          const answer = await call("/reports", { token });
          expect(answer.status).toBe(500);
          const error = expectErrorBody(answer.text, "not_configured");
          expect(error.message).not.toMatch(/REPORT_API_TOKEN_SECRET|arn:/);
        }
      },
    );
  });

  describe("GET /reports", () => {
    it("lists every date newest first with when it was generated", async () => {
      const answer = await call("/reports");
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(JSON.parse(answer.text)).toEqual({
        reports: [...DATES]
          .reverse()
          .map((report_date) => ({ report_date, generated_at: "2026-11-28T00:30:00.000Z" })),
        next_cursor: null,
      });
    });

    it.each([1, 2])("walks all dates in pages of %i by following next_cursor", async (limit) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
        const answer = await call(`/reports?${query}`);
        expect(answer.status).toBe(200);
        const page = JSON.parse(answer.text) as {
          reports: { report_date: string; generated_at: string }[];
          next_cursor: string | null;
        };
        expect(page.reports.length).toBeLessThanOrEqual(limit);
        for (const report of page.reports) {
          expect(report.generated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
          seen.push(report.report_date);
        }
        cursor = page.next_cursor;
        pages += 1;
      } while (cursor !== null && pages < 10);
      expect(seen).toEqual([...DATES].reverse());
      expect(pages).toBe(Math.ceil(DATES.length / limit));
    });

    it("pages with limit=100 and default to one page", async () => {
      const answer = await call("/reports?limit=100");
      expect(JSON.parse(answer.text).reports).toHaveLength(DATES.length);
    });

    it.each(["0", "101", "abc", "-1", "1.5", "", "1e1", "1,2"])(
      "refuses limit=%s with 400 invalid_limit",
      async (limit) => {
        await expectError(
          call(`/reports?limit=${encodeURIComponent(limit)}`),
          400,
          "invalid_limit",
        );
      },
    );

    it("joins a repeated limit as API Gateway does and refuses it", async () => {
      await expectError(call("/reports?limit=1&limit=2"), 400, "invalid_limit");
    });

    it.each([
      ["garbage", "!!!"],
      ["base64 of something else", Buffer.from("not-a-date").toString("base64url")],
      ["base64 of a day that does not exist", Buffer.from("2026-02-30").toString("base64url")],
      ["a NUL", "\0"],
      ["too long", "A".repeat(200)],
      ["empty", ""],
    ])("refuses a malformed cursor (%s) with 400 invalid_cursor", async (_label, cursor) => {
      await expectError(
        call(`/reports?cursor=${encodeURIComponent(cursor)}`),
        400,
        "invalid_cursor",
      );
    });

    it("answers 200 with no reports on an empty store", async () => {
      await useStore(kind, subject(kind).emptyUrl);
      const answer = await call("/reports");
      expect(JSON.parse(answer.text)).toEqual({ reports: [], next_cursor: null });
    });
  });

  describe("GET /reports/latest and /reports/{date}", () => {
    it("answers /reports/latest with the newest report.json, byte for byte", async () => {
      const answer = await call("/reports/latest");
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(answer.bytes).toEqual(
        await stored(subject(kind).filled, `daily/${LATEST}/report.json`),
      );
      expect(JSON.parse(answer.text)).toMatchObject({ schema_version: 1, report_date: LATEST });
    });

    it("answers 404 no_report for latest on an empty store", async () => {
      await useStore(kind, subject(kind).emptyUrl);
      await expectError(call("/reports/latest"), 404, "no_report");
      await expectError(call("/reports/latest?format=csv"), 404, "no_report");
    });

    it.each(DATES)("answers /reports/%s with that date's report.json", async (date) => {
      const answer = await call(`/reports/${date}`);
      expect(answer.status).toBe(200);
      expect(answer.bytes).toEqual(await stored(subject(kind).filled, `daily/${date}/report.json`));
    });

    it.each(["2026-02-30", "2026-1-1", "20261127", "2026-11-27x", "2026-13-01", "latest2"])(
      "answers 400 invalid_date for %s",
      async (date) => {
        await expectError(call(`/reports/${date}`), 400, "invalid_date");
      },
    );

    it("answers 404 not_found for a date without a report", async () => {
      await expectError(call("/reports/2026-11-01"), 404, "not_found");
      await expectError(call("/reports/2026-11-01?format=csv"), 404, "not_found");
      await expectError(call("/reports/2026-11-01?format=html"), 404, "not_found");
    });

    it.each(["latest", LATEST])(
      "answers /reports/%s?format=csv with the usage.csv bytes",
      async (which) => {
        const answer = await call(`/reports/${which}?format=csv`);
        expect(answer.status).toBe(200);
        expect(answer.headers.get("content-type")).toBe("text/csv; charset=utf-8");
        expect(answer.bytes).toEqual(
          await stored(subject(kind).filled, `daily/${LATEST}/usage.csv`),
        );
        expect(answer.text.startsWith("report_date,flavor_code,pool_id,")).toBe(true);
      },
    );

    it.each([
      ["?format=html", {}],
      ["", { accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8" }],
    ])("answers %s %j with a page about the date, without scripts", async (query, headers) => {
      const answer = await call(`/reports/2026-11-26${query}`, { headers });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(answer.text).toMatch(/^<!doctype html>/i);
      expect(answer.text).toContain("2026-11-26");
      expect(answer.text).toContain("GPU-hours by flavor");
      expect(answer.text).not.toMatch(/<script|<link|src="http/i);
      expect(answer.headers.get("content-security-policy")).toContain("default-src 'none'");
    });

    it.each([
      ["text/html", "html"],
      ["TEXT/HTML", "html"],
      ["text/*", "html"],
      ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"],
      ["*/*", "json"],
      ["application/json", "json"],
      ["application/json, text/html;q=0.5", "json"],
      ["text/html;q=0.5, application/json", "json"],
      ["text/html;q=0, */*", "json"],
      ["text/html;q=abc", "json"],
      ["text/htmlx", "json"],
      ["", "json"],
    ])("answers Accept: %s with %s", async (accept, format) => {
      const answer = await call(`/reports/${LATEST}`, { headers: { accept } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toMatch(
        format === "html" ? /^text\/html/ : /^application\/json/,
      );
      expect(answer.headers.get("vary")).toMatch(/accept/i);
    });

    it("lets ?format win over Accept", async () => {
      const answer = await call(`/reports/${LATEST}?format=csv`, {
        headers: { accept: "text/html" },
      });
      expect(answer.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    });

    it.each(["xml", "", "CSV", "html5"])(
      "answers 400 invalid_format for format=%s",
      async (format) => {
        await expectError(call(`/reports/${LATEST}?format=${format}`), 400, "invalid_format");
      },
    );

    it.each([
      ["JSON", ""],
      ["CSV", "?format=csv"],
    ])("sends an ETag on %s and 304 for a matching If-None-Match", async (_label, query) => {
      const first = await call(`/reports/${LATEST}${query}`);
      const etag = first.headers.get("etag");
      expect(etag).toMatch(/^"[^"]+"$/);
      for (const ifNoneMatch of [etag ?? "", `W/${etag}`, `"stale", ${etag}`, "*"]) {
        const again = await call(`/reports/${LATEST}${query}`, {
          headers: { "if-none-match": ifNoneMatch },
        });
        expect(again.status, ifNoneMatch).toBe(304);
        expect(again.bytes).toHaveLength(0);
        expect(again.headers.get("etag")).toBe(etag);
        // What a cache needs to keep using its copy, as on the 200.
        expect(again.headers.get("cache-control")).toBe(first.headers.get("cache-control"));
        expect(again.headers.get("vary")).toBe(first.headers.get("vary"));
      }
      const stale = await call(`/reports/${LATEST}${query}`, {
        headers: { "if-none-match": '"0000000000"' },
      });
      expect(stale.status).toBe(200);
      expect(stale.bytes).toEqual(first.bytes);
    });

    it("gives JSON and CSV different ETags, and latest the same as its date", async () => {
      const json = (await call(`/reports/${LATEST}`)).headers.get("etag");
      const csv = (await call(`/reports/${LATEST}?format=csv`)).headers.get("etag");
      const latest = (await call("/reports/latest")).headers.get("etag");
      expect(json).not.toBe(csv);
      expect(latest).toBe(json);
    });
  });

  describe("GET /reports/{date}/files/{name}", () => {
    it.each([...FILES, "manifest.json"])("hands out %s for download", async (name) => {
      const expected = await stored(subject(kind).filled, `daily/${LATEST}/${name}`);
      const answer = await call(`/reports/${LATEST}/files/${name}`);
      let download: { headers: Headers; bytes: Buffer };
      if (kind === "S3") {
        expect(answer.status).toBe(302);
        const location = answer.headers.get("location") ?? "";
        const url = new URL(location);
        expect(url.origin).toBe(s3.endpoint);
        expect(url.pathname).toBe(`/${BUCKET}/root/daily/${LATEST}/${name}`);
        expect(url.searchParams.get("X-Amz-Expires")).toBe("300");
        expect(answer.headers.get("cache-control")).toBe("private, no-store");
        // The presigned URL needs no bearer token: it is the credential.
        const res = await fetch(location);
        expect(res.status).toBe(200);
        download = { headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
      } else {
        expect(answer.status).toBe(200);
        download = answer;
      }
      expect(download.headers.get("content-disposition")).toBe(
        `attachment; filename="${LATEST}-${name}"`,
      );
      expect(download.bytes).toEqual(expected);
    });

    it.each([
      "secret.txt",
      "outside-secret.txt",
      "..%2F..%2Flatest.json",
      "..%2F..%2F..%2Foutside-secret.txt",
      "..%5C..%5Clatest.json",
      "report.json%00",
      "report.json%00.txt",
      "REPORT.JSON",
      "%2e%2e",
      "latest.json",
      "report.json%2F..",
    ])("answers 404 for the file name %s and shows nothing outside the date", async (name) => {
      const answer = await call(`/reports/${LATEST}/files/${name}`);
      expect(answer.status).toBe(404);
      expectErrorBody(answer.text, "not_found");
      expect(answer.headers.get("location")).toBeNull();
      expect(answer.text).not.toContain(SECRET);
    });

    it.each(["../latest.json", "../../outside-secret.txt", "../../../outside-secret.txt"])(
      "answers 404 when API Gateway passes the name %s decoded",
      async (name) => {
        const event = apiGatewayEvent({
          url: `/reports/${LATEST}/files/${encodeURIComponent(name)}`,
          headers: authHeader,
          route: {
            routeKey: "GET /reports/{date}/files/{name}",
            pathParameters: { date: LATEST, name },
          },
        });
        const result = await fileRoute(event, lambdaContext());
        expect(result.statusCode).toBe(404);
        expect(result.body).not.toContain(SECRET);
        expectErrorBody(result.body ?? "", "not_found");
      },
    );

    it("never reaches outside the root through a date made of dots and slashes", async () => {
      for (const date of ["..", "../..", "..%2F..", "%2e%2e"]) {
        const answer = await call(`/reports/${date}/files/report.json`);
        expect(answer.status, date).toBeGreaterThanOrEqual(400);
        expect(answer.status, date).toBeLessThan(500);
        expect(answer.text).not.toContain(SECRET);
      }
      const event = apiGatewayEvent({
        url: "/reports/x/files/outside-secret.txt",
        headers: authHeader,
        route: {
          routeKey: "GET /reports/{date}/files/{name}",
          pathParameters: { date: "../..", name: "outside-secret.txt" },
        },
      });
      const result = await fileRoute(event, lambdaContext());
      expect(result.statusCode).toBe(400);
      expect(result.body).not.toContain(SECRET);
    });

    it("answers 404 for an unencoded ../ sent as it is", async () => {
      const answer = await rawRequest(`/reports/${LATEST}/files/../latest.json`, {
        headers: [["authorization", `Bearer ${API_TOKEN}`]],
      });
      expect(answer.status).toBe(404);
      expect(answer.text).not.toContain(SECRET);
      expectErrorBody(answer.text);
    });

    it("answers 404 for a date without a report and 400 for a malformed date", async () => {
      await expectError(call("/reports/2026-11-01/files/usage.csv"), 404, "not_found");
      await expectError(call("/reports/2026-02-30/files/usage.csv"), 400, "invalid_date");
      await expectError(call("/reports/latest/files/usage.csv"), 400, "invalid_date");
    });
  });

  describe("POST /reports (regeneration in this process)", () => {
    let target: ReportStore;

    let handlers: Handlers;

    beforeEach(async () => {
      const fresh = subject(kind).fresh();
      target = fresh.store;
      // The local stage: no report function to hand the dates to, so the job runs here.
      handlers = await configure({
        REPORT_FUNCTION_NAME: undefined,
        AWS_LAMBDA_FUNCTION_NAME: undefined,
        MODELARTS_ENDPOINT: sim.url,
        MODELARTS_PROJECT_ID: PROJECT,
        MODELARTS_TOKEN: UPSTREAM_TOKEN,
        REPORT_TIMEZONE: "UTC",
        REPORT_STORAGE: fresh.url,
      });
    });

    /**
     * Whether a regeneration of `date` (any, without one) is pending, other than the stand-ins
     * for deployed runs that a test plants (`queued-…`), which never end.
     */
    async function isPending(date?: string): Promise<boolean> {
      // s3rver resets a GET of an object that is being replaced: that is "ask again".
      const queue = await target.get("regenerations.json").catch(() => null);
      if (queue === null) return true;
      if (queue === undefined) return false;
      const pending: { id: string; from: string; to: string }[] = JSON.parse(
        queue.body.toString(),
      ).pending;
      return pending.some(
        (p) =>
          !p.id.startsWith("queued-") && (date === undefined || (p.from <= date && date <= p.to)),
      );
    }

    /** Until the background jobs of this stage have ended (nothing pending any more). */
    async function settled(date?: string): Promise<void> {
      const deadline = Date.now() + 45_000;
      while (await isPending(date)) {
        if (Date.now() > deadline) throw new Error("a regeneration stayed pending");
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    // The local stage answers 202 before its job has run: no job may outlive its test.
    afterEach(() => settled());

    async function expectFiles(dates: readonly string[]): Promise<void> {
      await settled();
      expect(await target.listFolders("daily")).toEqual([...dates]);
      for (const date of dates) {
        for (const name of FILES) {
          expect(await target.get(`daily/${date}/${name}`), `${date}/${name}`).toBeDefined();
        }
      }
    }

    it("regenerates one date and answers 202 with it", async () => {
      const answer = await jsonPost('{"date":"2026-11-20"}');
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.text)).toEqual({ dates: ["2026-11-20"] });
      await expectFiles(["2026-11-20"]);
      const report = JSON.parse((await stored(target, "daily/2026-11-20/report.json")).toString());
      expect(report).toMatchObject({ report_date: "2026-11-20", source: { project_id: PROJECT } });
      // The API reads what it wrote.
      expect((await call("/reports/latest")).text).toBe(
        (await stored(target, "daily/2026-11-20/report.json")).toString(),
      );
    });

    it("regenerates a range with both ends counted", async () => {
      const answer = await jsonPost('{"from":"2026-11-18","to":"2026-11-20"}');
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.text)).toEqual({
        dates: ["2026-11-18", "2026-11-19", "2026-11-20"],
      });
      await expectFiles(["2026-11-18", "2026-11-19", "2026-11-20"]);
    });

    it("accepts, then logs the failure and writes nothing when the upstream fails", async () => {
      vi.stubEnv("MODELARTS_MAX_ATTEMPTS", "1");
      sim.queueFaults({ kind: "status", status: 500, errorCode: "ModelArts.0001" });
      const answer = await jsonPost('{"date":"2026-11-20"}');
      // As deployed: the job runs after the answer, so its failure is the log's, not the client's.
      expect(answer.status).toBe(202);
      expect(answer.text).not.toContain(sim.url);
      await settled();
      expect(logLines.join("")).toContain('"message":"regeneration failed"');
      expect(await target.get("latest.json")).toBeUndefined();
      expect(await target.get("daily/2026-11-20/report.json")).toBeUndefined();
    });

    it("accepts a range of exactly 31 dates", async () => {
      const answer = await jsonPost('{"from":"2026-10-01","to":"2026-10-31"}');
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.text).dates).toHaveLength(31);
    });

    it.each([
      ["a date that does not exist", '{"date":"2026-02-30"}'],
      ["a date without leading zeros", '{"date":"2026-1-1"}'],
      ["a date far in the future", '{"date":"2099-01-01"}'],
      ["today, which has not ended", `{"date":"${new Date().toISOString().slice(0, 10)}"}`],
      ["a range that ends in the future", '{"from":"2026-11-20","to":"2099-01-01"}'],
      ["year 0, before the 2000-01-01 floor", '{"date":"0000-01-01"}'],
      ["a range that starts before 2000", '{"from":"1999-12-31","to":"2000-01-01"}'],
      ["a month before 2000", '{"month":"1999-12"}'],
    ])("answers 400 invalid_date for %s and runs nothing", async (_label, body) => {
      const listingsBefore = sim.requests.listing;
      await expectError(jsonPost(body), 400, "invalid_date");
      expect(sim.requests.listing).toBe(listingsBefore);
      expect(await target.listFolders("daily")).toEqual([]);
      expect(await target.get("latest.json")).toBeUndefined();
    });

    it.each([
      ["a date that is a number", '{"date":20261120}'],
      ["from after to", '{"from":"2026-11-20","to":"2026-11-18"}'],
      ["both forms at once", '{"date":"2026-11-20","from":"2026-11-18","to":"2026-11-20"}'],
      ["date with only from", '{"date":"2026-11-20","from":"2026-11-18"}'],
      ["an unknown field", '{"date":"2026-11-20","force":true}'],
      ["only an unknown field", '{"dates":["2026-11-20"]}'],
      ["from without to", '{"from":"2026-11-18"}'],
      ["an empty object", "{}"],
      ["a 32-day range", '{"from":"2026-10-01","to":"2026-11-01"}'],
      ["a range across years over 31 days", '{"from":"2025-12-01","to":"2026-01-05"}'],
      ["an array", '["2026-11-20"]'],
      ["null", "null"],
      ["a string", '"2026-11-20"'],
      ["a number", "20261120"],
      ["__proto__ as a field", '{"__proto__":{"date":"2026-11-20"}}'],
    ])("answers 400 invalid_body for %s and runs nothing", async (_label, body) => {
      const listingsBefore = sim.requests.listing;
      await expectError(jsonPost(body), 400, "invalid_body");
      expect(sim.requests.listing).toBe(listingsBefore);
      expect(await target.listFolders("daily")).toEqual([]);
    });

    it.each([
      ["text/plain", { "content-type": "text/plain" }],
      ["form data", { "content-type": "application/x-www-form-urlencoded" }],
      ["a type that only starts like JSON", { "content-type": "application/jsonp" }],
    ])("answers 415 for %s", async (_label, headers) => {
      const answer = await call("/reports", {
        method: "POST",
        body: '{"date":"2026-11-20"}',
        headers,
      });
      expect(answer.status).toBe(415);
      expectErrorBody(answer.text, "unsupported_media_type");
    });

    it("answers 415 for a body without a content type", async () => {
      // fetch would label a string body text/plain; this request carries no Content-Type.
      const answer = await rawRequest("/reports", {
        method: "POST",
        headers: [["authorization", `Bearer ${API_TOKEN}`]],
        body: '{"date":"2026-11-20"}',
      });
      expect(answer.status).toBe(415);
      expectErrorBody(answer.text, "unsupported_media_type");
    });

    it("accepts a +json media type", async () => {
      const answer = await call("/reports", {
        method: "POST",
        body: '{"date":"2026-11-21"}',
        headers: { "content-type": "application/vnd.report+json" },
      });
      expect(answer.status).toBe(202);
    });

    it.each(['{"date":', "", "{'date':'2026-11-20'}", '{"date":"2026-11-20"} x'])(
      "answers 400 invalid_json for the body %j",
      async (body) => {
        await expectError(jsonPost(body), 400, "invalid_json");
      },
    );

    it("answers 400 invalid_json, not 500, for a JSON content type with no body at all", async () => {
      const answer = await rawRequest("/reports", {
        method: "POST",
        headers: [
          ["authorization", `Bearer ${API_TOKEN}`],
          ["content-type", "application/json"],
        ],
      });
      expect(answer.status).toBe(400);
      expectErrorBody(answer.text, "invalid_json");
      const event = apiGatewayEvent({
        method: "POST",
        url: "/reports",
        headers: { ...authHeader, "content-type": "application/json" },
      });
      expect(event.body).toBeUndefined();
      const result = await handlers.routes["POST /reports"](event, lambdaContext());
      expect(result.statusCode).toBe(400);
      expectErrorBody(result.body ?? "", "invalid_json");
    });

    it("answers 409 with what is pending while an overlapping regeneration is queued", async () => {
      // What a queued deployed run looks like: its entry in the regeneration queue.
      const queued = {
        pending: [
          {
            id: "queued-1",
            from: "2026-11-19",
            to: "2026-11-21",
            accepted_at: new Date().toISOString(),
            expires_at: new Date(Date.now() + 600_000).toISOString(),
          },
        ],
      };
      await target.put("regenerations.json", JSON.stringify(queued), "application/json");
      const listingsBefore = sim.requests.listing;
      const refused = await expectError(
        jsonPost('{"date":"2026-11-20"}'),
        409,
        "regeneration_pending",
      );
      expect(refused).toMatchObject({
        pending: [
          { from: "2026-11-19", to: "2026-11-21", expires_at: queued.pending[0]?.expires_at },
        ],
      });
      await expectError(
        jsonPost('{"from":"2026-11-10","to":"2026-11-19"}'),
        409,
        "regeneration_pending",
      );
      expect(sim.requests.listing).toBe(listingsBefore);
      // Dates that do not overlap go ahead, and leave nothing pending behind them.
      expect((await jsonPost('{"date":"2026-11-22"}')).status).toBe(202);
      await settled("2026-11-22");
      const after = JSON.parse((await stored(target, "regenerations.json")).toString());
      expect(after.pending.map((p: { id: string }) => p.id)).toEqual(["queued-1"]);
    });

    it("forgets a pending regeneration once it has expired", async () => {
      const expired = {
        pending: [
          {
            id: "old",
            from: "2026-11-20",
            to: "2026-11-20",
            accepted_at: "2026-11-01T00:00:00.000Z",
            expires_at: "2026-11-01T01:00:00.000Z",
          },
        ],
      };
      await target.put("regenerations.json", JSON.stringify(expired), "application/json");
      expect((await jsonPost('{"date":"2026-11-20"}')).status).toBe(202);
      await settled();
      const after = JSON.parse((await stored(target, "regenerations.json")).toString());
      expect(after.pending).toEqual([]);
    });

    it("answers 413 for a body over 16 KiB", async () => {
      const body = JSON.stringify({ date: "2026-11-20", pad: "x".repeat(16 * 1024) });
      const listingsBefore = sim.requests.listing;
      await expectError(jsonPost(body), 413, "body_too_large");
      expect(sim.requests.listing).toBe(listingsBefore);
    });

    it("reads a base64-encoded body, over HTTP and as a raw event", async () => {
      const base64Server = await startApiServer(handlers.routes, { base64Bodies: true });
      try {
        const answer = await jsonPost('{"date":"2026-11-22"}', { base: base64Server.url });
        expect(answer.status).toBe(202);
        expect(base64Server.events.at(-1)?.isBase64Encoded).toBe(true);
      } finally {
        await base64Server.close();
      }
      const event = apiGatewayEvent({
        method: "POST",
        url: "/reports",
        headers: { ...authHeader, "content-type": "application/json" },
        body: '{"from":"2026-11-23","to":"2026-11-24"}',
        base64: true,
      });
      expect(event.body).toBe(
        Buffer.from('{"from":"2026-11-23","to":"2026-11-24"}').toString("base64"),
      );
      const result = await handlers.routes["POST /reports"](event, lambdaContext());
      expect(result.statusCode).toBe(202);
      expect(JSON.parse(result.body ?? "")).toEqual({ dates: ["2026-11-23", "2026-11-24"] });
      await expectFiles(["2026-11-22", "2026-11-23", "2026-11-24"]);
    });
  });

  describe("security headers and error bodies", () => {
    it("sets the security headers on successes, redirects, 304s and errors", async () => {
      const etag = (await call(`/reports/${LATEST}`)).headers.get("etag") ?? "";
      const answers = [
        await call("/reports"),
        await call(`/reports/${LATEST}?format=csv`),
        await call(`/reports/${LATEST}/files/usage.csv`),
        await call(`/reports/${LATEST}`, { headers: { "if-none-match": etag } }),
        await call("/reports", { token: null }),
        await call("/reports/2026-02-30"),
        await call("/reports/2026-11-01"),
        await call("/reports", { method: "POST", body: "x" }),
      ];
      for (const answer of answers) {
        const label = `${answer.status}`;
        expect(answer.headers.get("x-content-type-options"), label).toBe("nosniff");
        expect(answer.headers.get("referrer-policy"), label).toBe("no-referrer");
        expect(answer.headers.get("strict-transport-security"), label).toMatch(/^max-age=\d+/);
        expect(answer.headers.get("x-powered-by"), label).toBeNull();
      }
      expect(answers.map((a) => a.status)).toEqual([
        200,
        200,
        kind === "S3" ? 302 : 200,
        304,
        401,
        400,
        404,
        415,
      ]);
    });

    it("adds the page-only headers to the HTML page", async () => {
      const answer = await call(`/reports/${LATEST}?format=html`);
      expect(answer.headers.get("x-frame-options")).toBe("DENY");
      const csp = answer.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("style-src 'unsafe-inline'");
      expect(csp).not.toMatch(/script-src[^;]*(unsafe|\*|http)/);
    });
  });

  describe("fuzzed requests", () => {
    const segment = fc.oneof(
      fc.constantFrom(
        "reports",
        "latest",
        "files",
        ...DATES,
        "2026-11-01",
        "2026-02-30",
        ...FILES,
        "latest.json",
        "outside-secret.txt",
        "daily",
        "..",
        ".",
        "%2e%2e",
        "%2E%2E%2F",
        "..%2F..%2Foutside-secret.txt",
        "..%2F..%2F..%2Foutside-secret.txt",
        "..%2f..%2flatest.json",
        "..%5C..%5Coutside-secret.txt",
        "report.json%00",
        "%00",
        "%",
        "%zz",
        "%E0%A4%A",
        "%C0%AE%C0%AE",
        "~",
        "",
      ),
      fc.string({ unit: "grapheme", maxLength: 10 }).map(encodeURIComponent),
      fc.stringMatching(/^[!-~]{0,10}$/),
    );
    // Weighted towards the routes with a real date, where a bad name would reach storage.
    const date = fc.oneof(
      { arbitrary: fc.constantFrom(...DATES, "latest"), weight: 3 },
      { arbitrary: segment, weight: 2 },
    );
    const path = fc.oneof(
      fc.constant("/reports"),
      { arbitrary: date.map((d) => `/reports/${d}`), weight: 2 },
      { arbitrary: fc.tuple(date, segment).map(([d, n]) => `/reports/${d}/files/${n}`), weight: 4 },
      fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join("/")}`),
      fc.array(segment, { maxLength: 5 }).map((s) => `/reports/${s.join("/")}`),
    );
    const queryValue = fc.oneof(
      fc.constantFrom("0", "1", "2", "100", "101", "abc", "-1", "csv", "html", "xml", "json", ""),
      fc
        .constantFrom(...DATES, "2026-02-30", "..%2F..", "\0")
        .map((d) => Buffer.from(d).toString("base64url")),
      fc.string({ unit: "grapheme", maxLength: 12 }),
    );
    const query = fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom("limit", "cursor", "format", "__proto__", "constructor", "x"),
            fc.string({ maxLength: 6 }),
          ),
          queryValue,
        ),
        { maxLength: 4 },
      )
      .map((pairs) =>
        pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&"),
      );
    const headerValue = fc.oneof(
      fc.constantFrom(
        "text/html",
        "application/json",
        "*/*",
        '"x"',
        "*",
        "W/",
        "text/csv, text/html;q=0.1",
        "a=b; c=d",
        "",
      ),
      // Printable ASCII: what an HTTP client may put in a header value.
      fc.stringMatching(/^[ -~]{0,30}$/),
    );
    const forbidden = new Set([
      "authorization",
      "host",
      "content-length",
      "transfer-encoding",
      "connection",
      "expect",
      "upgrade",
      "te",
      "trailer",
      "keep-alive",
    ]);
    const headers = fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            "accept",
            "if-none-match",
            "content-type",
            "cookie",
            "x-forwarded-for",
            "__proto__",
            "constructor",
          ),
          fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/),
        ),
        headerValue,
      ),
      { maxLength: 5 },
    );
    const auth = fc.constantFrom(
      { kind: "valid", header: `Bearer ${API_TOKEN}` },
      { kind: "valid", header: `Bearer ${API_TOKEN}` },
      { kind: "valid", header: `Bearer ${API_TOKEN}` },
      { kind: "valid", header: `Bearer ${API_TOKEN}` },
      { kind: "valid", header: `bearer   ${API_TOKEN}  ` },
      { kind: "none", header: undefined },
      { kind: "wrong", header: `Bearer ${API_TOKEN}x` },
      { kind: "wrong", header: `Bearer ${API_TOKEN.toUpperCase()}` },
      { kind: "malformed", header: `Basic ${API_TOKEN}` },
      { kind: "malformed", header: API_TOKEN },
      { kind: "malformed", header: "Bearer" },
    );
    // Never a body that could be a valid regeneration: a fuzzed 202 would start a real job.
    // Often none at all, as a POST without a body sends.
    const body = fc.option(
      fc
        .oneof(fc.string({ maxLength: 40 }), fc.json({ maxDepth: 2 }))
        .filter((b) => !/"(date|from|to)"/.test(b)),
      { nil: undefined, freq: 3 },
    );
    // Content types a POST may carry, JSON ones often, so the body parser is reached.
    const contentType = fc.option(
      fc.oneof(
        fc.constantFrom(
          "application/json",
          "application/json; charset=utf-8",
          "APPLICATION/JSON",
          "application/merge-patch+json",
          "application/json;",
          "application/jsonp",
          "text/plain",
          "multipart/form-data; boundary=x",
          "application/x-www-form-urlencoded",
          "",
        ),
        fc.stringMatching(/^[ -~]{0,20}$/),
      ),
      { nil: undefined },
    );

    it("never fails with 5xx, always asks for the token, and never shows a file outside the root", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("GET", "GET", "GET", "POST", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"),
          path,
          query,
          headers,
          auth,
          body,
          contentType,
          async (method, p, q, hs, a, b, type) => {
            const target = q === "" ? p : `${p}?${q}`;
            const sent: [string, string][] = hs.filter(
              ([name]) => !forbidden.has(name) && (type === undefined || name !== "content-type"),
            );
            if (type !== undefined) sent.push(["content-type", type]);
            if (a.header !== undefined) sent.push(["authorization", a.header]);
            const answer = await rawRequest(target, {
              method,
              headers: sent,
              ...(b !== undefined && method !== "GET" && method !== "OPTIONS" ? { body: b } : {}),
            });
            const rawPath = target.split("?", 1)[0] ?? "";
            const route = matchRoute(method, rawPath);
            expect(answer.status).toBeLessThan(500);
            if (a.kind !== "valid") expect(answer.status).toBe(route === undefined ? 404 : 401);
            if (answer.status >= 400) expectErrorBody(answer.text);
            expect(answer.text).not.toContain(SECRET);
            if (answer.status === 302) {
              const location = new URL(answer.headers.location ?? "");
              expect(location.pathname).toMatch(
                new RegExp(
                  `^/${BUCKET}/root/daily/\\d{4}-\\d{2}-\\d{2}/(report\\.json|usage\\.csv|jobs\\.csv)$`,
                ),
              );
            }
          },
        ),
        // API_FUZZ_RUNS=2000 for a longer run by hand.
        { numRuns: Number(process.env.API_FUZZ_RUNS ?? 300) },
      );
    }, 600_000);
  });
});

describe("the report API over a damaged store", () => {
  let damaged: FileStore;
  let damagedRoot: string;

  beforeAll(async () => {
    damagedRoot = join(dir, "damaged");
    damaged = new FileStore(damagedRoot);
    await damaged.put("latest.json", `not json ${SECRET}`, "application/json");
    await damaged.put(`daily/${LATEST}/report.json`, `{"broken": "${SECRET}"`, "application/json");
  });

  beforeEach(async () => {
    await configure({ REPORT_STORAGE: `file://${damagedRoot}`, REPORT_API_TOKEN: API_TOKEN });
  });

  it("lists the other days and skips (and logs) a report.json that cannot be read", async () => {
    await damaged.put(
      "daily/2026-11-26/report.json",
      renderReportJson(makeReport({ report_date: "2026-11-26", generated_at: "g" })),
      "application/json",
    );
    await damaged.put("daily/2026-11-25/report.json", '{"schema_version": 2}', "application/json");
    // The head of a report and no more: not a report.
    await damaged.put(
      "daily/2026-11-24/report.json",
      JSON.stringify({ schema_version: 1, report_date: "2026-11-24", generated_at: "g" }),
      "application/json",
    );
    const answer = await call("/reports");
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      reports: [{ report_date: "2026-11-26", generated_at: "g" }],
      next_cursor: null,
    });
    expect(answer.text).not.toContain(SECRET);
    const log = logLines.join("");
    expect(log).toContain("skipped a stored report.json that cannot be read");
    expect(log).toContain(`daily/${LATEST}/report.json`);
    expect(log).toContain("daily/2026-11-25/report.json");
    expect(log).toContain("daily/2026-11-24/report.json");
  });

  it.each([`/reports/${LATEST}`, `/reports/${LATEST}?format=html`])(
    "answers %s with 502 invalid_stored_report naming the file, not its contents",
    async (path) => {
      const answer = await call(path);
      expect(answer.status).toBe(502);
      const error = expectErrorBody(answer.text, "invalid_stored_report");
      expect(error.message).toBe(
        `the stored daily/${LATEST}/report.json is not a valid report: it is not JSON`,
      );
      expect(answer.text).not.toContain(SECRET);
      expect(answer.text).not.toContain(damagedRoot);
      expect(logLines.join("")).toContain("invalid_stored_report");
    },
  );

  it.each(["/reports/latest"])(
    "answers %s with a bare 500 internal_error, hiding paths and contents",
    async (path) => {
      const answer = await call(path);
      expect(answer.status).toBe(500);
      const error = expectErrorBody(answer.text, "internal_error");
      expect(error.message).toBe("the request could not be completed");
      expect(answer.text).not.toContain(SECRET);
      expect(answer.text).not.toContain(damagedRoot);
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      // The cause is in the log for the operator, not in the answer.
      expect(logLines.join("")).toMatch(/request failed/);
    },
  );
});
