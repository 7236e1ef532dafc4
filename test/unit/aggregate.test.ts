import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JobVersion } from "../../src/modelarts/version-record.js";
import { aggregate } from "../../src/report/aggregate.js";
import type { ReportWindow } from "../../src/report/interval.js";
import { withOneSource, withOneSourceVersions } from "../helpers/one-source.js";
import { byOutcome, makeMetrics } from "../helpers/report-fixture.js";
import { specOverlap } from "../helpers/report-rule.js";
import { HOUR, version } from "../helpers/versions.js";

const T0 = Date.UTC(2026, 10, 27); // 2026-11-27T00:00Z
const DAY = 24 * HOUR;
const NOW = T0 + 26 * HOUR; // the report is generated at 02:00 the next day
const FAILURES = [3, 5, 6, 13];
const utcDay = (date: string, start: number): ReportWindow => ({
  label: date,
  start,
  end: start + DAY,
});
const W27 = utcDay("2026-11-27", T0);
const W26 = utcDay("2026-11-26", T0 - DAY);

// Each fixture's contribution to 2026-11-27 is worked out by hand in the comments.
const fixtures: JobVersion[] = [
  // crosses midnight into the day: 3 h of 8 GPUs = 24 GPU-h (and 2 h = 16 GPU-h the day before)
  version({
    versionId: 1,
    status: 10,
    createTime: T0 - 3 * HOUR,
    startTime: T0 - 2 * HOUR,
    endTime: T0 + 3 * HOUR,
    gpuNum: 8,
    flavorCode: "gpu.a",
    poolId: "p1",
  }),
  // still running (8): ends at NOW, clipped to midnight: 4 h × 2 = 8 GPU-h, public pool
  version({
    versionId: 2,
    status: 8,
    createTime: T0 + 19 * HOUR,
    startTime: T0 + 20 * HOUR,
    duration: 1,
    gpuNum: 2,
    flavorCode: "gpu.a",
    poolId: null,
  }),
  // never started, submission failed (5): failed at create_time, created, not active
  version({
    versionId: 3,
    status: 5,
    createTime: T0 + 5 * HOUR,
    gpuNum: 1,
    flavorCode: "gpu.b",
    poolId: "p1",
  }),
  // duration only: 30 min of 8 NPUs = 4 NPU-h
  version({
    versionId: 4,
    status: 10,
    createTime: T0 + HOUR / 2,
    startTime: T0 + HOUR,
    duration: HOUR / 2,
    npuNum: 8,
    flavorCode: "npu.n",
    poolId: "p1",
  }),
  // back to back on gpu.b: [6,8) and [8,9) with 4 GPUs never overlap; [7,7.5) with 2 does
  version({
    versionId: 5,
    status: 10,
    createTime: T0 + 5 * HOUR,
    startTime: T0 + 6 * HOUR,
    endTime: T0 + 8 * HOUR,
    gpuNum: 4,
    flavorCode: "gpu.b",
    poolId: "p1",
  }),
  version({
    versionId: 6,
    status: 10,
    createTime: T0 + 5 * HOUR,
    startTime: T0 + 8 * HOUR,
    endTime: T0 + 9 * HOUR,
    gpuNum: 4,
    flavorCode: "gpu.b",
    poolId: "p1",
  }),
  version({
    versionId: 7,
    status: 12,
    createTime: T0 + 6 * HOUR,
    startTime: T0 + 7 * HOUR,
    endTime: T0 + 7.5 * HOUR,
    gpuNum: 2,
    flavorCode: "gpu.b",
    poolId: "p1",
  }),
  // unknown status 99, no flavor, no pool, no accelerators: 2 run-hours
  version({
    versionId: 8,
    status: 99,
    createTime: T0 + HOUR,
    startTime: T0 + 2 * HOUR,
    endTime: T0 + 4 * HOUR,
  }),
  // abnormally cancelled (13) after 1 h: active and failed at end_time
  version({
    versionId: 9,
    status: 13,
    createTime: T0 + 8 * HOUR,
    startTime: T0 + 9 * HOUR,
    endTime: T0 + 10 * HOUR,
    gpuNum: 1,
    flavorCode: "gpu.a",
    poolId: "p1",
  }),
  // run failed (11) is not in the default failure set: active, not failed
  version({
    versionId: 10,
    status: 11,
    createTime: T0 + HOUR,
    startTime: T0 + 2 * HOUR,
    endTime: T0 + 3 * HOUR,
    gpuNum: 1,
    flavorCode: "gpu.a",
    poolId: "p1",
  }),
  // entirely the day before: 8 h × 8 = 64 GPU-h on 2026-11-26, nothing on the 27th
  version({
    versionId: 11,
    status: 10,
    createTime: T0 - 10 * HOUR,
    startTime: T0 - 9 * HOUR,
    endTime: T0 - HOUR,
    gpuNum: 8,
    flavorCode: "gpu.a",
    poolId: "p1",
  }),
  // queued at 23:00, never started: created only
  version({
    versionId: 12,
    status: 7,
    createTime: T0 + 23 * HOUR,
    gpuNum: 8,
    flavorCode: "gpu.a",
    poolId: "p1",
  }),
  // image build failed (3), created two days before, end_time in the day: failed only
  version({
    versionId: 13,
    status: 3,
    createTime: T0 - 48 * HOUR,
    endTime: T0 + 2 * HOUR,
    flavorCode: "gpu.b",
    poolId: null,
  }),
];

