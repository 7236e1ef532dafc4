import { describe, expect, it } from "vitest";
import type { JobVersion } from "../../src/modelarts/version-record.js";
import { buildDailyReports, buildMonthReport } from "../../src/report/build.js";
import { parsePriceTable } from "../../src/report/prices.js";
import { datesOfMonth, monthWindow } from "../../src/report/time.js";
import type { Metrics } from "../../src/report/types.js";
import { withOneSource } from "../helpers/one-source.js";
import { byOutcome, makeMetrics, SOURCE } from "../helpers/report-fixture.js";
import { HOUR, version } from "../helpers/versions.js";

const FAILURES = [3, 5, 6, 13];
const ANOMALIES = { skipped: 0, duplicate_rows: 0, reasons: {} };
/** Well after every month used here, so running jobs end at the same instant for all calls. */
const NOW = Date.UTC(2026, 11, 5); // 2026-12-05T00:00Z

const utc = (iso: string) => Date.parse(`${iso}Z`);

function month(versions: JobVersion[], m: string, timeZone = "UTC", extra = {}) {
  return buildMonthReport(
    withOneSource({
      versions,
      month: m,
      timeZone,
      now: NOW,
      failureStatuses: FAILURES,
      source: SOURCE,
      anomalies: ANOMALIES,
      ...extra,
    }),
  );
}

function days(versions: JobVersion[], m: string, timeZone = "UTC", extra = {}) {
  return buildDailyReports(
    withOneSource({
      versions,
      dates: datesOfMonth(m),
      timeZone,
      now: NOW,
      failureStatuses: FAILURES,
      source: SOURCE,
      anomalies: ANOMALIES,
      ...extra,
    }),
  );
}

describe("month report: a job across the month boundary", () => {
  // created 2026-10-31T21:00Z, runs 22:00Z → 2026-11-01T03:00Z with 2 GPUs:
  // October gets 2 h (4 GPU-h), November 3 h (6 GPU-h); 5 h = 10 GPU-h in all.
  const versions = [
    version({
      versionId: 1,
      status: 10,
      createTime: utc("2026-10-31T21:00:00"),
      startTime: utc("2026-10-31T22:00:00"),
      endTime: utc("2026-11-01T03:00:00"),
      gpuNum: 2,
      flavorCode: "gpu.a",
      poolId: "p1",
    }),
  ];

  it("splits the GPU-hours between the two months, active in both, created in October", () => {
    const oct = month(versions, "2026-10").report;
    const nov = month(versions, "2026-11").report;
    expect(oct.period).toBe("month");
    expect(oct.label).toBe("2026-10");
    expect(nov.label).toBe("2026-11");
    expect(oct.totals).toEqual(
      makeMetrics({
        versions_active: 1,
        versions_created: 1,
        versions_started: 1,
        wait_hours: 1, // 21:00 → 22:00
        max_wait_hours: 1,
        gpus: 2,
        peak_gpus: 2,
        gpu_hours: 4,
        run_hours: 2,
      }),
    );
    expect(nov.totals).toEqual(
      makeMetrics({ versions_active: 1, gpus: 2, peak_gpus: 2, gpu_hours: 6, run_hours: 3 }),
    );
    expect(oct.totals.gpu_hours + nov.totals.gpu_hours).toBe(10);
    expect(oct.by_flavor_pool.map((r) => [r.flavor_code, r.pool_id, r.gpu_hours])).toEqual([
      ["gpu.a", "p1", 4],
    ]);
  });

  it("lists the job in both months' jobs with that month's overlap", () => {
    expect(month(versions, "2026-10").jobs.map((j) => j.overlapMs)).toEqual([2 * HOUR]);
    expect(month(versions, "2026-11").jobs.map((j) => j.overlapMs)).toEqual([3 * HOUR]);
    expect(month(versions, "2026-12").jobs).toHaveLength(0);
  });

  it("passes the previous month's totals through as `previous`", () => {
    const oct = month(versions, "2026-10").report.totals;
    const nov = month(versions, "2026-11", "UTC", { previousTotals: oct }).report;
    expect(nov.previous).toEqual(oct);
    expect(month(versions, "2026-11").report.previous).toBeNull();
  });
});

