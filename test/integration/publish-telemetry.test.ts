import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { runPlan } from "../../src/app/steps.js";
import { scanOutput } from "../../src/handlers/step-payloads.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { lambdaContext } from "../helpers/apigw.js";
import { type Handlers, loadHandlers } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";

/**
 * The run's telemetry, as CloudWatch receives it from Publish's stdout: one metrics document
 * (EMF) per invocation, whether the run was published or not, and log lines that carry the
 * invocation's context (request id, function name, cold start). Plan and ScanSource run first,
 * as the state machine runs them; the deployed-shape suite (test/deployed) runs the same
 * handlers from their packaged zips.
 */

const NOW = Date.now();
const UPSTREAM = `upstream-${randomUUID()}`;
const yesterday = new Date(NOW - 86_400_000).toISOString().slice(0, 10);

let sim: Simulator;
let dir: string;
let versions: number;
const lines: string[] = [];

beforeAll(async () => {
  const workload = generateWorkload({ versions: 250, seed: 5, now: NOW, days: 4 });
  versions = workload.length;
  sim = await startSimulator({
    projectId: "p",
    versions: workload,
    auth: { tokens: [UPSTREAM] },
    pageCap: 100,
  });
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "publish-telemetry-"));
  lines.length = 0;
  captureOutput(lines);
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

function load(env: Record<string, string | undefined> = {}): Promise<Handlers> {
  return loadHandlers({
    REPORT_STATE_MACHINE_ARN: undefined,
    AWS_LAMBDA_FUNCTION_NAME: undefined,
    REPORT_STORAGE: `file://${dir}`,
    REPORT_TIMEZONE: "UTC",
    MODELARTS_ENDPOINT: sim.url,
    MODELARTS_PROJECT_ID: "p",
    MODELARTS_TOKEN: UPSTREAM,
    MODELARTS_PAGE_SIZE: "100",
    MODELARTS_MAX_ATTEMPTS: "1",
    ...env,
  });
}

/** The JSON documents written to stdout or stderr. */
function documents(): Record<string, unknown>[] {
  return lines
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The invocation's metrics document (CloudWatch embedded metric format); the usage documents
 * per day, source and pool (dimension `source`) are test/integration/publish-metrics.test.ts's.
 */
const emf = () => documents().filter((d) => d._aws !== undefined && d.source === undefined);

const logged = (message: string) => documents().find((d) => d.message === message);

/** Plan and the one source's scan of yesterday, as the state machine runs them: Publish's input. */
async function planned(h: Handlers, runId: string) {
  const plan = runPlan.parse(
    await h.steps.plan({ event: { dates: [yesterday] }, run_id: runId }, lambdaContext("plan")),
  );
  const scan = scanOutput.parse(
    await h.steps.scanSource({ plan, index: 0 }, lambdaContext("scan", 900_000)),
  );
  lines.length = 0;
  return { ...plan, scans: [scan] };
}

it("publishes the run's metrics once and logs the outcome with the invocation's context", async () => {
  const h = await load();
  const input = await planned(h, "run-telemetry");
  const context = lambdaContext("modelarts-usage-report-test-publish", 900_000);
  await expect(h.steps.publish(input, context)).resolves.toMatchObject({
    dates: [yesterday],
    versionsScanned: versions,
  });
  const metrics = emf();
  expect(metrics).toHaveLength(1);
  expect(metrics[0]).toMatchObject({
    ReportRuns: 1,
    VersionsScanned: versions,
    BadRecords: 0,
    service: "modelarts-usage-report",
  });
  expect(metrics[0]).not.toHaveProperty("ReportFailures");
  expect(logged("report run finished")).toMatchObject({
    runId: "run-telemetry",
    function_request_id: context.awsRequestId,
    function_name: context.functionName,
    cold_start: expect.any(Boolean),
  });
});

it("publishes ReportFailures and logs the failure with the invocation's context when the run is not published", async () => {
  const h = await load();
  const input = await planned(h, "run-tampered");
  // A partial that is not what its scan wrote: Publish refuses it, for good.
  const [scan] = input.scans;
  if (scan === undefined) throw new Error("no scan");
  const tampered = { ...input, scans: [{ ...scan, partial: { ...scan.partial, bytes: 1 } }] };
  const context = lambdaContext("modelarts-usage-report-test-publish", 900_000);
  await expect(h.steps.publish(tampered, context)).rejects.toMatchObject({
    name: "StepFailedError",
  });
  const metrics = emf();
  expect(metrics).toHaveLength(1);
  expect(metrics[0]).toMatchObject({ ReportFailures: 1 });
  expect(metrics[0]).not.toHaveProperty("ReportRuns");
  expect(logged("report run failed; latest.json was not changed")).toMatchObject({
    function_request_id: context.awsRequestId,
  });
});
