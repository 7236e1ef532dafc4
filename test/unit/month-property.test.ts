import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildDailyReports, buildMonthReport } from "../../src/report/build.js";
import { datesOfMonth, monthWindow } from "../../src/report/time.js";
import type { Metrics } from "../../src/report/types.js";
import { withOneSource } from "../helpers/one-source.js";
import { SOURCE } from "../helpers/report-fixture.js";
import { HOUR, version } from "../helpers/versions.js";

/**
 * A month report is one window over the month; its days are sub-windows that partition it.
 * So hours add up exactly over the days, peaks are the max of the daily peaks (a peak instant
 * lies in some day), and distinct-version counts lie between the max and the sum of the
 * daily counts (point events — created, failed, started — fall in exactly one day: equal).
 */

const DAY = 24 * HOUR;
const FAILURES = [3, 5, 6, 13];
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"] as const;
const HOURS = ["gpu_hours", "npu_hours", "run_hours"] as const;
const COUNTS = ["versions_active", "versions_created", "versions_failed", "versions_started"];
const POINT_EVENTS = ["versions_created", "versions_failed", "versions_started"] as const;

const close = (a: number, b: number) =>
  Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

function expectClose(actual: number, expected: number, what: string): void {
  if (!close(actual, expected)) {
    expect.fail(`${what}: month ${actual} ≠ sum of days ${expected}`);
  }
}

const arbRow = fc.record({
  versionId: fc.integer({ min: 1, max: 100_000 }),
  status: fc.constantFrom(0, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 99),
  /** Fraction of the span [month start − 3 d, month end + 3 d] where it is created. */
  create: fc.double({ min: 0, max: 1, noNaN: true }),
  wait: fc.integer({ min: -HOUR, max: 2 * DAY }),
  run: fc.integer({ min: 0, max: 10 * DAY }),
  started: fc.boolean(),
  ended: fc.boolean(),
  gpuNum: fc.integer({ min: 0, max: 8 }),
  npuNum: fc.integer({ min: 0, max: 8 }),
  flavorCode: fc.constantFrom(null, "a", "b", "c"),
  poolId: fc.constantFrom(null, "p", "q"),
});

const arbCase = fc.record({
  month: fc.integer({ min: 1, max: 12 }).map((m) => `2026-${String(m).padStart(2, "0")}`),
  timeZone: fc.constantFrom(...ZONES),
  rows: fc.uniqueArray(arbRow, { selector: (r) => r.versionId, maxLength: 40 }),
});

type Keyed = Metrics & { key: string };

/** Rows of one grouping keyed by their group, for matching month rows to day rows. */
function keyed(
  rows: readonly (Metrics & { flavor_code?: string | null; pool_id?: string | null })[],
) {
  return new Map<string, Keyed>(
    rows.map((r) => {
      const key = JSON.stringify([r.flavor_code ?? null, r.pool_id ?? null]);
      return [key, { ...r, key }];
    }),
  );
}

