import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { renderFiles } from "../../src/app/report-job.js";
import { DAY } from "../../src/report/period.js";
import { StorageError } from "../../src/shared/errors.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { updateLatest } from "../../src/storage/pointers.js";
import { buildManifest, writeManifest, writeReportFiles } from "../../src/storage/publish.js";
import { LOCK_KEY, RunInProgressError } from "../../src/storage/run-lock.js";
import { S3Store } from "../../src/storage/s3-store.js";
import type { ReportStore } from "../../src/storage/store.js";
import { type OneSourceJobOptions, runOneSource } from "../helpers/one-source.js";
import { useRunSetup } from "../helpers/run-setup.js";
import { localS3Client } from "../helpers/s3.js";

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const DATE = "2026-11-27";
const run = useRunSetup({
  projectId: "p",
  versions: generateWorkload({ versions: 600, seed: 8, now: NOW }),
  pageCap: 100,
  s3Bucket: "fault-bucket",
  dirPrefix: "faults-",
});

const source = () => run.client();
const options = (now = NOW): OneSourceJobOptions => ({
  dates: [DATE],
  timeZone: "UTC",
  failureStatuses: [3, 5, 6, 13],
  now,
  pageSize: 100,
  sourceInfo: { endpoint: "sim", projectId: "p", workspaceId: null, poolId: null },
});
const text = async (store: ReportStore, key: string) =>
  (await store.get(key))?.body.toString("utf8");

/** Fails every S3 PutObject whose key ends with `suffix` while `armed` is true. */
function failPuts(client: S3Client, suffix: string) {
  const state = { armed: true };
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { Key?: unknown };
      if (state.armed && typeof input.Key === "string" && input.Key.endsWith(suffix)) {
        throw new Error(`injected failure writing ${input.Key}`);
      }
      return next(args);
    },
    { step: "initialize", name: `fail-${suffix}-${Math.random()}` },
  );
  return state;
}

