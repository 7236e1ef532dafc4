import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import {
  METRICS_NAMESPACE,
  PUBLIC_POOL,
  RUN_METRICS,
  USAGE_METRICS,
} from "../../src/app/run-metrics.js";
import { runPlan } from "../../src/app/steps.js";
import { scanOutput } from "../../src/handlers/step-payloads.js";
import { roundCents } from "../../src/report/format.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { lambdaContext } from "../helpers/apigw.js";
import { directivesOf, emfProblems } from "../helpers/emf.js";
import { loadHandlers } from "../helpers/handlers.js";
import { captureOutput } from "../helpers/log-capture.js";

/**
 * The run's CloudWatch metrics (report.md §11 "Metrics") as Publish writes them to stdout:
 * every document valid EMF; one per (day, source, pool) with dimensions service, source and
 * pool and that day's GPU-hours, NPU-hours, failed versions and cost as report.json has them;
 * the run's duration, pages and versions scanned in the invocation's own document. Plan and
 * ScanSource run first, as the state machine runs them, over the simulator.
 */

const NOW = Date.now();
const UPSTREAM = `upstream-${randomUUID()}`;
const day = (n: number) => new Date(NOW - n * 86_400_000).toISOString().slice(0, 10);
const DATES = [day(2), day(1)];

let sim: Simulator;
let dir: string;
const lines: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({
    projectId: "p",
    versions: generateWorkload({ versions: 300, seed: 11, now: NOW, days: 4 }),
    auth: { tokens: [UPSTREAM] },
    pageCap: 100,
  });
  dir = await mkdtemp(join(tmpdir(), "publish-metrics-"));
});