describe("month report: daylight-saving months in Europe/Berlin", () => {
  const TZ = "Europe/Berlin";
  // one GPU busy from long before March to long after October
  const versions = [
    version({
      versionId: 1,
      status: 10,
      createTime: utc("2026-01-15T00:00:00"),
      startTime: utc("2026-01-15T00:00:00"),
      endTime: utc("2026-11-15T00:00:00"),
      gpuNum: 1,
    }),
  ];

  it("March 2026 is 743 hours: 2026-03-01T00:00+01:00 to 2026-04-01T00:00+02:00", () => {
    // 31 × 24 = 744, less the hour skipped on 2026-03-29
    const w = monthWindow("2026-03", TZ);
    expect(w.start).toBe(utc("2026-02-28T23:00:00"));
    expect(w.end).toBe(utc("2026-03-31T22:00:00"));
    expect(w.end - w.start).toBe(743 * HOUR);
    const { report } = month(versions, "2026-03", TZ);
    expect(report.timezone).toBe(TZ);
    expect(report.window).toEqual({
      start: "2026-03-01T00:00:00+01:00",
      end: "2026-04-01T00:00:00+02:00",
    });
    expect(report.totals.gpu_hours).toBe(743);
    expect(report.totals.run_hours).toBe(743);
    expect(report.totals.versions_active).toBe(1);
    expect(report.totals.versions_created).toBe(0);
  });

  it("October 2026 is 745 hours: 2026-10-01T00:00+02:00 to 2026-11-01T00:00+01:00", () => {
    // 31 × 24 = 744, plus the hour repeated on 2026-10-25
    const w = monthWindow("2026-10", TZ);
    expect(w.start).toBe(utc("2026-09-30T22:00:00"));
    expect(w.end).toBe(utc("2026-10-31T23:00:00"));
    expect(w.end - w.start).toBe(745 * HOUR);
    const { report } = month(versions, "2026-10", TZ);
    expect(report.window).toEqual({
      start: "2026-10-01T00:00:00+02:00",
      end: "2026-11-01T00:00:00+01:00",
    });
    expect(report.totals.gpu_hours).toBe(745);
    expect(report.totals.run_hours).toBe(745);
  });

  it("a month without a change is 24 h × its days (April: 720 h at +02:00)", () => {
    const { report } = month(versions, "2026-04", TZ);
    expect(report.window).toEqual({
      start: "2026-04-01T00:00:00+02:00",
      end: "2026-05-01T00:00:00+02:00",
    });
    expect(report.totals.gpu_hours).toBe(720);
  });
});

