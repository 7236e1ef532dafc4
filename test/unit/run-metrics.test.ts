import { describe, expect, it } from "vitest";
import { PUBLIC_POOL, runFigures, usagePoints } from "../../src/app/run-metrics.js";
import type { SourceFlavorPoolRow, UsageReport } from "../../src/report/types.js";
import { makeMetrics, makeReport } from "../helpers/report-fixture.js";

/**
 * The run's metric points (report.md §11 "Metrics") from hand-built daily reports: each
 * (day, source, pool) summed over its flavors, the public pool named, cost only when priced.
 */

function row(
  source: string,
  flavor: string,
  pool: string | null,
  m: { gpu: number; npu: number; failed: number; cost: number | null },
): SourceFlavorPoolRow {
  return {
    source,
    flavor_code: flavor,
    pool_id: pool,
    ...makeMetrics({
      gpu_hours: m.gpu,
      npu_hours: m.npu,
      versions_failed: m.failed,
      cost: m.cost,
    }),
  };
}

const day = (label: string, rows: SourceFlavorPoolRow[]): { report: UsageReport } => ({
  report: makeReport({ label, by_source_flavor_pool: rows }),
});

describe("usage points of a run's daily reports", () => {
  it("sums each source and pool over its flavors, names the null pool public, and keeps days apart", () => {
    const reports = [
      day("2026-11-26", [
        row("org-a", "gpu.v100", "pool-1", { gpu: 1.5, npu: 0, failed: 1, cost: 3.1 }),
        row("org-a", "gpu.a100", "pool-1", { gpu: 2.25, npu: 0, failed: 2, cost: 0.2 }),
        row("org-a", "gpu.v100", null, { gpu: 0.1, npu: 0, failed: 0, cost: 0.1 }),
        row("org-b", "ascend.910", "pool-1", { gpu: 0, npu: 4, failed: 0, cost: 0 }),
      ]),
      day("2026-11-27", [
        row("org-a", "gpu.v100", "pool-1", { gpu: 0.0000004, npu: 0, failed: 0, cost: 0.01 }),
        row("org-a", "ascend.910", "pool-1", { gpu: 0.0000003, npu: 1, failed: 3, cost: 0.02 }),
      ]),
    ];
    expect(usagePoints(reports)).toEqual([
      // 1.5 + 2.25 = 3.75 GPU-hours; 1 + 2 = 3 failed; 3.10 + 0.20 = 3.30 (0.1+0.2 float noise
      // rounded off to cents).
      {
        date: "2026-11-26",
        source: "org-a",
        pool: "pool-1",
        gpuHours: 3.75,
        npuHours: 0,
        failedVersions: 3,
        cost: 3.3,
      },
      {
        date: "2026-11-26",
        source: "org-a",
        pool: PUBLIC_POOL,
        gpuHours: 0.1,
        npuHours: 0,
        failedVersions: 0,
        cost: 0.1,
      },
      {
        date: "2026-11-26",
        source: "org-b",
        pool: "pool-1",
        gpuHours: 0,
        npuHours: 4,
        failedVersions: 0,
        cost: 0,
      },
      // 0.0000004 + 0.0000003 = 0.0000007 → 0.000001 at 6 decimals, summed before rounding
      // (each alone would round to 0.000000 and 0.000000).
      {
        date: "2026-11-27",
        source: "org-a",
        pool: "pool-1",
        gpuHours: 0.000001,
        npuHours: 1,
        failedVersions: 3,
        cost: 0.03,
      },
    ]);
    expect(PUBLIC_POOL).toBe("public");
  });

  it("has no cost without a price table", () => {
    const reports = [
      day("2026-11-27", [
        row("org-a", "gpu.v100", "pool-1", { gpu: 2, npu: 0, failed: 0, cost: null }),
        row("org-a", "gpu.a100", "pool-1", { gpu: 1, npu: 0, failed: 1, cost: null }),
      ]),
    ];
    // 2 + 1 = 3 GPU-hours, 0 + 1 = 1 failed.
    expect(usagePoints(reports)).toEqual([
      {
        date: "2026-11-27",
        source: "org-a",
        pool: "pool-1",
        gpuHours: 3,
        npuHours: 0,
        failedVersions: 1,
        cost: null,
      },
    ]);
  });

  it("leaves out a day the run did not write, the month's report, and a day with no versions", () => {
    const reports: { report: UsageReport }[] = [
      day("2026-11-25", [row("org-a", "f", "p", { gpu: 1, npu: 0, failed: 0, cost: null })]),
      day("2026-11-26", []),
      day("2026-11-27", [row("org-a", "f", "p", { gpu: 2, npu: 0, failed: 0, cost: null })]),
      {
        report: makeReport({
          period: "month",
          label: "2026-11",
          by_source_flavor_pool: [
            row("org-a", "f", "p", { gpu: 3, npu: 0, failed: 0, cost: null }),
          ],
        }),
      },
    ];
    const superseded = [
      { period: "day" as const, label: "2026-11-25", scanStartedAt: "2026-11-28T01:00:00Z" },
    ];
    expect(usagePoints(reports, superseded).map((p) => [p.date, p.gpuHours])).toEqual([
      ["2026-11-27", 2],
    ]);
  });
});

describe("the run's own figures", () => {
  it("measures the run from the plan's clock to the end of Publish", () => {
    // 10:00:00.000 → 10:12:34.500 is 12 × 60 000 + 34 500 = 754 500 ms.
    const plan = Date.UTC(2026, 10, 28, 10, 0, 0);
    const end = Date.UTC(2026, 10, 28, 10, 12, 34, 500);
    expect(runFigures(plan, end, { pages: 7, versionsScanned: 650 })).toEqual({
      durationMs: 754_500,
      pages: 7,
      versionsScanned: 650,
    });
  });
});
