import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReportCli } from "../../src/cli/report.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { cliIo, simulatorEnv } from "../helpers/sink.js";
import { rawVersion, version } from "../helpers/versions.js";

/**
 * The files as a real client reads them: DuckDB's `read_csv` over a month of daily files with
 * one glob (issue 18). DuckDB types a column from the first files it sniffs (10 by default) and
 * refuses a later file whose column sniffs otherwise ("Schema mismatch between globbed files …
 * expected to have type: BIGINT But has type: DOUBLE"), so an hours column that held whole
 * numbers for ten days and a fraction on the twelfth broke the month's query.
 *
 * The month is five hand-built versions of one flavor and pool, served by the simulator and
 * reported by the CLI (`--from/--to` for the days, `--month` for the month); every figure below
 * is worked out by hand from their times, not by the code under test. Price: 2.5 per GPU-hour.
 *
 * - v1 8 GPUs, completed, 11-01 00:00–10:00 (waited 0): 80 GPU-h, 10 h
 * - v2 4 GPUs, completed, created 11-02 05:45, 06:00–07:30: 6 GPU-h, 1.5 h, waited 0.25 h
 * - v0 2 GPUs, running since 10-31 23:00: 48 GPU-h and 24 h every day, 1440 GPU-h in the month
 * - v3 1 GPU, running, created 11-12 00:00, started 00:20: 23 h 40 min on the 12th, then 24 h
 *   a day for 18 days: 455.666… GPU-h; waited 1/3 h
 * - v4 2 GPUs, failed (11), created 11-20 08:00, 08:10–09:55: 1.75 h, 3.5 GPU-h; waited 1/6 h
 *
 * Days 1–11 hold only whole GPU-hours (128, 54, then 48), the 12th 71.666667: the old writer's
 * `48` beside `71.666667` is the issue's failure.
 */

const NOW = Date.UTC(2026, 11, 2, 0, 30);
const at = (day: number, hour: number, minute = 0) => Date.UTC(2026, 10, day, hour, minute);
const VERSIONS = [
  version({
    versionId: 1,
    status: 10,
    gpuNum: 8,
    createTime: at(1, 0),
    startTime: at(1, 0),
    endTime: at(1, 10),
  }),
  version({
    versionId: 2,
    status: 10,
    gpuNum: 4,
    createTime: at(2, 5, 45),
    startTime: at(2, 6),
    endTime: at(2, 7, 30),
  }),
  version({
    versionId: 3,
    status: 8,
    gpuNum: 1,
    createTime: at(12, 0),
    startTime: at(12, 0, 20),
  }),
  version({
    versionId: 4,
    status: 11,
    gpuNum: 2,
    createTime: at(20, 8),
    startTime: at(20, 8, 10),
    endTime: at(20, 9, 55),
  }),
  version({
    versionId: 10,
    status: 8,
    gpuNum: 2,
    createTime: Date.UTC(2026, 9, 31, 23),
    startTime: Date.UTC(2026, 9, 31, 23),
  }),
].map((v) => rawVersion({ ...v, flavorCode: "gpu.a", poolId: "pool-1", duration: 0 }));

/** Each day's figures, by hand (see above). Days not listed: 48, 24, 48 running, 120.00 (3–11) or 72, 48, 72, 180.00 (13–30). */
const DAYS: Record<
  number,
  { gpu: number; run: number; wait: number; running: number; cost: number }
> = {
  1: { gpu: 128, run: 34, wait: 0, running: 48, cost: 320 },
  2: { gpu: 54, run: 25.5, wait: 0.25, running: 48, cost: 135 },
  12: { gpu: 71.666667, run: 47.666667, wait: 0.333333, running: 71.666667, cost: 179.17 },
  20: { gpu: 75.5, run: 49.75, wait: 0.166667, running: 72, cost: 188.75 },
};
function day(d: number) {
  return (
    DAYS[d] ??
    (d < 12
      ? { gpu: 48, run: 24, wait: 0, running: 48, cost: 120 }
      : { gpu: 72, run: 48, wait: 0, running: 72, cost: 180 })
  );
}

/** The month, by hand: the sums of the days above. */
const MONTH = {
  gpu_hours: 1985.166667, // 80 + 6 + 1440 + 23.666667 + 18 × 24 + 3.5
  npu_hours: 0,
  run_hours: 1188.916667, // 10 + 1.5 + 720 + 23.666667 + 18 × 24 + 1.75
  wait_hours: 0.75, // 0 + 0.25 + 1/3 + 1/6
  max_wait_hours: 0.333333,
  gpu_hours_completed: 86,
  gpu_hours_failed: 3.5,
  gpu_hours_running: 1895.666667, // 1440 + 455.666667
  cost: 4962.92, // 1985.1666… × 2.5
};

const HOURS_COLUMNS = [
  "gpu_hours",
  "npu_hours",
  "run_hours",
  "wait_hours",
  "max_wait_hours",
  "gpu_hours_completed",
  "gpu_hours_failed",
  "gpu_hours_lost",
  "gpu_hours_cancelled",
  "gpu_hours_running",
  "gpu_hours_unknown",
];
const JOBS_NUMBER_COLUMNS = ["overlap_hours", "gpu_hours", "npu_hours", "wait_hours", "cost"];

let sim: Simulator;
let dir: string;
let root: string;
let instance: DuckDBInstance;
let db: DuckDBConnection;

function io() {
  const env = { ...simulatorEnv(sim.url, "p", root), PRICE_TABLE: join(dir, "prices.json") };
  return cliIo(env, NOW, dir);
}

