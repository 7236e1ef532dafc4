import { describe, expect, it } from "vitest";
import type { JobVersion } from "../../src/modelarts/version-record.js";
import { buildDailyReports, buildMonthReport, type SourceInput } from "../../src/report/build.js";
import { DAY } from "../../src/report/period.js";
import { type PriceTable, parsePriceTable } from "../../src/report/prices.js";
import { renderJobsCsv, renderSourcesCsv } from "../../src/report/render-csv.js";
import { renderReportJson } from "../../src/report/render-json.js";
import type { Anomalies, PeriodReport, SourceInfo, UsageReport } from "../../src/report/types.js";
import { readCsv } from "../helpers/csv.js";
import { oneSourceInput } from "../helpers/one-source.js";
import { makeMetrics } from "../helpers/report-fixture.js";
import { HOUR, version } from "../helpers/versions.js";

/**
 * The organisation's report (report.md §10) on hand-worked cases: several sources aggregated
 * as one union (hours add, peaks are the peak of the sum), each source's own rows, the
 * `source`/`sources`/`anomalies` blocks, jobs.csv's `source` column and sources.csv.
 */

const D = Date.UTC(2026, 10, 27); // 2026-11-27T00:00Z, the report's day (UTC)
const NOW = D + 26 * HOUR;
const FAILURES = [3, 5, 6, 13];
/** An instant of the report's day, `h` hours after midnight. */
const at = (h: number) => D + h * HOUR;

const PRICES = parsePriceTable(
  JSON.stringify({
    currency: "EUR",
    flavors: { "gpu.a": { per_hour: 1.5, per_gpu_hour: 2 }, "npu.n": { per_npu_hour: 1 / 3 } },
  }),
  "test",
);

function info(name: string, partial: Partial<SourceInfo> = {}): SourceInfo {
  return {
    name,
    endpoint: `https://modelarts.${name}.example.com`,
    project_id: `proj-${name}`,
    workspace_id: null,
    pool_id: null,
    versions_scanned: 0,
    pages: 1,
    total_count_first: 0,
    total_count_last: 0,
    ...partial,
  };
}

const NO_ANOMALIES = { skipped: 0, duplicate_rows: 0, reasons: {} };

function source(
  name: string,
  versions: JobVersion[],
  more: {
    info?: Partial<SourceInfo>;
    anomalies?: Pick<Anomalies, "skipped" | "duplicate_rows" | "reasons">;
  } = {},
): SourceInput {
  return { info: info(name, more.info), anomalies: more.anomalies ?? NO_ANOMALIES, versions };
}

/** A completed version that ran [from, to) hours of the day, created when it started. */
function ran(versionId: number, from: number, to: number, more: Partial<JobVersion> = {}) {
  return version({
    versionId,
    status: 10,
    createTime: at(from),
    startTime: at(from),
    endTime: at(to),
    flavorCode: "gpu.a",
    poolId: "p1",
    ...more,
  });
}

function buildDay(sources: SourceInput[], prices?: PriceTable): PeriodReport {
  const [day] = buildDailyReports({
    sources,
    dates: ["2026-11-27"],
    timeZone: "UTC",
    now: NOW,
    failureStatuses: FAILURES,
    prices,
  });
  if (day === undefined) throw new Error("no day built");
  return day;
}

/** Each row's peak_gpus, by the row's key. */
function peaksOf<R extends { peak_gpus: number }>(rows: readonly R[], key: (r: R) => string) {
  return Object.fromEntries(rows.map((r) => [key(r), r.peak_gpus]));
}
const bySourceRow = (r: UsageReport, name: string) => r.by_source.find((s) => s.source === name);