describe("month report: peaks", () => {
  const d = (date: string, from: number, to: number) => ({
    startTime: utc(`${date}T${String(from).padStart(2, "0")}:00:00`),
    endTime: utc(`${date}T00:00:00`) + to * HOUR,
  });
  const versions = [
    // 2026-11-10: [08,12), [09,13), [10,14) with 4 GPUs each → 12 GPUs during [10,12)
    version({ versionId: 1, gpuNum: 4, poolId: "p1", ...d("2026-11-10", 8, 12) }),
    version({ versionId: 2, gpuNum: 4, poolId: "p1", ...d("2026-11-10", 9, 13) }),
    version({ versionId: 3, gpuNum: 4, poolId: "p2", ...d("2026-11-10", 10, 14) }),
    // other days: never more than 4 at once
    version({ versionId: 4, gpuNum: 4, poolId: "p1", ...d("2026-11-03", 0, 24) }),
    version({ versionId: 5, gpuNum: 4, poolId: "p2", ...d("2026-11-20", 6, 18) }),
    // back to back on 2026-11-25, [00,12) and [12,24): half-open, so 4, not 8
    version({ versionId: 6, gpuNum: 4, poolId: "p1", ...d("2026-11-25", 0, 12) }),
    version({ versionId: 7, gpuNum: 4, poolId: "p1", ...d("2026-11-25", 12, 24) }),
    // 2 GPUs from 2026-11-15 to 2026-11-18, alone
    version({
      versionId: 8,
      gpuNum: 2,
      npuNum: 3,
      poolId: "p2",
      startTime: utc("2026-11-15T00:00:00"),
      endTime: utc("2026-11-18T00:00:00"),
    }),
  ];

  it("the month's peak is the one day's peak of 12, the max of the daily peaks", () => {
    const m = month(versions, "2026-11").report;
    const daily = days(versions, "2026-11").map((r) => r.report);
    expect(m.totals.peak_gpus).toBe(12);
    expect(m.totals.peak_npus).toBe(3);
    const peakOf = (date: string) => daily.find((r) => r.label === date)?.totals.peak_gpus;
    expect(peakOf("2026-11-10")).toBe(12);
    expect(peakOf("2026-11-03")).toBe(4);
    expect(peakOf("2026-11-25")).toBe(4);
    expect(peakOf("2026-11-16")).toBe(2);
    expect(peakOf("2026-11-01")).toBe(0);
    expect(Math.max(...daily.map((r) => r.totals.peak_gpus))).toBe(m.totals.peak_gpus);
    expect(daily.filter((r) => r.totals.peak_gpus > 4).map((r) => r.label)).toEqual(["2026-11-10"]);
    // gpus sums each active version once: 7 × 4 + 2 = 30; GPU-h: 16+16+16+96+48+48+48+144 = 432
    expect(m.totals.gpus).toBe(30);
    expect(m.totals.gpu_hours).toBe(432);
  });

  it("per pool: p1 peaks at 8 on the 10th, p2 at 4", () => {
    // p1 on the 10th: [08,12) and [09,13) → 8; p2: [10,14) alone → 4, and 4 on the 20th
    const m = month(versions, "2026-11").report;
    const pool = (id: string) => m.by_pool.find((r) => r.pool_id === id);
    expect(pool("p1")?.peak_gpus).toBe(8);
    expect(pool("p2")?.peak_gpus).toBe(4);
    expect(pool("p2")?.peak_npus).toBe(3);
  });
});

describe("month report: a version active on 30 days counts once", () => {
  // created 2026-10-31T23:00Z, runs all of November (UTC) with 8 GPUs: 720 h, 5760 GPU-h
  const versions = [
    version({
      versionId: 1,
      status: 10,
      createTime: utc("2026-10-31T23:00:00"),
      startTime: utc("2026-11-01T00:00:00"),
      endTime: utc("2026-12-01T00:00:00"),
      gpuNum: 8,
      flavorCode: "gpu.a",
    }),
  ];

  it("is one active version with 8 GPUs in the month, and one each day", () => {
    const m = month(versions, "2026-11").report;
    expect(m.totals).toEqual(
      makeMetrics({
        versions_active: 1,
        versions_started: 1, // started 2026-11-01T00:00Z, after a 1 h wait
        wait_hours: 1,
        max_wait_hours: 1,
        gpus: 8,
        peak_gpus: 8,
        gpu_hours: 5760,
        run_hours: 720,
      }),
    );
    expect(m.by_flavor.map((r) => [r.flavor_code, r.versions_active, r.gpus])).toEqual([
      ["gpu.a", 1, 8],
    ]);
    const daily = days(versions, "2026-11");
    expect(daily).toHaveLength(30);
    for (const { report } of daily) {
      expect(report.totals.versions_active).toBe(1);
      expect(report.totals.gpus).toBe(8);
      expect(report.totals.gpu_hours).toBe(192); // 24 h × 8
    }
    // the daily counts add up to 30 and 240; the month counts distinct versions
    expect(daily.reduce((s, r) => s + r.report.totals.versions_active, 0)).toBe(30);
    expect(daily.reduce((s, r) => s + r.report.totals.gpus, 0)).toBe(240);
    expect(month(versions, "2026-11").jobs).toHaveLength(1);
  });
});