/** A path as a SQL string literal. */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJS();
}

async function columnTypes(source: string): Promise<Record<string, string>> {
  const described = await rows(`DESCRIBE SELECT * FROM ${source}`);
  return Object.fromEntries(described.map((r) => [String(r.column_name), String(r.column_type)]));
}

beforeAll(async () => {
  sim = await startSimulator({ projectId: "p", versions: VERSIONS, auth: { tokens: ["t"] } });
  dir = await mkdtemp(join(tmpdir(), "duckdb-"));
  root = join(dir, "reports");
  await writeFile(
    join(dir, "prices.json"),
    JSON.stringify({ currency: "EUR", flavors: { "gpu.a": { per_gpu_hour: 2.5 } } }),
  );
  for (const args of [
    ["--from", "2026-11-01", "--to", "2026-11-30"],
    ["--month", "2026-11"],
  ]) {
    const cli = io();
    const code = await runReportCli(args, cli);
    expect(code, cli.stderr.text).toBe(0);
  }
  instance = await DuckDBInstance.create(":memory:");
  db = await instance.connect();
}, 120_000);

afterAll(async () => {
  db?.closeSync();
  instance?.closeSync();
  await sim?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("DuckDB reading the CSV files", () => {
  it("reads a month of daily usage.csv with one glob, hours as DOUBLE, sums equal to the month", async () => {
    const usage = `read_csv(${literal(`${root}/daily/2026-11-*/usage.csv`)})`;
    const types = await columnTypes(usage);
    for (const c of HOURS_COLUMNS) expect(types[c], c).toBe("DOUBLE");
    expect(types.cost).toBe("DOUBLE");
    expect(types.versions_active).toBe("BIGINT");

    const perDay = await rows(
      `SELECT day(report_date)::INTEGER AS d, gpu_hours AS gpu, run_hours AS run, wait_hours AS wait,
              gpu_hours_running AS running, cost FROM ${usage} ORDER BY report_date`,
    );
    expect(perDay).toEqual(Array.from({ length: 30 }, (_, i) => ({ d: i + 1, ...day(i + 1) })));

    const [sums] = await rows(
      `SELECT count(*) AS files, ${Object.keys(MONTH)
        .map((c) => `${c === "max_wait_hours" ? "max" : "sum"}(${c}) AS ${c}`)
        .join(", ")} FROM ${usage}`,
    );
    expect(sums?.files).toBe(30n);
    for (const [c, expected] of Object.entries(MONTH)) {
      expect(sums?.[c], c).toBeCloseTo(expected, 6);
    }

    // The month report says the same: its report.json totals and its own usage.csv.
    const { totals } = JSON.parse(
      await readFile(join(root, "monthly/2026-11/report.json"), "utf8"),
    );
    const month = `read_csv(${literal(`${root}/monthly/2026-11/usage.csv`)})`;
    const monthTypes = await columnTypes(month);
    for (const c of HOURS_COLUMNS) expect(monthTypes[c], c).toBe("DOUBLE");
    const [monthRow] = await rows(`SELECT * FROM ${month}`);
    for (const [c, expected] of Object.entries(MONTH)) {
      expect(monthRow?.[c], c).toBe(expected);
      const total = c.startsWith("gpu_hours_")
        ? (totals.gpu_hours_by_outcome as Record<string, unknown>)[c.slice("gpu_hours_".length)]
        : totals[c];
      expect(total, c).toBe(expected);
    }
  });

  it("reads a month of daily jobs.csv with one glob, hours and cost as DOUBLE", async () => {
    const jobs = `read_csv(${literal(`${root}/daily/2026-11-*/jobs.csv`)})`;
    const types = await columnTypes(jobs);
    for (const c of JOBS_NUMBER_COLUMNS) expect(types[c], c).toBe("DOUBLE");
    const [sums] = await rows(
      `SELECT count(*) AS n, sum(overlap_hours) AS run, sum(gpu_hours) AS gpu, sum(npu_hours) AS npu, sum(cost) AS cost FROM ${jobs}`,
    );
    // Rows: v0 on 30 days, v3 on 19, v1, v2 and v4 on one each.
    expect(sums?.n).toBe(52n);
    expect(sums?.run).toBeCloseTo(MONTH.run_hours, 6);
    expect(sums?.gpu).toBeCloseTo(MONTH.gpu_hours, 6);
    expect(sums?.npu).toBe(0);
    // Each job's cost is rounded to cents per day: v0 30 × 120.00, v1 200.00, v2 15.00,
    // v3 59.17 + 18 × 60.00, v4 8.75.
    expect(sums?.cost).toBeCloseTo(4962.92, 2);

    const month = `read_csv(${literal(`${root}/monthly/2026-11/jobs.csv`)})`;
    const monthTypes = await columnTypes(month);
    for (const c of JOBS_NUMBER_COLUMNS) expect(monthTypes[c], c).toBe("DOUBLE");
    const monthJobs = await rows(
      `SELECT version_id AS id, overlap_hours AS run, gpu_hours AS gpu, wait_hours AS wait FROM ${month} ORDER BY version_id`,
    );
    expect(monthJobs).toEqual([
      { id: 1n, run: 10, gpu: 80, wait: 0 },
      { id: 2n, run: 1.5, gpu: 6, wait: 0.25 },
      { id: 3n, run: 455.666667, gpu: 455.666667, wait: 0.333333 },
      { id: 4n, run: 1.75, gpu: 3.5, wait: 0.166667 },
      { id: 10n, run: 720, gpu: 1440, wait: 0 },
    ]);
  });
});