describe("peaks over the union of sources", () => {
  it("adds two sources' GPUs held at the same instant: the union peaks at 16, each source at 8", () => {
    // a: 8 GPUs over [10:00, 12:00); b: 8 GPUs over the same two hours
    const { report } = buildDay([
      source("a", [ran(1, 10, 12, { gpuNum: 8 })]),
      source("b", [ran(2, 10, 12, { gpuNum: 8 })]),
    ]);
    expect(report.totals.peak_gpus).toBe(16); // 8 + 8 held at once during [10:00, 12:00)
    expect(report.totals.gpu_hours).toBe(32); // 2 h × 8 + 2 h × 8
    expect(bySourceRow(report, "a")).toMatchObject({ peak_gpus: 8, gpu_hours: 16 });
    expect(bySourceRow(report, "b")).toMatchObject({ peak_gpus: 8, gpu_hours: 16 });
    // the union's groups are the sum too; each source's own group holds only its 8
    expect(report.by_flavor_pool).toMatchObject([
      { flavor_code: "gpu.a", pool_id: "p1", peak_gpus: 16 },
    ]);
    expect(report.by_flavor[0]?.peak_gpus).toBe(16);
    expect(report.by_pool[0]?.peak_gpus).toBe(16);
    expect(report.by_source_flavor_pool.map((r) => [r.source, r.peak_gpus])).toEqual([
      ["a", 8],
      ["b", 8],
    ]);
  });

  it("takes the peak of the sum, not the sum of the peaks, when the sources peak at different instants", () => {
    // a: 8 GPUs over [08:00, 10:00); b: 8 GPUs over [12:00, 14:00): never both at once
    const { report } = buildDay([
      source("a", [ran(1, 8, 10, { gpuNum: 8 })]),
      source("b", [ran(2, 12, 14, { gpuNum: 8 })]),
    ]);
    expect(report.totals.peak_gpus).toBe(8); // not 8 + 8
    expect(report.totals.gpu_hours).toBe(32);
    expect(report.by_source.map((r) => r.peak_gpus)).toEqual([8, 8]);
  });

  it("never adds intervals of two sources that only touch (half-open), and adds them when they overlap by 1 ms", () => {
    // a: [10:00, 12:00); b: [12:00, 14:00): at 12:00 a has ended and b has started
    const touching = buildDay([
      source("a", [ran(1, 10, 12, { gpuNum: 8 })]),
      source("b", [ran(2, 12, 14, { gpuNum: 8 })]),
    ]).report;
    expect(touching.totals.peak_gpus).toBe(8);
    // a ending 1 ms after 12:00 holds its 8 GPUs during [12:00, 12:00 + 1 ms) with b's 8
    const overlapping = buildDay([
      source("a", [ran(1, 10, 12, { gpuNum: 8, endTime: at(12) + 1 })]),
      source("b", [ran(2, 12, 14, { gpuNum: 8 })]),
    ]).report;
    expect(overlapping.totals.peak_gpus).toBe(16);
  });

  it("gives each flavor×pool of the union the peak of its sources' sum, and each source its own", () => {
    // a: gpu.a/p1 4 GPUs [10, 12); gpu.a/p2 2 GPUs [10, 12)
    // b: gpu.a/p1 3 GPUs [11, 13); gpu.b/p1 1 GPU [11, 12)
    const { report } = buildDay([
      source("a", [ran(1, 10, 12, { gpuNum: 4 }), ran(2, 10, 12, { gpuNum: 2, poolId: "p2" })]),
      source("b", [
        ran(1, 11, 13, { gpuNum: 3 }),
        ran(2, 11, 12, { gpuNum: 1, flavorCode: "gpu.b" }),
      ]),
    ]);
    // every peak below is at [11:00, 12:00), when all four run
    const key = (r: { flavor_code: string | null; pool_id: string | null }) =>
      `${r.flavor_code}/${r.pool_id}`;
    expect(peaksOf(report.by_flavor_pool, key)).toEqual({
      "gpu.a/p1": 7, // 4 (a) + 3 (b)
      "gpu.a/p2": 2,
      "gpu.b/p1": 1,
    });
    expect(peaksOf(report.by_flavor, (r) => String(r.flavor_code))).toEqual({
      "gpu.a": 9, // 4 + 2 + 3
      "gpu.b": 1,
    });
    expect(peaksOf(report.by_pool, (r) => String(r.pool_id))).toEqual({
      p1: 8, // 4 + 3 + 1
      p2: 2,
    });
    expect(report.totals.peak_gpus).toBe(10); // 4 + 2 + 3 + 1
    expect(peaksOf(report.by_source_flavor_pool, (r) => `${r.source}:${key(r)}`)).toEqual({
      "a:gpu.a/p1": 4,
      "a:gpu.a/p2": 2,
      "b:gpu.a/p1": 3,
      "b:gpu.b/p1": 1,
    });
    expect(peaksOf(report.by_source, (r) => String(r.source))).toEqual({
      a: 6, // 4 + 2
      b: 4, // 3 + 1
    });
  });

  it("takes a month's peak over the union across the month's days", () => {
    // a: 8 GPUs on the 3rd, 10:00–12:00; b: 8 GPUs on the 20th, same hours, and 8 more on the
    // 3rd 11:00–13:00: the month's union peak is 16, during [11:00, 12:00) on the 3rd
    const day3 = Date.UTC(2026, 10, 3);
    const day20 = Date.UTC(2026, 10, 20);
    const on = (id: number, dayStart: number, from: number, to: number) =>
      ran(id, 0, 0, {
        createTime: dayStart + from * HOUR,
        startTime: dayStart + from * HOUR,
        endTime: dayStart + to * HOUR,
        gpuNum: 8,
      });
    const { report } = buildMonthReport({
      sources: [
        source("a", [on(1, day3, 10, 12)]),
        source("b", [on(1, day20, 10, 12), on(2, day3, 11, 13)]),
      ],
      month: "2026-11",
      timeZone: "UTC",
      now: NOW,
      failureStatuses: FAILURES,
    });
    expect(report.totals.peak_gpus).toBe(16);
    expect(report.totals.gpu_hours).toBe(48); // 3 versions × 2 h × 8
    expect(report.totals.versions_active).toBe(3);
    expect(bySourceRow(report, "a")).toMatchObject({ peak_gpus: 8, gpu_hours: 16 });
    // b's own two versions never overlap (the 3rd and the 20th): its peak is 8
    expect(bySourceRow(report, "b")).toMatchObject({ peak_gpus: 8, gpu_hours: 32 });
  });
});

