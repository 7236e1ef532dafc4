import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JobVersion } from "../../src/modelarts/version-record.js";
import { aggregate } from "../../src/report/aggregate.js";
import {
  forEachWindowOf,
  isActiveIn,
  isInReport,
  isPlacedIn,
  newPlacement,
  overlapIn,
  placeVersion,
  type ReportWindow,
  windowBounds,
} from "../../src/report/interval.js";
import { withOneSourceVersions } from "../helpers/one-source.js";
import { specMembership, specOverlap } from "../helpers/report-rule.js";
import { HOUR, version } from "../helpers/versions.js";

/**
 * "Is this version in the report of this window" is decided once, by `placeVersion`. These
 * properties hold it to report.md §2 written out plainly (test/helpers/report-rule.ts: active,
 * created, failed or started in the window), and check that its three users agree with it:
 * the scan's filter (`isInReport`), the aggregation's days and the rows of jobs.csv.
 */

const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 27);
const STATUSES = [0, 3, 5, 6, 8, 9, 10, 11, 12, 13, 15, 99];

/** Contiguous windows from T0: DST days of 23 and 25 hours, ordinary days, months, slivers. */
const arbWindows = fc
  .array(
    fc.oneof(
      fc.constantFrom(23 * HOUR, 24 * HOUR, 25 * HOUR, 30 * DAY),
      fc.integer({ min: 1, max: 31 * DAY }),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((lengths) => {
    let start = T0;
    return lengths.map((length, i): ReportWindow => {
      const w = { label: `w${i}`, start, end: start + length };
      start += length;
      return w;
    });
  });

/** An instant near one of the windows' bounds (on it, a millisecond either side) or anywhere. */
const arbTime = fc.record({
  bound: fc.nat(),
  offset: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -3 * DAY, max: 3 * DAY })),
});
type ArbTime = typeof arbTime extends fc.Arbitrary<infer T> ? T : never;
const at = (bounds: readonly number[], t: ArbTime) =>
  Math.max(0, (bounds[t.bound % bounds.length] as number) + t.offset);

const arbRawVersion = fc.record({
  versionId: fc.integer({ min: 1, max: 100_000 }),
  status: fc.constantFrom(...STATUSES),
  create: arbTime,
  start: fc.option(arbTime, { freq: 4 }),
  end: fc.option(arbTime, { freq: 2 }),
  duration: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * DAY })),
  gpuNum: fc.integer({ min: 0, max: 8 }),
});

const arbCase = fc.record({
  windows: arbWindows,
  raws: fc.uniqueArray(arbRawVersion, { selector: (r) => r.versionId, maxLength: 40 }),
  now: arbTime,
  failureStatuses: fc.subarray([3, 5, 6, 11, 13]),
});

/** The versions and `now`, their instants placed near the case's window bounds. */
function materialise(c: typeof arbCase extends fc.Arbitrary<infer T> ? T : never) {
  const bounds = windowBounds(c.windows);
  const versions: JobVersion[] = c.raws.map((r) =>
    version({
      versionId: r.versionId,
      status: r.status,
      createTime: at(bounds, r.create),
      startTime: r.start === null ? 0 : at(bounds, r.start),
      endTime: r.end === null ? 0 : at(bounds, r.end),
      duration: r.duration,
      gpuNum: r.gpuNum,
    }),
  );
  return { ...c, bounds, versions, now: at(bounds, c.now) };
}

describe("the one rule: which windows' reports a version is in", () => {
  it("places a version in exactly the windows where §2 says it is active, created, failed or started", () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { windows, bounds, versions, now, failureStatuses } = materialise(c);
        const set = new Set(failureStatuses);
        for (const v of versions) {
          const p = placeVersion(v, now, set, bounds, newPlacement());
          const expected: number[] = [];
          windows.forEach((w, i) => {
            const spec = specMembership(v, w, now, failureStatuses);
            expect(isPlacedIn(p, i)).toBe(spec.inReport);
            expect(isActiveIn(p, i)).toBe(spec.active);
            expect(p.created === i).toBe(spec.created);
            expect(p.failed === i).toBe(spec.failed);
            expect(p.started === i).toBe(spec.started);
            expect(overlapIn(p, bounds, i)).toBe(specOverlap(v, now, w));
            if (spec.inReport) expected.push(i);
          });
          const visited: number[] = [];
          forEachWindowOf(p, (i) => visited.push(i));
          // Every window the version is in, each once.
          expect([...visited].sort((a, b) => a - b)).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("the scan keeps a version exactly when it is in the report of one of the windows", () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { windows, versions, now, failureStatuses } = materialise(c);
        const set = new Set(failureStatuses);
        const range = { start: (windows[0] as ReportWindow).start, end: windows.at(-1)?.end ?? 0 };
        for (const v of versions) {
          const inSome = windows.some((w) => specMembership(v, w, now, failureStatuses).inReport);
          expect(isInReport(v, range, now, set)).toBe(inSome);
          for (const w of windows) {
            expect(isInReport(v, w, now, set)).toBe(
              specMembership(v, w, now, failureStatuses).inReport,
            );
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("each window's aggregate holds and counts the versions §2 puts in it, and its job rows agree", () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { windows, versions, now, failureStatuses } = materialise(c);
        const days = aggregate(withOneSourceVersions({ versions, windows, now, failureStatuses }));
        windows.forEach((w, i) => {
          const day = days[i];
          if (day === undefined) throw new Error(`no aggregate for window ${i}`);
          const spec = versions.map((v) => ({ v, ...specMembership(v, w, now, failureStatuses) }));
          const inReport = spec.filter((s) => s.inReport);
          const count = (key: "active" | "created" | "failed" | "started") =>
            spec.filter((s) => s[key]).length;
          expect(day.jobs.map((row) => row.version.versionId)).toEqual(
            inReport.map((s) => s.v.versionId).sort((a, b) => a - b),
          );
          expect(day.totals.versions_active).toBe(count("active"));
          expect(day.totals.versions_created).toBe(count("created"));
          expect(day.totals.versions_failed).toBe(count("failed"));
          expect(day.totals.versions_started).toBe(count("started"));
          expect(day.statuses.reduce((s, r) => s + r.versions, 0)).toBe(inReport.length);
          for (const row of day.jobs) {
            const s = specMembership(row.version, w, now, failureStatuses);
            expect(row.overlapMs).toBe(specOverlap(row.version, now, w));
            expect(row.failed).toBe(s.failed);
          }
        });
      }),
      { numRuns: 200 },
    );
  });
});