describe("aggregate", () => {
  const [day] = aggregate(
    withOneSourceVersions({
      versions: fixtures,
      windows: [W27],
      now: NOW,
      failureStatuses: FAILURES,
    }),
  );
  if (day === undefined) throw new Error("no day");

  it("computes every total metric of a hand-worked day", () => {
    expect(day.totals).toEqual(
      makeMetrics({
        versions_active: 9,
        versions_created: 10,
        versions_failed: 3,
        failures_by_status: { "3": 1, "5": 1, "6": 0, "13": 1 },
        gpus: 22,
        npus: 8,
        peak_gpus: 9, // 8 (v1) + 1 (v10) during [02:00, 03:00)
        peak_npus: 8,
        gpu_hours: 47,
        npu_hours: 4,
        run_hours: 15,
        // started in the day: v2 (waited 1 h), v4 (0.5), v5 (1), v6 (3), v7 (1), v8 (1), v9 (1), v10 (1)
        versions_started: 8,
        wait_hours: 9.5,
        max_wait_hours: 3,
        // completed 24 (v1) + 8 (v5) + 4 (v6); running 8 (v2); cancelled 1 (v7) + 1 (v9); failed 1 (v10, status 11)
        gpu_hours_by_outcome: byOutcome({ completed: 36, running: 8, cancelled: 2, failed: 1 }),
        npu_hours_by_outcome: byOutcome({ completed: 4 }),
      }),
    );
  });

  it("groups by flavor, ordered by GPU-hours with null last on ties", () => {
    expect(day.by_flavor.map((r) => [r.flavor_code, r.gpu_hours])).toEqual([
      ["gpu.a", 34],
      ["gpu.b", 13],
      ["npu.n", 0],
      [null, 0],
    ]);
    expect(day.by_flavor[0]).toEqual({
      flavor_code: "gpu.a",
      ...makeMetrics({
        versions_active: 4,
        versions_created: 4,
        versions_failed: 1,
        failures_by_status: { "3": 0, "5": 0, "6": 0, "13": 1 },
        gpus: 12,
        peak_gpus: 9,
        gpu_hours: 34,
        run_hours: 9,
        versions_started: 3, // v2, v9, v10, each after 1 h in the queue
        wait_hours: 3,
        max_wait_hours: 1,
        gpu_hours_by_outcome: byOutcome({ completed: 24, running: 8, cancelled: 1, failed: 1 }),
      }),
    });
    // back-to-back jobs do not add up: the peak on gpu.b is 4 + 2 during [07:00, 07:30)
    expect(day.by_flavor[1]?.peak_gpus).toBe(6);
    expect(day.by_flavor[2]).toMatchObject({ npus: 8, peak_npus: 8, npu_hours: 4, run_hours: 0.5 });
  });

  it("groups by pool with the public pool as its own null group", () => {
    expect(
      day.by_pool.map((r) => [r.pool_id, r.gpu_hours, r.versions_active, r.versions_failed]),
    ).toEqual([
      ["p1", 39, 7, 2],
      [null, 8, 2, 1],
    ]);
  });

  it("groups by flavor and pool, ties ordered by flavor then pool", () => {
    expect(day.by_flavor_pool.map((r) => [r.flavor_code, r.pool_id, r.gpu_hours])).toEqual([
      ["gpu.a", "p1", 26],
      ["gpu.b", "p1", 13],
      ["gpu.a", null, 8],
      ["gpu.b", null, 0],
      ["npu.n", "p1", 0],
      [null, null, 0],
    ]);
  });

  it("counts the versions in the report by current status, unknown codes kept", () => {
    expect(day.statuses).toEqual([
      { status: 3, name: "JOBSTAT_IMAGE_FAILED", versions: 1 },
      { status: 5, name: "JOBSTAT_SUBMIT_FAILED", versions: 1 },
      { status: 7, name: "JOBSTAT_WAITING", versions: 1 },
      { status: 8, name: "JOBSTAT_RUNNING", versions: 1 },
      { status: 10, name: "JOBSTAT_COMPLETED", versions: 4 },
      { status: 11, name: "JOBSTAT_FAILED", versions: 1 },
      { status: 12, name: "JOBSTAT_KILLED", versions: 1 },
      { status: 13, name: "JOBSTAT_CANCELED", versions: 1 },
      { status: 99, name: "UNKNOWN_99", versions: 1 },
    ]);
  });

  it("lists the versions in the report by id with their overlap and failure", () => {
    expect(day.jobs.map((j) => j.version.versionId)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13,
    ]);
    expect(day.jobs.map((j) => j.overlapMs / HOUR)).toEqual([
      3, 4, 0, 0.5, 2, 1, 0.5, 2, 1, 1, 0, 0,
    ]);
    expect([...day.jobs].filter((j) => j.failed).map((j) => j.version.versionId)).toEqual([
      3, 9, 13,
    ]);
  });

  it("honours a configured failure set that includes 11", () => {
    const [d] = aggregate(
      withOneSourceVersions({
        versions: fixtures,
        windows: [W27],
        now: NOW,
        failureStatuses: [3, 5, 6, 11, 13],
      }),
    );
    expect(d?.totals.versions_failed).toBe(4);
    expect(d?.totals.failures_by_status).toEqual({ "3": 1, "5": 1, "6": 0, "11": 1, "13": 1 });
  });

  it("splits a job that crosses midnight between both days of a range", () => {
    const [d26, d27] = aggregate(
      withOneSourceVersions({
        versions: fixtures,
        windows: [W26, W27],
        now: NOW,
        failureStatuses: FAILURES,
      }),
    );
    expect(d26?.totals).toMatchObject({
      versions_active: 2,
      versions_created: 2,
      gpu_hours: 16 + 64,
      peak_gpus: 16,
    }); // v1 and v11 overlap in [22:00, 23:00)
    expect(d27?.totals).toEqual(day.totals);
  });

  it("ends a still-running job at report time", () => {
    const [d] = aggregate(
      withOneSourceVersions({
        versions: fixtures,
        windows: [W27],
        now: T0 + 22 * HOUR,
        failureStatuses: FAILURES,
      }),
    );
    // v2 has run 2 h by 22:00; v1's fixed end is unaffected
    expect(d?.by_pool.find((r) => r.pool_id === null)?.gpu_hours).toBe(4);
  });

  it("counts versions with empty intervals as started, never as active", () => {
    const odd = [
      version({
        versionId: 1,
        createTime: T0 - DAY,
        startTime: T0 + HOUR,
        endTime: T0 + HOUR,
        gpuNum: 4,
      }),
      version({
        versionId: 2,
        createTime: T0 - DAY,
        startTime: T0 + 2 * HOUR,
        endTime: T0 + HOUR,
        gpuNum: 4,
      }),
      version({ versionId: 3, status: 10, createTime: T0 - DAY, startTime: T0 + HOUR, gpuNum: 4 }),
    ];
    const [d] = aggregate(
      withOneSourceVersions({ versions: odd, windows: [W27], now: NOW, failureStatuses: FAILURES }),
    );
    expect(d?.totals.versions_active).toBe(0);
    expect(d?.totals.gpu_hours).toBe(0);
    // they started in the window, so they are in the report (§9), with no hours
    expect(d?.totals.versions_started).toBe(3);
    expect(d?.jobs.map((j) => [j.version.versionId, j.overlapMs])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
  });
});