describe("a source with no versions", () => {
  const a = () => source("a", [ran(1, 10, 12, { gpuNum: 8 }), ran(2, 9, 15, { npuNum: 2 })]);
  const b = () => source("b", [ran(3, 11, 13, { gpuNum: 4, flavorCode: "gpu.b" })]);
  const empty = () => source("empty", [], { info: { versions_scanned: 0, pages: 1 } });
  const withEmpty = buildDay([a(), empty(), b()]);
  const without = buildDay([a(), b()]);

  it("has its by_source row, of zeros, and its entry in sources", () => {
    const r = withEmpty.report;
    expect(r.sources.map((s) => s.name)).toEqual(["a", "empty", "b"]); // configuration order
    // by GPU-hours: a 16, b 8, empty 0
    expect(r.by_source.map((s) => s.source)).toEqual(["a", "b", "empty"]);
    expect(bySourceRow(r, "empty")).toEqual({ source: "empty", ...makeMetrics() });
    expect(r.by_source_flavor_pool.map((s) => s.source)).not.toContain("empty");
    expect(r.anomalies.by_source).toHaveProperty("empty", { skipped: 0, duplicate_rows: 0 });
  });

  it("adds nothing to the union, the other sources' rows or the jobs", () => {
    const r = withEmpty.report;
    const o = without.report;
    expect(r.totals).toEqual(o.totals);
    expect(r.by_flavor).toEqual(o.by_flavor);
    expect(r.by_pool).toEqual(o.by_pool);
    expect(r.by_flavor_pool).toEqual(o.by_flavor_pool);
    expect(r.by_source_flavor_pool).toEqual(o.by_source_flavor_pool);
    expect(r.by_source.filter((s) => s.source !== "empty")).toEqual(o.by_source);
    expect(r.statuses).toEqual(o.statuses);
    expect(r.longest_waits).toEqual(o.longest_waits);
    expect(renderJobsCsv(r.label, withEmpty.jobs, DAY)).toBe(
      renderJobsCsv(o.label, without.jobs, DAY),
    );
    expect(renderSourcesCsv(r)).toBe(renderSourcesCsv(o));
  });
});

