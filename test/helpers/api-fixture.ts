import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from "vitest";
import { staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient } from "../../src/modelarts/client.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { S3Store } from "../../src/storage/s3-store.js";
import type { ReportStore } from "../../src/storage/store.js";
import { type ApiServer, startApiServer } from "./api-server.js";
import { type Handlers, loadHandlers, localS3Env } from "./handlers.js";
import { captureOutput } from "./log-capture.js";
import { runOneSource } from "./one-source.js";
import { type LocalS3, startS3 } from "./s3.js";

/**
 * The HTTP API of report.md §7 over real HTTP: a node:http stand-in for API Gateway builds
 * payload 2.0 events for the real handlers, which read reports that the real job wrote from
 * the simulator into file storage and into S3 (s3rver). The handlers are configured only
 * through their environment (REPORT_STORAGE, the token, AWS_ENDPOINT_URL_S3), as deployed.
 * `useApiFixture()` sets all of it up for one test file (test/integration/api/*).
 */

export const NOW = Date.UTC(2026, 10, 28, 0, 30);
export const PROJECT = "proj-api";
export const API_TOKEN = `api-token-${randomUUID()}`;
export const UPSTREAM_TOKEN = `upstream-token-${randomUUID()}`;
export const DATES = ["2026-11-25", "2026-11-26", "2026-11-27"] as const;
export const LATEST = "2026-11-27";
export const FILES = ["report.json", "usage.csv", "jobs.csv"] as const;
export const BUCKET = "reports";
/** Content of `outside-secret.txt`, planted next to the report root; no answer may show it. */
export const SECRET = `OUTSIDE-SECRET-${randomUUID()}`;
const workload = generateWorkload({ versions: 600, seed: 11, now: NOW, days: 10 });

export let sim: Simulator;
export let s3: LocalS3;
export let server: ApiServer;
export let dir: string;

export type StoreKind = "file storage" | "S3";
export const STORE_KINDS = ["file storage", "S3"] as const;

/** One kind of store: a root filled with reports, an empty one, and fresh ones for POST. */
export interface Subject {
  filled: ReportStore;
  filledUrl: string;
  emptyUrl: string;
  /** What the functions need beside REPORT_STORAGE to reach this kind of store. */
  env: Record<string, string>;
  /** A new empty root and its REPORT_STORAGE URL. */
  fresh(): { store: ReportStore; url: string };
}

const subjects = new Map<StoreKind, Subject>();

export function subject(kind: StoreKind): Subject {
  const found = subjects.get(kind);
  if (found === undefined) throw new Error(`${kind} was not set up`);
  return found;
}

let freshCount = 0;

/** What the handlers log (Powertools writes JSON lines to stdout/stderr), kept for checks. */
export const logLines: string[] = [];

async function setUp(): Promise<void> {
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
    await runOneSource(
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
}

export interface ApiFixtureOptions {
  /** The file's tests make the functions fail (500s, failed jobs): the log must show it. */
  errorsLogged: boolean;
}

/**
 * Registers the hooks of one test file: simulator, s3rver, both stores filled by the real
 * job, the API server; afterwards, the log holds no token (and the errors, when expected).
 */
export function useApiFixture({ errorsLogged }: ApiFixtureOptions): void {
  beforeAll(setUp);

  afterAll(async () => {
    vi.restoreAllMocks();
    // The 500s were logged with their cause, and no log line holds a token.
    const log = logLines.join("");
    if (errorsLogged) expect(log).toMatch(/"level":"ERROR"/);
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
}

/** In a `describe.each(STORE_KINDS)`: the functions over the filled root of that store. */
export function useFilledStore(kind: StoreKind): void {
  beforeEach(async () => {
    await useStore(kind, subject(kind).filledUrl);
  });
}

/** The functions' environment in the current test: what `configure` was given, merged. */
const environment: Record<string, string | undefined> = {};

/**
 * Gives the functions `env` (merged into what this test set before) and loads them afresh, as
 * a new container reads its environment; the API server calls these from then on.
 */
export async function configure(env: Record<string, string | undefined>): Promise<Handlers> {
  Object.assign(environment, env);
  const handlers = await loadHandlers(environment);
  server?.setHandlers(handlers.routes);
  current = handlers;
  return handlers;
}

/** The handlers loaded last. */
let current: Handlers | undefined;

/** The files route's function, called with a hand-made event (what API Gateway would pass). */
export const fileRoute: Handlers["routes"]["GET /reports/{date}/files/{name}"] = (
  event,
  context,
) => {
  if (current === undefined) throw new Error("no handlers loaded");
  return current.routes["GET /reports/{date}/files/{name}"](event, context);
};

/** The functions over one kind of store, with REPORT_API_TOKEN (the local stage's token). */
export function useStore(kind: StoreKind, url: string, token: string | undefined = API_TOKEN) {
  return configure({
    ...subject(kind).env,
    REPORT_STORAGE: url,
    REPORT_API_TOKEN_SECRET: undefined,
    REPORT_API_TOKEN: token,
  });
}

/** The token is configured only through REPORT_API_TOKEN (the local stage). */
export function useToken(token: string | undefined) {
  return configure({ REPORT_API_TOKEN_SECRET: undefined, REPORT_API_TOKEN: token });
}

// --- talking to the API ------------------------------------------------------------------

export async function stored(store: ReportStore, key: string): Promise<Buffer> {
  const object = await store.get(key);
  if (object === undefined) throw new Error(`${key} is missing from ${store.url}`);
  return object.body;
}

export const authHeader = { authorization: `Bearer ${API_TOKEN}` };
