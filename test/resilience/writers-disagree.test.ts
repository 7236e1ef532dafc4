import { mkdtemp, readFile, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/main.js";
import { runReportCli } from "../../src/cli/report.js";
import { staticTokenAuth } from "../../src/modelarts/auth.js";
import { ModelArtsClient, type VersionSource } from "../../src/modelarts/client.js";
import { yesterday } from "../../src/report/time.js";
import type { Log } from "../../src/shared/log.js";
import { type Simulator, startSimulator } from "../../src/simulator/server.js";
import { generateWorkload, type RawVersion } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { readHistory } from "../../src/storage/history.js";
import { readLatest, readLatestMonth } from "../../src/storage/pointers.js";
import { LOCK_KEY, LOCK_TTL_MS } from "../../src/storage/run-lock.js";
import { S3Store } from "../../src/storage/s3-store.js";
import type { ReportStore } from "../../src/storage/store.js";
import { type OneSourceJobOptions, runOneSource } from "../helpers/one-source.js";
import { type LocalS3, startS3 } from "../helpers/s3.js";
import { sink } from "../helpers/sink.js";

/**
 * Writers that disagree (issue 18): on the zone, on the clock, on how fresh their view is.
 * Each writer is a real run of the job (or the CLI) against the simulator over HTTP, on file
 * storage and on s3rver with S3's conditional writes.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Late on 2 December 2026 in UTC: 3 December, 08:00 in Kiritimati (UTC+14). */
const NOW = Date.UTC(2026, 11, 2, 18, 0);
/** The night of 28 November: run A at 00:30, run B at 03:00. */
const NIGHT = Date.UTC(2026, 10, 28, 0, 30);
const PROJECT = "p-writers";
const FAILURES = [3, 5, 6, 13];

/** A GPU job that started late on 27 November: running at 00:30, completed at 02:00. */
const JOB_ID = 9_000_001;
const jobAt = (now: number): RawVersion => {
  const start = Date.UTC(2026, 10, 27, 20, 10);
  const end = Date.UTC(2026, 10, 28, 2, 0);
  const done = now >= end;
  return {
    version_id: JOB_ID,
    version_name: "overnight-train",
    status: done ? 10 : 8,
    create_time: Date.UTC(2026, 10, 27, 20, 0),
    start_time: start,
    end_time: done ? end : 0,
    duration: (done ? end : now) - start,
    version_desc: null,
    pool_id: null,
    flavor_code: "modelarts.p3.large",
    gpu_num: 2,
    npu_num: 0,
  };
};

const recent = generateWorkload({ versions: 300, seed: 41, now: NOW, days: 45 });
const night = generateWorkload({ versions: 300, seed: 42, now: NIGHT, days: 5 });

let dir: string;
let s3: LocalS3;
let sim: Simulator;
/** The view at 00:30 (the job running) and at 03:00 (completed). */
let simA: Simulator;
let simB: Simulator;
let count = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "writers-"));
  s3 = await startS3({ conditionalWrites: true });
  const start = (versions: readonly unknown[]) =>
    startSimulator({ projectId: PROJECT, versions, auth: { tokens: ["t"] }, pageCap: 100 });
  sim = await start(recent);
  simA = await start([...night, jobAt(NIGHT)]);
  simB = await start([...night, jobAt(NIGHT + 2.5 * HOUR)]);
});
afterAll(async () => {
  await Promise.all([sim?.close(), simA?.close(), simB?.close()]);
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const client = (from: Simulator = sim) =>
  new ModelArtsClient({ endpoint: from.url, projectId: PROJECT, auth: staticTokenAuth("t") });

function options(
  dates: string[],
  now: number,
  more: Partial<OneSourceJobOptions> = {},
): OneSourceJobOptions {
  return {
    dates,
    timeZone: "UTC",
    failureStatuses: FAILURES,
    now,
    pageSize: 100,
    sourceInfo: { endpoint: "sim", projectId: PROJECT, workspaceId: null, poolId: null },
    ...more,
  };
}

function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: () => {},
    warn: (message, extra) => lines.push(`${message} ${JSON.stringify(extra ?? {})}`),
  };
}

const json = async (store: ReportStore, key: string) =>
  JSON.parse((await store.get(key))?.body.toString("utf8") ?? "null");

const stores: [string, () => Promise<ReportStore>][] = [
  ["file storage", async () => new FileStore(join(dir, `root-${++count}`))],
  [
    "S3",
    async () => {
      const bucket = `writers-${++count}`;
      await s3.createBucket(bucket);
      return new S3Store({ bucket, prefix: "reports", client: s3.client });
    },
  ],
];