describe("the same version_id in two sources", () => {
  // Configuration order is zeta, then alpha (not alphabetical):
  // zeta:  #7 2 GPUs [10, 12) = 4 GPU-h; #3 1 GPU [13, 14) = 1 GPU-h        → 5 GPU-h
  // alpha: #7 4 GPUs [11, 13) = 8 GPU-h; #5 submit failed (5) at 09:00, never ran → 8 GPU-h
  const zeta = source("zeta", [ran(7, 10, 12, { gpuNum: 2 }), ran(3, 13, 14, { gpuNum: 1 })]);
  const alpha = source("alpha", [
    ran(7, 11, 13, { gpuNum: 4 }),
    version({ versionId: 5, status: 5, createTime: at(9), flavorCode: "gpu.a", poolId: "p1" }),
  ]);
  const day = buildDay([zeta, alpha]);
  const r = day.report;

  it("counts two versions and adds their hours", () => {
    expect(r.totals).toMatchObject({
      versions_active: 3, // zeta #7, zeta #3, alpha #7
      versions_created: 4,
      versions_failed: 1, // alpha #5
      versions_started: 3,
      gpus: 7, // 2 + 1 + 4
      gpu_hours: 13, // 4 + 1 + 8
      run_hours: 5, // 2 + 1 + 2
      peak_gpus: 6, // zeta #7 (2) + alpha #7 (4) during [11:00, 12:00)
    });
    expect(r.statuses).toEqual([
      { status: 5, name: "JOBSTAT_SUBMIT_FAILED", versions: 1 },
      { status: 10, name: "JOBSTAT_COMPLETED", versions: 3 },
    ]);
    // by GPU-hours: alpha 8, zeta 5
    expect(r.by_source.map((s) => [s.source, s.versions_active, s.gpu_hours])).toEqual([
      ["alpha", 1, 8],
      ["zeta", 2, 5],
    ]);
  });

  it("writes both to jobs.csv with their sources, ordered by configuration order, then id", () => {
    const [header, ...rows] = readCsv(renderJobsCsv(r.label, day.jobs, DAY));
    const col = (name: string) => (header ?? []).indexOf(name);
    expect(header?.at(-1)).toBe("source");
    expect(
      rows.map((row) => [row[col("source")], row[col("version_id")], row[col("gpu_hours")]]),
    ).toEqual([
      ["zeta", "3", "1.000000"],
      ["zeta", "7", "4.000000"],
      ["alpha", "5", "0.000000"],
      ["alpha", "7", "8.000000"],
    ]);
    expect(day.jobs.map((j) => j.source)).toEqual(["zeta", "zeta", "alpha", "alpha"]);
  });
});

describe("ordering of by_source and by_source_flavor_pool", () => {
  // Configuration order d, b, a, c, aa. Every version below holds 1 GPU for 2 h (2 GPU-h)
  // except c's, which holds 1 GPU for 3 h (3 GPU-h):
  // a: gpu.f1/p2, gpu.f1/(no pool), gpu.f0/p9   → 6 GPU-h
  // b: gpu.f0/p1, (no flavor)/p1, gpu.f0/(no pool) → 6 GPU-h
  // c: gpu.f2/p1                                → 3 GPU-h
  // d and aa: no versions                       → 0
  const two = (id: number, flavorCode: string | null, poolId: string | null) =>
    ran(id, 8, 10, { gpuNum: 1, flavorCode, poolId });
  const { report } = buildDay([
    source("d", []),
    source("b", [two(1, "gpu.f0", "p1"), two(2, null, "p1"), two(3, "gpu.f0", null)]),
    source("a", [two(1, "gpu.f1", "p2"), two(2, "gpu.f1", null), two(3, "gpu.f0", "p9")]),
    source("c", [ran(1, 8, 11, { gpuNum: 1, flavorCode: "gpu.f2", poolId: "p1" })]),
    source("aa", []),
  ]);

  it("orders sources by exact GPU-hours, then by name (not configuration order)", () => {
    expect(report.by_source.map((r) => [r.source, r.gpu_hours])).toEqual([
      ["a", 6],
      ["b", 6],
      ["c", 3],
      ["aa", 0],
      ["d", 0],
    ]);
    expect(report.sources.map((s) => s.name)).toEqual(["d", "b", "a", "c", "aa"]);
  });

  it("orders source×flavor×pool rows by GPU-hours, then source, flavor and pool, null last", () => {
    expect(
      report.by_source_flavor_pool.map((r) => [r.source, r.flavor_code, r.pool_id, r.gpu_hours]),
    ).toEqual([
      ["c", "gpu.f2", "p1", 3],
      ["a", "gpu.f0", "p9", 2],
      ["a", "gpu.f1", "p2", 2],
      ["a", "gpu.f1", null, 2],
      ["b", "gpu.f0", "p1", 2],
      ["b", "gpu.f0", null, 2],
      ["b", null, "p1", 2],
    ]);
  });
});

