import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UpstreamError } from "../../src/shared/errors.js";
import { generateWorkload } from "../../src/simulator/workload.js";
import { FileStore } from "../../src/storage/file-store.js";
import { readLatest } from "../../src/storage/pointers.js";
import { S3Store } from "../../src/storage/s3-store.js";
import type { ReportStore } from "../../src/storage/store.js";
import { type OneSourceJobOptions, runOneSource } from "../helpers/one-source.js";
import { useRunSetup } from "../helpers/run-setup.js";

const NOW = Date.UTC(2026, 10, 28, 0, 30);
const PROJECT = "proj-1";
const workload = generateWorkload({ versions: 800, seed: 3, now: NOW, days: 20 });

const run = useRunSetup({
  projectId: PROJECT,
  versions: workload,
  pageCap: 50,
  s3Bucket: "reports-bucket",
  dirPrefix: "job-",
});

function deps(store: ReportStore) {
  const retry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 1000 };
  return { versions: run.client({ retry }), store };
}

function options(dates: string[], now = NOW): OneSourceJobOptions {
  return {
    dates,
    timeZone: "UTC",
    failureStatuses: [3, 5, 6, 13],
    now,
    pageSize: 100,
    sourceInfo: { endpoint: run.sim.url, projectId: PROJECT, workspaceId: null, poolId: null },
  };
}

const stores: [string, () => ReportStore][] = [
  ["file storage", () => new FileStore(join(run.dir, `root-${Math.random()}`))],
  [
    "S3",
    () =>
      new S3Store({
        bucket: "reports-bucket",
        prefix: `r-${Math.random().toString(36).slice(2)}`,
        client: run.s3.client,
      }),
  ],
];

describe.each(stores)("the report job on %s", (_name, makeStore) => {
  it("writes the four files of the date and then latest.json", async () => {
    const store = makeStore();
    const result = await runOneSource(deps(store), options(["2026-11-27"]));
    for (const name of ["report.json", "usage.csv", "jobs.csv", "sources.csv"]) {
      expect(await store.get(`daily/2026-11-27/${name}`)).toBeDefined();
    }
    expect(await readLatest(store)).toEqual({
      report_date: "2026-11-27",
      generated_at: "2026-11-28T00:30:00.000Z",
      files: {
        "report.json": "daily/2026-11-27/report.json",
        "usage.csv": "daily/2026-11-27/usage.csv",
        "jobs.csv": "daily/2026-11-27/jobs.csv",
        "sources.csv": "daily/2026-11-27/sources.csv",
        "manifest.json": "daily/2026-11-27/manifest.json",
      },
    });
    const report = JSON.parse(
      (await store.get("daily/2026-11-27/report.json"))?.body.toString() ?? "",
    );
    expect(report.source).toMatchObject({
      versions_scanned: workload.length,
      pages: 17, // 50 a page sharing 1 record: 1 + ceil((800 − 50) / 49), a plain scan needs 16
    });
    expect(report.totals.versions_active).toBeGreaterThan(0);
    expect(result.reports[0]?.report.totals.gpu_hours).toBeGreaterThan(0);
  });

  it("computes a range from one scan and never moves latest.json back", async () => {
    const store = makeStore();
    await runOneSource(deps(store), options(["2026-11-27"]));
    const before = run.sim.requests.listing;
    const result = await runOneSource(
      deps(store),
      options(["2026-11-10", "2026-11-11", "2026-11-12"]),
    );
    expect(run.sim.requests.listing - before).toBe(17);
    expect(result.written.map((w) => w.date)).toEqual(["2026-11-10", "2026-11-11", "2026-11-12"]);
    expect((await readLatest(store))?.report_date).toBe("2026-11-27");
    expect(await store.listFolders("daily")).toEqual([
      "2026-11-10",
      "2026-11-11",
      "2026-11-12",
      "2026-11-27",
    ]);
  });

  it("regenerates a date with the same bytes except generated_at", async () => {
    const store = makeStore();
    const read = async (name: string) =>
      (await store.get(`daily/2026-11-20/${name}`))?.body.toString() ?? "";
    await runOneSource(deps(store), options(["2026-11-20"]));
    const first = [await read("report.json"), await read("usage.csv"), await read("jobs.csv")];
    await runOneSource(deps(store), options(["2026-11-20"], NOW + 60_000));
    const second = [await read("report.json"), await read("usage.csv"), await read("jobs.csv")];
    expect(second[1]).toBe(first[1]);
    expect(second[2]).toBe(first[2]);
    const strip = (s: string) => s.replace(/"generated_at": "[^"]+"/, "");
    expect(strip(second[0] ?? "")).toBe(strip(first[0] ?? ""));
    expect(second[0]).not.toBe(first[0]);
  });

  it("leaves the previous report and latest.json alone when the API keeps failing", async () => {
    const store = makeStore();
    await runOneSource(deps(store), options(["2026-11-26"]));
    const latestBefore = await store.get("latest.json");
    run.sim.queueFaults({ kind: "status", status: 500 }, { kind: "status", status: 500 });
    await expect(runOneSource(deps(store), options(["2026-11-27"]))).rejects.toBeInstanceOf(
      UpstreamError,
    );
    expect((await store.get("latest.json"))?.body.toString()).toBe(latestBefore?.body.toString());
    expect(await store.get("daily/2026-11-27/report.json")).toBeUndefined();
  });
});

it("keeps jobs.csv rows in version id order with hostile names neutralised", async () => {
  const store = new FileStore(join(run.dir, "csv"));
  await runOneSource(deps(store), options(["2026-11-27"]));
  const csv = await readFile(join(run.dir, "csv", "daily", "2026-11-27", "jobs.csv"), "utf8");
  expect(csv.startsWith("report_date,version_id,version_name,")).toBe(true);
  expect(csv.endsWith("\r\n")).toBe(true);
  expect(csv).not.toMatch(/,=|,\+|,@/); // every formula-like cell starts with '
});