describe.each(stores)("writers that disagree, on %s", (_name, open) => {
  it("keeps latest.json on a day written in a zone ahead when a UTC run reports an older day", async () => {
    const store = await open();
    // In Kiritimati it is already 3 December: yesterday there is 2 December.
    await runOneSource(
      { versions: client(), store },
      options(["2026-12-02"], NOW, { timeZone: "Pacific/Kiritimati" }),
    );
    expect((await readLatest(store))?.report_date).toBe("2026-12-02");
    // In UTC it is still 2 December: that day has not ended here, but it has there.
    const result = await runOneSource({ versions: client(), store }, options(["2026-11-20"], NOW));
    expect(result.written.map((w) => w.date)).toEqual(["2026-11-20"]);
    expect(result.latest?.report_date).toBe("2026-12-02");
    expect((await readLatest(store))?.report_date).toBe("2026-12-02");
  });

  it("keeps latest.json and latest-month.json when a writer's clock is two days behind", async () => {
    const store = await open();
    const onTime = Date.UTC(2026, 11, 1, 10, 0);
    await runOneSource(
      { versions: client(), store },
      options(["2026-11-30"], onTime, { month: "2026-11" }),
    );
    const behind = onTime - 2 * DAY; // its today is 29 November
    const result = await runOneSource(
      { versions: client(), store },
      options(["2026-11-20"], behind, { month: "2026-10" }),
    );
    expect(result.written.map((w) => w.date)).toEqual(["2026-11-20"]);
    expect((await readLatest(store))?.report_date).toBe("2026-11-30");
    expect((await readLatestMonth(store))?.report_month).toBe("2026-11");
    expect(result.latest?.report_date).toBe("2026-11-30");
    expect(result.month?.latest.report_month).toBe("2026-11");
  });

  it("replaces a pointer whose report is missing, or that no writer could have written yet", async () => {
    const store = await open();
    // A pointer at a day whose files are gone (deleted by hand, or a half-restored bucket).
    await store.put(
      "latest.json",
      JSON.stringify({ report_date: "2026-12-01", generated_at: "x", files: {} }),
      "application/json",
    );
    const log = recordingLog();
    await runOneSource({ versions: client(), store, log }, options(["2026-11-20"], NOW));
    expect((await readLatest(store))?.report_date).toBe("2026-11-20");
    expect(log.lines.join("\n")).toMatch(/replacing latest\.json.*2026-12-01.*report is missing/);

    // A complete report from a writer whose clock ran five days ahead: 6 December is after
    // every correct writer's today + 1 day, so it is repaired even though its files exist.
    await runOneSource({ versions: client(), store }, options(["2026-12-06"], NOW + 5 * DAY));
    expect((await readLatest(store))?.report_date).toBe("2026-12-06");
    await runOneSource({ versions: client(), store, log }, options(["2026-12-01"], NOW));
    expect((await readLatest(store))?.report_date).toBe("2026-12-01");
    expect(log.lines.join("\n")).toMatch(/replacing latest\.json.*2026-12-06.*no writer/);
  });

  it("does not let a slower run that started earlier replace a newer run's report", async () => {
    const store = await open();
    // Run A starts at 00:30 and its scan stalls after the first page ...
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let scanning = () => {};
    const started = new Promise<void>((resolve) => (scanning = resolve));
    const real = client(simA);
    const slow: VersionSource = {
      async listPage(offset, limit, opts) {
        scanning();
        if (offset > 0) await gate;
        return real.listPage(offset, limit, opts);
      },
    };
    const logA = recordingLog();
    const runA = runOneSource(
      { versions: slow, store, log: logA },
      options(["2026-11-26", "2026-11-27"], NIGHT),
    );
    await started;
    // ... while run B starts at 03:00, sees the job completed, and publishes first.
    const NOW_B = NIGHT + 2.5 * HOUR;
    await runOneSource({ versions: client(simB), store }, options(["2026-11-27"], NOW_B));
    const fromB = {
      report: (await store.get("daily/2026-11-27/report.json"))?.body.toString(),
      jobs: (await store.get("daily/2026-11-27/jobs.csv"))?.body.toString(),
      latest: (await store.get("latest.json"))?.body.toString(),
    };
    expect(fromB.jobs).toMatch(new RegExp(`^2026-11-27,${JOB_ID},.*,completed,`, "m"));
    release();
    const result = await runA;

    // A wrote the day B did not, and left B's day alone, saying so.
    expect(result.written.map((w) => w.date)).toEqual(["2026-11-26"]);
    expect(result.superseded).toEqual([
      { period: "day", label: "2026-11-27", scanStartedAt: new Date(NOW_B).toISOString() },
    ]);
    expect(logA.lines.join("\n")).toContain(
      `skipped 2026-11-27: a newer report (scan started ${new Date(NOW_B).toISOString()}) is already stored`,
    );
    expect((await store.get("daily/2026-11-27/report.json"))?.body.toString()).toBe(fromB.report);
    expect((await store.get("daily/2026-11-27/jobs.csv"))?.body.toString()).toBe(fromB.jobs);
    expect((await store.get("latest.json"))?.body.toString()).toBe(fromB.latest);
    expect((await json(store, "daily/2026-11-27/manifest.json")).scan_started_at).toBe(
      new Date(NOW_B).toISOString(),
    );
    expect((await json(store, "daily/2026-11-26/manifest.json")).scan_started_at).toBe(
      new Date(NIGHT).toISOString(),
    );
    const history = await readHistory(store);
    expect(history?.map((d) => [d.date, d.generated_at])).toEqual([
      ["2026-11-26", new Date(NIGHT).toISOString()],
      ["2026-11-27", new Date(NOW_B).toISOString()],
    ]);
  });

  it("is not blocked by a stored report whose scan claims to start a year from now", async () => {
    const store = await open();
    const date = yesterday(Date.now(), "UTC");
    // A writer whose clock runs a year ahead reports yesterday.
    await runOneSource({ versions: client(), store }, options([date], Date.now() + 365 * DAY));
    // A correct writer a little later: the stored scan cannot have started after its manifest
    // was written (the store's clock), so this run's view is the newer one.
    const now = Date.now() + 1_000;
    const result = await runOneSource({ versions: client(), store }, options([date], now));
    expect(result.superseded).toEqual([]);
    expect(result.written.map((w) => w.date)).toEqual([date]);
    expect((await json(store, `daily/${date}/manifest.json`)).scan_started_at).toBe(
      new Date(now).toISOString(),
    );
  });
});