describe("cost over the union", () => {
  // gpu.a: 1.5 per hour + 2 per GPU-hour; npu.n: 1/3 per NPU-hour.
  // a: #1 gpu.a/p1 2 GPUs [10, 12): 2 h × 1.5 + 4 GPU-h × 2 = 11; #2 npu.n/p1 1 NPU [8, 9): 1/3
  // b: #1 npu.n/p1 1 NPU [8, 9): 1/3
  // c: #1 npu.n/p1 1 NPU [8, 9): 1/3
  const npu = (id: number) => ran(id, 8, 9, { npuNum: 1, flavorCode: "npu.n" });
  const sources = () => [
    source("a", [ran(1, 10, 12, { gpuNum: 2 }), npu(2)]),
    source("b", [npu(1)]),
    source("c", [npu(1)]),
  ];
  const day = buildDay(sources(), PRICES);
  const r = day.report;

  it("costs each source×flavor×pool from its own hours", () => {
    expect(r.by_source_flavor_pool.map((row) => [row.source, row.flavor_code, row.cost])).toEqual([
      ["a", "gpu.a", 11],
      ["a", "npu.n", 0.33], // 1/3
      ["b", "npu.n", 0.33],
      ["c", "npu.n", 0.33],
    ]);
    // a: 11 + 1/3 = 11.333… → 11.33
    expect(r.by_source.map((row) => [row.source, row.cost])).toEqual([
      ["a", 11.33],
      ["b", 0.33],
      ["c", 0.33],
    ]);
  });

  it("costs the union's flavor×pool from the summed hours: 3 NPU-h × 1/3 = 1.00, not 3 × 0.33", () => {
    const npuPair = r.by_flavor_pool.find((row) => row.flavor_code === "npu.n");
    expect(npuPair?.cost).toBe(1);
    expect(r.by_flavor.map((row) => [row.flavor_code, row.cost])).toEqual([
      ["gpu.a", 11],
      ["npu.n", 1],
    ]);
    expect(r.totals.cost).toBe(12); // 11 + 1, where the sources' rounded costs sum to 11.99
    expect(r.currency).toBe("EUR");
    // each job's row is costed alone: 1/3 → 0.33
    expect(day.jobs.map((j) => [j.source, j.version.versionId, j.cost])).toEqual([
      ["a", 1, 11],
      ["a", 2, 0.33],
      ["b", 1, 0.33],
      ["c", 1, 0.33],
    ]);
  });

  it("gives the union the costs that one listing of all the versions gives", () => {
    // the same versions in one listing, with distinct ids
    const all = [ran(1, 10, 12, { gpuNum: 2 }), npu(2), npu(3), npu(4)];
    const one = buildDay(oneSourceInput(all, r.source).sources, PRICES).report;
    expect(one.totals.cost).toBe(12);
    expect(r.totals).toEqual(one.totals);
    expect(r.by_flavor).toEqual(one.by_flavor);
    expect(r.by_pool).toEqual(one.by_pool);
    expect(r.by_flavor_pool).toEqual(one.by_flavor_pool);
  });
});

describe("the source block and the sources list", () => {
  const a = source("a", [ran(1, 10, 12, { gpuNum: 1 })], {
    info: {
      workspace_id: "0",
      pool_id: "pool-x",
      versions_scanned: 10,
      pages: 2,
      total_count_first: 10,
      total_count_last: 11,
    },
  });
  const b = source("b", [], {
    info: { workspace_id: "ws-2", versions_scanned: 5, pages: 1, total_count_first: 5 },
  });

  it("with several sources, is null but for the sums of versions_scanned and pages", () => {
    const json = JSON.parse(renderReportJson(buildDay([a, b]).report));
    expect(json.source).toEqual({
      endpoint: null,
      project_id: null,
      workspace_id: null,
      pool_id: null,
      versions_scanned: 15, // 10 + 5
      pages: 3, // 2 + 1
    });
    expect(json.sources).toEqual([
      {
        name: "a",
        endpoint: "https://modelarts.a.example.com",
        project_id: "proj-a",
        workspace_id: "0",
        pool_id: "pool-x",
        versions_scanned: 10,
        pages: 2,
        total_count_first: 10,
        total_count_last: 11,
      },
      {
        name: "b",
        endpoint: "https://modelarts.b.example.com",
        project_id: "proj-b",
        workspace_id: "ws-2",
        pool_id: null,
        versions_scanned: 5,
        pages: 1,
        total_count_first: 5,
        total_count_last: 0,
      },
    ]);
  });

  it("with one source, is that source's listing, as before", () => {
    const json = JSON.parse(renderReportJson(buildDay([a]).report));
    expect(json.source).toEqual({
      endpoint: "https://modelarts.a.example.com",
      project_id: "proj-a",
      workspace_id: "0",
      pool_id: "pool-x",
      versions_scanned: 10,
      pages: 2,
    });
    expect(json.sources.map((s: { name: string }) => s.name)).toEqual(["a"]);
  });
});