/** Checks a month group against the same group of every day (absent days count as 0). */
function checkGroup(monthRow: Metrics | undefined, dayRows: (Metrics | undefined)[], what: string) {
  const present = dayRows.filter((r): r is Metrics => r !== undefined);
  const sum = (k: keyof Metrics) => present.reduce((s, r) => s + (r[k] as number), 0);
  const max = (k: keyof Metrics) => Math.max(0, ...present.map((r) => r[k] as number));
  if (monthRow === undefined) {
    // a group absent from the month is absent from every day
    expect(present, `${what}: in some day but not in the month`).toEqual([]);
    return;
  }
  for (const k of HOURS) expectClose(monthRow[k], sum(k), `${what} ${k}`);
  expectClose(monthRow.wait_hours, sum("wait_hours"), `${what} wait_hours`);
  expect(monthRow.max_wait_hours, `${what} max_wait_hours`).toBe(max("max_wait_hours"));
  expect(monthRow.peak_gpus, `${what} peak_gpus`).toBe(max("peak_gpus"));
  expect(monthRow.peak_npus, `${what} peak_npus`).toBe(max("peak_npus"));
  for (const k of COUNTS as (keyof Metrics)[]) {
    expect(monthRow[k] as number, `${what} ${k} ≤ sum`).toBeLessThanOrEqual(sum(k));
    expect(monthRow[k] as number, `${what} ${k} ≥ max`).toBeGreaterThanOrEqual(max(k));
  }
  for (const k of POINT_EVENTS) expect(monthRow[k], `${what} ${k} = sum`).toBe(sum(k));
  for (const k of ["gpus", "npus"] as const) {
    expect(monthRow[k], `${what} ${k} ≤ sum`).toBeLessThanOrEqual(sum(k));
    expect(monthRow[k], `${what} ${k} ≥ max`).toBeGreaterThanOrEqual(max(k));
  }
  for (const code of Object.keys(monthRow.failures_by_status)) {
    const days = present.reduce((s, r) => s + (r.failures_by_status[code] ?? 0), 0);
    expect(monthRow.failures_by_status[code], `${what} failures ${code}`).toBe(days);
  }
}

describe("month report vs its daily reports", () => {
  it("hours add up, peaks are the max of the days, counts lie between max and sum", () => {
    fc.assert(
      fc.property(arbCase, ({ month, timeZone, rows }) => {
        const w = monthWindow(month, timeZone);
        const from = w.start - 3 * DAY;
        const span = w.end + 3 * DAY - from;
        const versions = rows.map((r) => {
          const create = from + Math.floor(r.create * span);
          const start = r.started ? create + Math.max(0, r.wait) : 0;
          return version({
            versionId: r.versionId,
            status: r.status,
            createTime: create,
            startTime: start,
            // not ended: still running (8, 9, 15 end at `now`) or known by duration only
            endTime: r.started && r.ended ? start + r.run : 0,
            duration: r.started && !r.ended ? r.run : 0,
            gpuNum: r.gpuNum,
            npuNum: r.npuNum,
            flavorCode: r.flavorCode,
            poolId: r.poolId,
          });
        });
        // after the month (and after every generated end), the same for both calls
        const now = w.end + 20 * DAY;
        const common = {
          versions,
          timeZone,
          now,
          failureStatuses: FAILURES,
          source: SOURCE,
          anomalies: { skipped: 0, duplicate_rows: 0, reasons: {} },
        };
        const dates = datesOfMonth(month);
        const dailyBuilt = buildDailyReports(withOneSource({ ...common, dates }));
        const monthBuilt = buildMonthReport(withOneSource({ ...common, month }));
        const daily = dailyBuilt.map((d) => d.report);
        const m = monthBuilt.report;

        expect(m.period).toBe("month");
        expect(m.label).toBe(month);
        expect(daily.map((d) => d.label)).toEqual(dates);
        checkGroup(
          m.totals,
          daily.map((d) => d.totals),
          `${month} ${timeZone} totals`,
        );
        for (const grouping of ["by_flavor", "by_pool", "by_flavor_pool"] as const) {
          const monthRows = keyed(m[grouping]);
          const dayRows = daily.map((d) => keyed(d[grouping]));
          const keys = new Set([...monthRows.keys(), ...dayRows.flatMap((r) => [...r.keys()])]);
          for (const key of keys) {
            checkGroup(
              monthRows.get(key),
              dayRows.map((r) => r.get(key)),
              `${month} ${timeZone} ${grouping} ${key}`,
            );
          }
        }
        // every version in some day's report is in the month's, and only those
        const monthIds = monthBuilt.jobs.map((j) => j.version.versionId);
        const dayIds = new Set(dailyBuilt.flatMap((d) => d.jobs.map((j) => j.version.versionId)));
        expect(monthIds).toEqual([...dayIds].sort((a, b) => a - b));
      }),
      { seed: 20_261_101, numRuns: 100 },
    );
  });
});