describe("npm run report from writers that disagree", () => {
  const env = (storage: string) => ({
    MODELARTS_ENDPOINT: sim.url,
    MODELARTS_PROJECT_ID: PROJECT,
    MODELARTS_TOKEN: "t",
    REPORT_STORAGE: storage,
  });
  const io = (storage: string, now = NOW): CliIo & { out: { text: string } } => {
    const out = sink();
    return { out, stdout: out, stderr: sink(), env: env(storage), now: () => now, cwd: dir };
  };

  it("never moves latest.json back to a UTC run's day after a run in Kiritimati", async () => {
    const storage = `file://./cli-zones-${++count}`;
    expect(await runReportCli(["--timezone", "Pacific/Kiritimati"], io(storage))).toBe(0);
    const latest = join(dir, storage.slice("file://./".length), "latest.json");
    expect(JSON.parse(await readFile(latest, "utf8")).report_date).toBe("2026-12-02");
    const utc = io(storage);
    expect(await runReportCli(["--date", "2026-11-20"], utc)).toBe(0);
    expect(utc.out.text).toContain("latest.json → 2026-12-02");
    expect(JSON.parse(await readFile(latest, "utf8")).report_date).toBe("2026-12-02");
  });

  it("says which day it skipped when its clock is behind the run that wrote it", async () => {
    const storage = `file://./cli-clocks-${++count}`;
    expect(await runReportCli(["--date", "2026-11-20"], io(storage))).toBe(0);
    // Scan start times are each writer's own clock: one an hour behind counts as older.
    const behind = io(storage, NOW - HOUR);
    expect(await runReportCli(["--date", "2026-11-20"], behind)).toBe(0);
    expect(behind.out.text).toContain(
      "skipped 2026-11-20: a newer report (scan started 2026-12-02T18:00:00.000Z) is already stored",
    );
    expect(behind.out.text).not.toContain("wrote");
    const manifest = join(dir, storage.slice("file://./".length), "daily/2026-11-20/manifest.json");
    expect(JSON.parse(await readFile(manifest, "utf8")).scan_started_at).toBe(
      new Date(NOW).toISOString(),
    );
  });

  it("takes over a run lock whose expires_at is a year ahead once its lifetime has passed", async () => {
    const name = `cli-lock-${++count}`;
    const storage = `file://./${name}`;
    const lockPath = join(dir, name, LOCK_KEY);
    const store = new FileStore(join(dir, name));
    const written = Date.now() - LOCK_TTL_MS - 60_000; // a run that died 21 minutes ago
    await store.put(
      LOCK_KEY,
      JSON.stringify({
        run_id: "from-a-clock-a-year-ahead",
        acquired_at: new Date(written).toISOString(),
        expires_at: new Date(written + 365 * DAY).toISOString(),
      }),
      "application/json",
    );
    await utimes(lockPath, new Date(written), new Date(written));
    const cli = io(storage);
    const code = await runReportCli(["--date", "2026-11-20"], cli);
    expect((cli.stderr as unknown as { text: string }).text).toContain(
      "taking over a stale run lock",
    );
    expect(code).toBe(0);
    expect(await store.has(LOCK_KEY)).toBe(false);
  });
});