// Random workloads over three UTC days, for the properties below.
const arbVersions = fc
  .uniqueArray(
    fc.record({
      versionId: fc.integer({ min: 1, max: 10_000 }),
      status: fc.constantFrom(3, 5, 6, 8, 9, 10, 11, 12, 13, 15, 99),
      create: fc.integer({ min: -2 * DAY, max: 3 * DAY }),
      wait: fc.integer({ min: -HOUR, max: DAY }),
      run: fc.integer({ min: 0, max: 2 * DAY }),
      started: fc.boolean(),
      ended: fc.boolean(),
      gpuNum: fc.integer({ min: 0, max: 8 }),
      npuNum: fc.integer({ min: 0, max: 8 }),
      flavorCode: fc.constantFrom(null, "a", "b", "c"),
      poolId: fc.constantFrom(null, "p", "q"),
    }),
    { selector: (r) => r.versionId, maxLength: 60 },
  )
  .map((rows) =>
    rows.map((r) => {
      const start = r.started ? T0 + r.create + Math.max(0, r.wait) : 0;
      return version({
        versionId: r.versionId,
        status: r.status,
        createTime: T0 + r.create,
        startTime: start,
        endTime: r.started && r.ended ? start + r.run : 0,
        duration: r.started && !r.ended ? r.run : 0,
        gpuNum: r.gpuNum,
        npuNum: r.npuNum,
        flavorCode: r.flavorCode,
        poolId: r.poolId,
      });
    }),
  );