afterAll(async () => {
  await sim?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

type Json = Record<string, unknown>;
interface StoredRow {
  source: string;
  pool_id: string | null;
  gpu_hours: number;
  npu_hours: number;
  versions_failed: number;
  cost: number | null;
}

const documents = (): Json[] =>
  lines
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Json)
    .filter((d) => d._aws !== undefined);

it("writes each day's usage per source and pool, and the run's figures, as valid EMF", async () => {
  const prices = join(dir, "prices.json");
  // Only one flavor priced: the others cost 0, and a priced run has Cost on every point.
  await writeFile(
    prices,
    JSON.stringify({ currency: "EUR", flavors: { "modelarts.p1.2xlarge": { per_gpu_hour: 2 } } }),
  );
  const h = await loadHandlers({
    REPORT_STATE_MACHINE_ARN: undefined,
    AWS_LAMBDA_FUNCTION_NAME: undefined,
    REPORT_STORAGE: `file://${join(dir, "store")}`,
    REPORT_TIMEZONE: "UTC",
    PRICE_TABLE: prices,
    MODELARTS_ENDPOINT: sim.url,
    MODELARTS_PROJECT_ID: "p",
    MODELARTS_TOKEN: UPSTREAM,
    MODELARTS_PAGE_SIZE: "100",
    MODELARTS_MAX_ATTEMPTS: "1",
  });
  captureOutput(lines);
  const plan = runPlan.parse(
    await h.steps.plan({ event: { dates: DATES }, run_id: "run-metrics" }, lambdaContext("plan")),
  );
  const scan = scanOutput.parse(
    await h.steps.scanSource({ plan, index: 0 }, lambdaContext("scan", 900_000)),
  );
  lines.length = 0;
  const started = Date.now();
  await h.steps.publish({ ...plan, scans: [scan] }, lambdaContext("publish", 900_000));
  const ended = Date.now();

  const docs = documents();
  for (const doc of docs) expect(emfProblems(doc)).toEqual([]);
  for (const doc of docs) {
    expect(directivesOf(doc).map((d) => d.Namespace)).toEqual([METRICS_NAMESPACE]);
  }

  // The usage documents: dimensions service, source and pool; the day a property.
  const usage = docs.filter((d) => d.source !== undefined);
  for (const doc of usage) {
    const [directive] = directivesOf(doc);
    expect(directive?.Dimensions).toEqual([["service", "source", "pool"]]);
    expect(directive?.Metrics).toEqual([
      { Name: USAGE_METRICS.gpuHours, Unit: "None" },
      { Name: USAGE_METRICS.npuHours, Unit: "None" },
      { Name: USAGE_METRICS.failedVersions, Unit: "Count" },
      { Name: USAGE_METRICS.cost, Unit: "None" },
    ]);
    expect(doc).toMatchObject({ service: "modelarts-usage-report", run_id: "run-metrics" });
  }

  // What each day's report.json says, per source and pool, summed over its flavors.
  const expected: Json[] = [];
  for (const date of DATES) {
    const stored = JSON.parse(
      await readFile(join(dir, "store", "daily", date, "report.json"), "utf8"),
    ) as { by_source_flavor_pool: StoredRow[] };
    const sums = new Map<string, Json & { cost: number }>();
    for (const r of stored.by_source_flavor_pool) {
      const pool = r.pool_id ?? PUBLIC_POOL;
      const s = sums.get(pool) ?? {
        report_date: date,
        source: r.source,
        pool,
        gpu: 0,
        npu: 0,
        failed: 0,
        cost: 0,
      };
      s.gpu = (s.gpu as number) + r.gpu_hours;
      s.npu = (s.npu as number) + r.npu_hours;
      s.failed = (s.failed as number) + r.versions_failed;
      s.cost += r.cost ?? Number.NaN;
      sums.set(pool, s);
    }
    expected.push(...sums.values());
  }
  // The workload has versions on the public pool and on named ones, both days.
  expect(new Set(expected.map((e) => e.pool)).has(PUBLIC_POOL)).toBe(true);
  expect(expected.length).toBeGreaterThan(DATES.length);
  const key = (d: Json) => `${d.report_date} ${d.source} ${d.pool}`;
  expect(usage.map(key).sort()).toEqual(expected.map(key).sort());
  for (const e of expected) {
    const doc = usage.find((d) => key(d) === key(e)) as Json;
    // report.json rounds each row to 6 decimals; the metric rounds the exact sum once.
    expect(doc[USAGE_METRICS.gpuHours]).toBeCloseTo(e.gpu as number, 5);
    expect(doc[USAGE_METRICS.npuHours]).toBeCloseTo(e.npu as number, 5);
    expect(doc[USAGE_METRICS.failedVersions]).toBe(e.failed);
    expect(doc[USAGE_METRICS.cost]).toBe(roundCents(e.cost as number));
  }
  expect(usage.some((d) => (d[USAGE_METRICS.cost] as number) > 0)).toBe(true);

  // The invocation's own document: the run's figures, dimension service alone.
  const runDocs = docs.filter((d) => d.source === undefined);
  expect(runDocs).toHaveLength(1);
  const run = runDocs[0] as Json;
  expect(directivesOf(run)[0]?.Dimensions).toEqual([["service"]]);
  expect(run).toMatchObject({
    ReportRuns: 1,
    [RUN_METRICS.pages]: scan.pages,
    [RUN_METRICS.versionsScanned]: scan.versions_scanned,
  });
  // From the plan's clock to the end of Publish: at least Publish's own time, at most the test's.
  const duration = run[RUN_METRICS.duration] as number;
  expect(duration).toBeGreaterThanOrEqual(started - plan.now);
  expect(duration).toBeLessThanOrEqual(ended - plan.now);
  expect(directivesOf(run)[0]?.Metrics).toContainEqual({
    Name: RUN_METRICS.duration,
    Unit: "Milliseconds",
  });
});

it("finds what is wrong with a document that is not EMF", () => {
  const valid = {
    _aws: {
      Timestamp: 1_764_300_000_000,
      CloudWatchMetrics: [
        {
          Namespace: "N",
          Dimensions: [["service", "pool"]],
          Metrics: [{ Name: "M", Unit: "Count" }],
        },
      ],
    },
    service: "s",
    pool: "p",
    M: 1,
  };
  expect(emfProblems(valid)).toEqual([]);
  const { pool: _pool, ...noPool } = valid;
  expect(emfProblems(noPool)).toEqual(["dimension pool is not a string member of the root"]);
  expect(emfProblems({ ...valid, M: "1" })).toEqual(["metric M is not a number member"]);
  expect(emfProblems({ ...valid, _aws: { ...valid._aws, Timestamp: "now" } })).toEqual([
    "_aws.Timestamp is not epoch ms",
  ]);
});
