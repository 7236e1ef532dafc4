import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import {
  MAX_PENDING_REGENERATIONS,
  PENDING_TTL_MS,
  REGENERATIONS_KEY,
} from "../../src/storage/regenerations.js";
import { apiGatewayEvent, lambdaContext } from "../helpers/apigw.js";
import { type Handlers, loadHandlers } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";

/**
 * POST /reports on the local stage (`npm run dev`), through its own handler: it answers 202 at
 * once and runs the job in the background of the process, as the deployed stage hands it to
 * an asynchronous invocation; the outcome goes to the log and the pending entry is released
 * when the job ends, whether it wrote its dates or failed. Against a slow simulator, a job
 * that awaited the run here answered only after it (past serverless-offline's 29 s, a 504).
 */

const NOW = Date.now();
const TOKEN = `api-${randomUUID()}`;
const UPSTREAM = `upstream-${randomUUID()}`;
/** Each listing answer takes this long: a job takes a few of them, one after another. */
const LATENCY_MS = 1_200;
const day = (back: number) => new Date(NOW - back * 86_400_000).toISOString().slice(0, 10);

let sim: Simulator;
let dir: string;
let store: FileStore;
let handlers: Handlers;
const logLines: string[] = [];

beforeAll(async () => {
  captureOutput(logLines);
  sim = await startSimulator({
    projectId: "p",
    versions: generateWorkload({ versions: 300, seed: 3, now: NOW, days: 8 }),
    auth: { tokens: [UPSTREAM] },
    pageCap: 100,
    latencyMs: LATENCY_MS,
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await sim?.close();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "post-local-"));
  store = new FileStore(dir);
  logLines.length = 0;
  handlers = await loadHandlers({
    REPORT_STATE_MACHINE_ARN: undefined,
    AWS_LAMBDA_FUNCTION_NAME: undefined,
    REPORT_STORAGE: `file://${dir}`,
    REPORT_TIMEZONE: "UTC",
    REPORT_API_TOKEN: TOKEN,
    MODELARTS_ENDPOINT: sim.url,
    MODELARTS_PROJECT_ID: "p",
    MODELARTS_TOKEN: UPSTREAM,
    MODELARTS_PAGE_SIZE: "100",
    MODELARTS_MAX_ATTEMPTS: "1",
  });
});

afterEach(async () => {
  await settled();
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

async function pending(): Promise<{ id: string; from: string; to: string }[]> {
  const object = await store.get(REGENERATIONS_KEY);
  return object === undefined ? [] : JSON.parse(object.body.toString()).pending;
}

/** Until no regeneration is pending (every background job has ended one way or the other). */
async function settled(timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await pending()).length > 0) {
    if (Date.now() > deadline) throw new Error("a regeneration stayed pending");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function post(body: unknown): Promise<{ status: number; body: unknown; ms: number }> {
  const started = performance.now();
  const result = await handlers.routes["POST /reports"](
    apiGatewayEvent({
      method: "POST",
      url: "/reports",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    lambdaContext(),
  );
  return {
    status: result.statusCode ?? 200,
    body: JSON.parse(result.body ?? "null"),
    ms: performance.now() - started,
  };
}

const logged = () =>
  logLines
    .join("")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { level: string; message: string; [k: string]: unknown });

describe("POST /reports on the local stage", () => {
  it("answers 202 at once, runs the job in the background, and releases the date when it is written", async () => {
    const answer = await post({ date: day(2) });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ dates: [day(2)] });
    // Well under one listing answer: the job has not run yet, let alone the whole scan.
    expect(answer.ms).toBeLessThan(LATENCY_MS);
    expect((await pending()).map((p) => p.from)).toEqual([day(2)]);
    expect(await store.get(`daily/${day(2)}/report.json`)).toBeUndefined();
    await settled();
    expect(await store.get(`daily/${day(2)}/report.json`)).toBeDefined();
    expect(logged()).toContainEqual(
      expect.objectContaining({ level: "INFO", message: "regeneration finished" }),
    );
  });

  it("releases the date and logs the failure when the background job fails", async () => {
    sim.queueFaults({ kind: "status", status: 500, errorCode: "ModelArts.0001" });
    const answer = await post({ date: day(3) });
    expect(answer.status).toBe(202);
    expect(answer.ms).toBeLessThan(LATENCY_MS);
    await settled();
    expect(await store.get(`daily/${day(3)}/report.json`)).toBeUndefined();
    expect(await store.get("latest.json")).toBeUndefined();
    const failed = logged().find((l) => l.message === "regeneration failed");
    expect(failed).toMatchObject({ level: "ERROR", dates: `${day(3)}..${day(3)}` });
    // The same date can be asked for again straight away, not after an hour.
    expect((await post({ date: day(3) })).status).toBe(202);
  });

  it("keeps answering at once while a job runs, and runs the jobs one after another", async () => {
    const first = await post({ date: day(2) });
    const second = await post({ date: day(4) });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.ms).toBeLessThan(LATENCY_MS);
    await settled();
    // One at a time, as the report function runs deployed: neither lost the run lock.
    expect(await store.get(`daily/${day(2)}/report.json`)).toBeDefined();
    expect(await store.get(`daily/${day(4)}/report.json`)).toBeDefined();
    expect(logged().filter((l) => l.message === "regeneration finished")).toHaveLength(2);
  });
});

describe("the cap on pending regenerations", () => {
  it(`answers 429 regeneration_queue_full once ${MAX_PENDING_REGENERATIONS} are pending, 409 for an overlap first`, async () => {
    const entries = [10, 12, 14].map((back) => ({
      id: `queued-${back}`,
      from: day(back),
      to: day(back),
      accepted_at: new Date(NOW).toISOString(),
      expires_at: new Date(Date.now() + PENDING_TTL_MS).toISOString(),
    }));
    expect(entries).toHaveLength(MAX_PENDING_REGENERATIONS);
    await store.put(REGENERATIONS_KEY, JSON.stringify({ pending: entries }), "application/json");
    const listings = sim.requests.listing;
    const full = await post({ date: day(5) });
    expect(full.status).toBe(429);
    expect(full.body).toMatchObject({
      error: {
        code: "regeneration_queue_full",
        pending: entries.map(({ from, to, expires_at }) => ({ from, to, expires_at })),
      },
    });
    expect((full.body as { error: { message: string } }).error.message).toContain(
      `${MAX_PENDING_REGENERATIONS} regenerations`,
    );
    const overlap = await post({ date: day(12) });
    expect(overlap.status).toBe(409);
    expect(sim.requests.listing).toBe(listings);
    // Nothing was added: the queue is as it was.
    expect((await pending()).map((p) => p.id)).toEqual(entries.map((e) => e.id));
    await store.put(REGENERATIONS_KEY, JSON.stringify({ pending: [] }), "application/json");
  });
});