describe("anomalies of several sources", () => {
  it("sums the counts and reasons and keeps each source's own", () => {
    const { report } = buildDay([
      source("a", [], {
        anomalies: { skipped: 2, duplicate_rows: 1, reasons: { bad_time: 2 } },
      }),
      source("b", [], {
        anomalies: { skipped: 3, duplicate_rows: 4, reasons: { missing_id: 1, bad_time: 2 } },
      }),
      source("c", []),
    ]);
    const json = JSON.parse(renderReportJson(report));
    expect(json.anomalies).toEqual({
      skipped: 5, // 2 + 3 + 0
      duplicate_rows: 5, // 1 + 4 + 0
      reasons: { bad_time: 4, missing_id: 1 },
      unpriced_flavors: [],
      by_source: {
        a: { skipped: 2, duplicate_rows: 1 },
        b: { skipped: 3, duplicate_rows: 4 },
        c: { skipped: 0, duplicate_rows: 0 },
      },
    });
  });
});

describe("sources.csv", () => {
  // a: #1 gpu.a/p1, created 09:00, ran [10:00, 12:00) on 2 GPUs:
  //    gpu 4 h, run 2 h, wait 1 h, cost 2 × 1.5 + 4 × 2 = 11.00
  // b: #1 npu.n, no pool, created 10:00, ran [10:30, 10:50) on 1 NPU:
  //    npu 1/3 h = 0.333333, run 0.333333, wait 0.5 h, cost 1/3 × 1/3 = 0.111… → 0.11
  const sources = () => [
    source("a", [ran(1, 10, 12, { gpuNum: 2, createTime: at(9) })]),
    source("b", [
      version({
        versionId: 1,
        status: 10,
        createTime: at(10),
        startTime: at(10.5),
        endTime: at(10.5) + 20 * 60_000,
        npuNum: 1,
        flavorCode: "npu.n",
        poolId: null,
      }),
    ]),
  ];
  const metricsHeader =
    "flavor_code,pool_id,versions_active,versions_created,versions_failed,gpus,npus,peak_gpus,peak_npus,gpu_hours,npu_hours,run_hours,versions_started,wait_hours,max_wait_hours,gpu_hours_completed,gpu_hours_failed,gpu_hours_lost,gpu_hours_cancelled,gpu_hours_running,gpu_hours_unknown,cost";
  const rowA =
    "a,gpu.a,p1,1,1,0,2,0,2,0,4.000000,0.000000,2.000000,1,1.000000,1.000000,4.000000,0.000000,0.000000,0.000000,0.000000,0.000000,11.00";
  const rowB =
    "b,npu.n,,1,1,0,0,1,0,1,0.000000,0.333333,0.333333,1,0.500000,0.500000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.11";

  it("is a row per source×flavor×pool, after a day's header, in CRLF with 6-decimal hours", () => {
    const { report } = buildDay(sources(), PRICES);
    expect(renderSourcesCsv(report)).toBe(
      `report_date,source,${metricsHeader}\r\n` +
        `2026-11-27,${rowA}\r\n` + // a first: 4 GPU-h against 0
        `2026-11-27,${rowB}\r\n`,
    );
  });

  it("names the month in a month report's", () => {
    const { report } = buildMonthReport({
      sources: sources(),
      month: "2026-11",
      timeZone: "UTC",
      now: NOW,
      failureStatuses: FAILURES,
      prices: PRICES,
    });
    expect(renderSourcesCsv(report)).toBe(
      `report_month,source,${metricsHeader}\r\n2026-11,${rowA}\r\n2026-11,${rowB}\r\n`,
    );
  });
});