describe("month report: failures, queueing and cost over the month", () => {
  const versions = [
    // fails (3) on the 3rd: created 08:00, waits 1 h, runs 09:00–11:00 with 2 GPUs → 4 GPU-h
    version({
      versionId: 1,
      status: 3,
      flavorCode: "gpu.a",
      gpuNum: 2,
      createTime: utc("2026-11-03T08:00:00"),
      startTime: utc("2026-11-03T09:00:00"),
      endTime: utc("2026-11-03T11:00:00"),
    }),
    // fails (13) on the 20th without ever starting: failed_at = create_time; not active
    version({
      versionId: 2,
      status: 13,
      flavorCode: "gpu.a",
      gpuNum: 2,
      createTime: utc("2026-11-20T10:00:00"),
    }),
    // failed (5) in October: not in November at all
    version({
      versionId: 3,
      status: 5,
      flavorCode: "gpu.a",
      gpuNum: 1,
      createTime: utc("2026-10-30T00:00:00"),
      startTime: utc("2026-10-30T02:00:00"),
      endTime: utc("2026-10-31T02:00:00"),
    }),
    // 4 NPUs from the 14th 06:00 to the 15th 06:00 after a 6 h wait: 24 h, 96 NPU-h
    // (18 h = 72 NPU-h on the 14th, 6 h = 24 NPU-h on the 15th)
    version({
      versionId: 4,
      status: 10,
      flavorCode: "npu.b",
      npuNum: 4,
      createTime: utc("2026-11-14T00:00:00"),
      startTime: utc("2026-11-14T06:00:00"),
      endTime: utc("2026-11-15T06:00:00"),
    }),
    // still running (8) from the 29th 22:00 after a 2 h wait, 1 GPU: clipped at the month's
    // end, 26 h = 26 GPU-h (2 on the 29th, 24 on the 30th)
    version({
      versionId: 5,
      status: 8,
      flavorCode: "gpu.a",
      gpuNum: 1,
      createTime: utc("2026-11-29T20:00:00"),
      startTime: utc("2026-11-29T22:00:00"),
    }),
    // started in October, 12 h of 1 GPU in November; no flavor, so unpriced; not started here
    version({
      versionId: 6,
      status: 10,
      gpuNum: 1,
      createTime: utc("2026-10-31T10:00:00"),
      startTime: utc("2026-10-31T12:00:00"),
      endTime: utc("2026-11-01T12:00:00"),
    }),
    // start_time before create_time: started, but no wait counted; 1 h with no accelerators
    version({
      versionId: 7,
      status: 10,
      flavorCode: "gpu.a",
      createTime: utc("2026-11-05T10:00:00"),
      startTime: utc("2026-11-05T09:00:00"),
      endTime: utc("2026-11-05T10:00:00"),
    }),
  ];
  // gpu.a: 0.5 per hour + 1.25 per GPU-hour; npu.b: 0.1234 per NPU-hour
  const prices = parsePriceTable(
    JSON.stringify({
      currency: "EUR",
      flavors: {
        "gpu.a": { per_hour: 0.5, per_gpu_hour: 1.25 },
        "npu.b": { per_npu_hour: 0.1234 },
      },
    }),
    "test",
  );

  it("counts the month's failures by status, starts and waits", () => {
    const m = month(versions, "2026-11").report;
    // active: 1, 4, 5, 6, 7; created: 1, 2, 4, 5, 7; failed: 1 (3rd), 2 (20th)
    // started: 1, 4, 5, 7; waits 1 + 6 + 2 = 9 h, the longest 6 h (version 7 has none)
    // GPU-h 4 + 26 + 12 = 42; NPU-h 96; run-h 2 + 24 + 26 + 12 + 1 = 65
    expect(m.totals).toEqual(
      makeMetrics({
        versions_active: 5,
        versions_created: 5,
        versions_failed: 2,
        failures_by_status: { "3": 1, "5": 0, "6": 0, "13": 1 },
        gpus: 4, // 2 + 1 + 1 + 0 (version 2 is not active)
        npus: 4,
        peak_gpus: 2,
        peak_npus: 4,
        gpu_hours: 42,
        npu_hours: 96,
        run_hours: 65,
        versions_started: 4,
        wait_hours: 9,
        max_wait_hours: 6,
        gpu_hours_by_outcome: byOutcome({ completed: 12, failed: 4, running: 26 }),
        npu_hours_by_outcome: byOutcome({ completed: 96 }),
      }),
    );
    expect(month(versions, "2026-11").jobs.map((j) => [j.version.versionId, j.failed])).toEqual([
      [1, true],
      [2, true],
      [4, false],
      [5, false],
      [6, false],
      [7, false],
    ]);
    expect(m.longest_waits.map((w) => [w.version_id, w.wait_hours])).toEqual([
      [4, 6],
      [5, 2],
      [1, 1],
    ]);
    // the daily reports see the failures on the 3rd and the 20th
    const failedOn = days(versions, "2026-11")
      .filter((r) => r.report.totals.versions_failed > 0)
      .map((r) => [r.report.label, r.report.totals.failures_by_status]);
    expect(failedOn).toEqual([
      ["2026-11-03", { "3": 1, "5": 0, "6": 0, "13": 0 }],
      ["2026-11-20", { "3": 0, "5": 0, "6": 0, "13": 1 }],
    ]);
    // October: version 3 failed there (5), version 6 was created and started there
    const oct = month(versions, "2026-10").report.totals;
    expect(oct.failures_by_status).toEqual({ "3": 0, "5": 1, "6": 0, "13": 0 });
    expect(oct.versions_started).toBe(2);
  });

  it("sums the month's cost before rounding it to cents", () => {
    // gpu.a: run-h 2 + 26 + 1 = 29 × 0.5 = 14.5, GPU-h 4 + 26 = 30 × 1.25 = 37.5 → 52
    // npu.b: 96 NPU-h × 0.1234 = 11.8464 → 11.85; version 6 has no flavor: unpriced
    // total 63.8464 → 63.85. Rounding each day first would give
    // 6 + 0.5 + 8.88 (72 × 0.1234) + 2.96 (24 × 0.1234) + 3.5 + 42 = 63.84.
    const m = month(versions, "2026-11", "UTC", { prices }).report;
    expect(m.currency).toBe("EUR");
    expect(m.totals.cost).toBe(63.85);
    const flavorCost = (f: string | null) => m.by_flavor.find((r) => r.flavor_code === f)?.cost;
    expect(flavorCost("gpu.a")).toBe(52);
    expect(flavorCost("npu.b")).toBe(11.85);
    expect(m.anomalies.unpriced_flavors).toEqual([null]);
    const daily = days(versions, "2026-11", "UTC", { prices });
    const sumOfDays = daily.reduce((s, r) => s + (r.report.totals.cost ?? 0), 0);
    expect(sumOfDays).toBeCloseTo(63.84, 9);
    expect(month(versions, "2026-11").report.totals.cost).toBeNull();
  });

  it("keeps the metrics of the groups consistent with the totals", () => {
    const m = month(versions, "2026-11", "UTC", { prices }).report;
    const sum = (rows: Metrics[], k: "gpu_hours" | "versions_failed" | "versions_started") =>
      rows.reduce((s, r) => s + r[k], 0);
    for (const rows of [m.by_flavor, m.by_pool, m.by_flavor_pool]) {
      expect(sum(rows, "gpu_hours")).toBe(42);
      expect(sum(rows, "versions_failed")).toBe(2);
      expect(sum(rows, "versions_started")).toBe(4);
    }
    // rows by exact GPU-hours, descending: gpu.a 30, null 12, npu.b 0
    expect(m.by_flavor.map((r) => [r.flavor_code, r.gpu_hours])).toEqual([
      ["gpu.a", 30],
      [null, 12],
      ["npu.b", 0],
    ]);
  });
});