const W28 = utcDay("2026-11-28", T0 + DAY);
const ADDITIVE = [
  "versions_active",
  "versions_created",
  "versions_failed",
  "gpus",
  "npus",
  "gpu_hours",
  "npu_hours",
  "run_hours",
] as const;

describe("aggregate properties", () => {
  it("sums of the groups equal the totals", () => {
    fc.assert(
      fc.property(arbVersions, (versions) => {
        const days = aggregate(
          withOneSourceVersions({
            versions,
            windows: [W26, W27, W28],
            now: T0 + 3 * DAY,
            failureStatuses: FAILURES,
          }),
        );
        for (const d of days) {
          for (const rows of [d.by_flavor, d.by_pool, d.by_flavor_pool]) {
            for (const key of ADDITIVE) {
              const sum = rows.reduce((s, r) => s + r[key], 0);
              expect(sum).toBeCloseTo(d.totals[key], 9);
            }
            expect(Math.max(0, ...rows.map((r) => r.peak_gpus))).toBeLessThanOrEqual(
              d.totals.peak_gpus,
            );
          }
        }
      }),
    );
  });

  it("splitting a range into days neither loses nor invents hours", () => {
    fc.assert(
      fc.property(arbVersions, (versions) => {
        const now = T0 + 3 * DAY;
        const days = aggregate(
          withOneSourceVersions({
            versions,
            windows: [W26, W27, W28],
            now,
            failureStatuses: FAILURES,
          }),
        );
        const range = { start: W26.start, end: W28.end };
        const expectedGpuMs = versions.reduce(
          (s, v) => s + v.gpuNum * specOverlap(v, now, range),
          0,
        );
        const expectedRunMs = versions.reduce((s, v) => s + specOverlap(v, now, range), 0);
        expect(days.reduce((s, d) => s + d.totals.gpu_hours, 0)).toBeCloseTo(
          expectedGpuMs / HOUR,
          9,
        );
        expect(days.reduce((s, d) => s + d.totals.run_hours, 0)).toBeCloseTo(
          expectedRunMs / HOUR,
          9,
        );
      }),
    );
  });

  it("does not depend on the order the versions arrive in", () => {
    fc.assert(
      fc.property(arbVersions, fc.integer(), (versions, seed) => {
        const shuffled = [...versions];
        let s = seed;
        for (let i = shuffled.length - 1; i > 0; i--) {
          s = (s * 1103515245 + 12345) & 0x7fffffff;
          const j = s % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as JobVersion, shuffled[i] as JobVersion];
        }
        const input = { windows: [W26, W27, W28], now: T0 + 3 * DAY, failureStatuses: FAILURES };
        expect(aggregate(withOneSourceVersions({ ...input, versions: shuffled }))).toEqual(
          aggregate(withOneSourceVersions({ ...input, versions })),
        );
      }),
    );
  });
});

describe("daily reports in a time zone with daylight saving", () => {
  it("gives a 23-hour and a 25-hour day in Europe/Berlin", async () => {
    const { buildDailyReports } = await import("../../src/report/build.js");
    // one GPU busy from 2026-03-28T12:00Z to 2026-03-30T12:00Z, and around the October change
    const versions = [
      version({
        versionId: 1,
        createTime: Date.UTC(2026, 2, 28, 11),
        startTime: Date.UTC(2026, 2, 28, 12),
        endTime: Date.UTC(2026, 2, 30, 12),
        gpuNum: 1,
      }),
      version({
        versionId: 2,
        createTime: Date.UTC(2026, 9, 24, 11),
        startTime: Date.UTC(2026, 9, 24, 12),
        endTime: Date.UTC(2026, 9, 26, 12),
        gpuNum: 1,
      }),
    ];
    const common = {
      versions,
      timeZone: "Europe/Berlin",
      now: Date.UTC(2026, 10, 1),
      failureStatuses: FAILURES,
      source: {
        endpoint: "e",
        project_id: "p",
        workspace_id: null,
        pool_id: null,
        versions_scanned: 2,
        pages: 1,
      },
      anomalies: { skipped: 0, duplicate_rows: 0, reasons: {} },
    };
    const [spring] = buildDailyReports(withOneSource({ ...common, dates: ["2026-03-29"] }));
    expect(spring?.report.window).toEqual({
      start: "2026-03-29T00:00:00+01:00",
      end: "2026-03-30T00:00:00+02:00",
    });
    expect(spring?.report.totals.gpu_hours).toBe(23);
    const [autumn] = buildDailyReports(withOneSource({ ...common, dates: ["2026-10-25"] }));
    expect(autumn?.report.window).toEqual({
      start: "2026-10-25T00:00:00+02:00",
      end: "2026-10-26T00:00:00+01:00",
    });
    expect(autumn?.report.totals.gpu_hours).toBe(25);
  });
});