describe("a failed write", () => {
  it("on S3 leaves latest.json and the date readable, and a retried run completes it", async () => {
    // A client of its own, so that this test's fault middleware stays its own.
    const client = localS3Client(run.s3.endpoint);
    const store = new S3Store({ bucket: "fault-bucket", prefix: "reports", client });
    await runOneSource({ versions: source(), store }, options(NOW - 60_000));
    const latestBefore = await text(store, "latest.json");
    const fault = failPuts(client, "usage.csv");
    const error = await runOneSource({ versions: source(), store }, options()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toMatch(/usage\.csv/);
    expect(await text(store, "latest.json")).toBe(latestBefore);
    expect(JSON.parse((await text(store, `daily/${DATE}/report.json`)) ?? "").report_date).toBe(
      DATE,
    );
    expect(await store.get(LOCK_KEY)).toBeUndefined(); // the lock was released
    fault.armed = false;
    const retried = await runOneSource({ versions: source(), store }, options());
    expect(retried.latest?.generated_at).toBe(new Date(NOW).toISOString());
    const files = renderFiles(retried.reports[0] ?? never());
    expect(await text(store, `daily/${DATE}/usage.csv`)).toBe(files["usage.csv"]);
  });

  it("on file storage leaves latest.json untouched and no partial file behind", async () => {
    const root = join(run.dir, "file-fault");
    const store = new FileStore(root);
    await runOneSource({ versions: source(), store }, options(NOW - 60_000));
    const latestBefore = await text(store, "latest.json");
    const jobsBefore = await text(store, `daily/${DATE}/jobs.csv`);
    // A directory where jobs.csv must go: the rename fails, like a full or read-only disk.
    const blocker = join(root, "daily", DATE, "jobs.csv");
    await rm(blocker);
    await mkdir(join(blocker, "x"), { recursive: true });
    await writeFile(join(blocker, "x", "f"), "");
    await expect(runOneSource({ versions: source(), store }, options())).rejects.toBeInstanceOf(
      StorageError,
    );
    expect(await text(store, "latest.json")).toBe(latestBefore);
    await rm(blocker, { recursive: true });
    expect(jobsBefore).toBeDefined();
    const retried = await runOneSource({ versions: source(), store }, options());
    expect(await text(store, `daily/${DATE}/jobs.csv`)).toBe(
      renderFiles(retried.reports[0] ?? never())["jobs.csv"],
    );
  });
});

describe("overlapping runs", () => {
  it("never leave a date with files from two runs", async () => {
    const store = new FileStore(join(run.dir, "overlap"));
    const runs = await Promise.allSettled([
      runOneSource({ versions: source(), store }, options(NOW)),
      runOneSource({ versions: source(), store }, options(NOW + 3_600_000)),
      runOneSource({ versions: source(), store }, options(NOW + 7_200_000)),
    ]);
    const done = runs.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    for (const r of runs)
      if (r.status === "rejected") expect(r.reason).toBeInstanceOf(RunInProgressError);
    expect(done.length).toBeGreaterThan(0);
    const report = JSON.parse((await text(store, `daily/${DATE}/report.json`)) ?? "");
    const winner = done.find((d) => d.reports[0]?.report.generated_at === report.generated_at);
    expect(winner).toBeDefined();
    const files = renderFiles(winner?.reports[0] ?? never());
    expect(await text(store, `daily/${DATE}/usage.csv`)).toBe(files["usage.csv"]);
    expect(await text(store, `daily/${DATE}/jobs.csv`)).toBe(files["jobs.csv"]);
    expect(await store.get(LOCK_KEY)).toBeUndefined();
  });

  it("refuses to start writing while another run holds the lock, and takes over a stale one", async () => {
    const store = new FileStore(join(run.dir, "locked"));
    // The lock's times are real ones (when it was taken), not the report's `now`.
    const lock = (expires: number) =>
      JSON.stringify({
        run_id: "other",
        acquired_at: new Date().toISOString(),
        expires_at: new Date(expires).toISOString(),
      });
    await store.put(LOCK_KEY, lock(Date.now() + 60_000), "application/json");
    const error = await runOneSource({ versions: source(), store }, options()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunInProgressError);
    expect(await store.get("latest.json")).toBeUndefined();
    await store.put(LOCK_KEY, lock(Date.now() - 1), "application/json");
    await runOneSource({ versions: source(), store }, options());
    expect(await store.get("latest.json")).toBeDefined();
  });
});

function never(): never {
  throw new Error("expected a report");
}

describe("latest.json and dates that have not ended", () => {
  const pointer = (date: string) =>
    JSON.stringify({ report_date: date, generated_at: "2099-01-02T00:30:00.000Z", files: {} });

  it("is replaced by the next good run when it already points past yesterday", async () => {
    const store = new FileStore(join(run.dir, "future-latest"));
    // Written by a release that accepted POST {"date": "2099-01-01"}.
    await store.put("latest.json", pointer("2099-01-01"), "application/json");
    const result = await runOneSource({ versions: source(), store }, options());
    expect(result.latest?.report_date).toBe(DATE);
    expect(JSON.parse((await text(store, "latest.json")) ?? "").report_date).toBe(DATE);
  });

  it("is never pointed at a date after the run's own yesterday", async () => {
    const store = new FileStore(join(run.dir, "guard-latest"));
    await store.put("latest.json", pointer("2026-11-26"), "application/json");
    const before = await text(store, "latest.json");
    await expect(
      updateLatest(
        store,
        { report_date: "2026-11-28", generated_at: new Date(NOW).toISOString(), files: {} },
        { now: NOW, timeZone: "UTC" },
      ),
    ).rejects.toThrow(/refusing to point latest.json at 2026-11-28, which has not ended/);
    expect(await text(store, "latest.json")).toBe(before);
  });

  it("moves forward only, even when two runs update it at once", async () => {
    const store = new FileStore(join(run.dir, "racing-latest"));
    const dates = ["2026-11-20", "2026-11-24", "2026-11-22", "2026-11-27", "2026-11-21"];
    // Each date's report is whole (a pointer at a missing report would be repaired).
    const files = { "report.json": "{}", "usage.csv": "", "jobs.csv": "", "sources.csv": "" };
    const completeness = {
      total_count_first: 0,
      total_count_last: 0,
      versions_scanned: 0,
      complete: true,
    };
    for (const date of dates) {
      await writeReportFiles(store, DAY, date, files);
      const times = { generatedAt: "g", scanStartedAt: "g" };
      await writeManifest(store, DAY, buildManifest(DAY, date, times, files, completeness));
    }
    await Promise.all(
      dates.map((date) =>
        updateLatest(
          store,
          { report_date: date, generated_at: "g", files: {} },
          { now: NOW, timeZone: "UTC" },
        ),
      ),
    );
    expect(JSON.parse((await text(store, "latest.json")) ?? "").report_date).toBe("2026-11-27");
  });
});

describe("a damaged latest.json", () => {
  it("is replaced by the next complete run instead of blocking it", async () => {
    const store = new FileStore(join(run.dir, "damaged-latest"));
    await store.put("latest.json", "{not json", "application/json");
    const result = await runOneSource({ versions: source(), store }, options());
    expect(result.latest?.report_date).toBe(DATE);
    expect(JSON.parse((await text(store, "latest.json")) ?? "").report_date).toBe(DATE);
  });
});
