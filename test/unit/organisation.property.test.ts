import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OUTCOMES } from "../../src/modelarts/statuses.js";
import type { JobVersion } from "../../src/modelarts/version-record.js";
import { buildDailyReports, buildMonthReport, type SourceInput } from "../../src/report/build.js";
import type { Interval } from "../../src/report/interval.js";
import { DAY as DAY_PERIOD, MONTH } from "../../src/report/period.js";
import { type PriceTable, parsePriceTable } from "../../src/report/prices.js";
import { renderJobsCsv, renderSourcesCsv, renderUsageCsv } from "../../src/report/render-csv.js";
import { renderReportJson } from "../../src/report/render-json.js";
import { addDays, dayWindow, monthWindow } from "../../src/report/time.js";
import type { JobRow, Metrics, PeriodReport, UsageReport } from "../../src/report/types.js";
import { readCsv } from "../helpers/csv.js";
import { oneSourceInput, withOneSource } from "../helpers/one-source.js";
import { specInterval } from "../helpers/report-rule.js";
import { HOUR, version } from "../helpers/versions.js";

/**
 * report.md §10 "Exact over the union": the organisation's report of several sources is the
 * report of one listing holding all their versions (a version is (source, version_id), so the
 * merged listing gets ids made distinct), and each source's rows split the union: their hours
 * and counts add up to it, and their peaks lie between the largest of them and their sum.
 */

const DAY = 24 * HOUR;
const FAILURES = [3, 5, 6, 13];
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"] as const;
const NAMES = ["default", "a", "b", "zz", "north-1", "m2", "ab"] as const;
/** The merged listing's id of source `s`'s version `id`: order-preserving, `s` recoverable. */
const ID_SPACE = 8;
const mergedId = (id: number, s: number) => id * ID_SPACE + s;

const PRICES = parsePriceTable(
  JSON.stringify({
    currency: "EUR",
    flavors: {
      "gpu.a": { per_hour: 1.5, per_gpu_hour: 2 },
      "npu.n": { per_npu_hour: 1 / 3 },
      "mix.m": { per_hour: 0.07, per_gpu_hour: 1.13, per_npu_hour: 0.29 },
    },
  }),
  "test",
);

const arbRow = fc.record({
  // few ids, so that two sources often share one
  versionId: fc.integer({ min: 1, max: 30 }),
  status: fc.constantFrom(0, 3, 5, 6, 8, 9, 10, 11, 12, 13, 15, 99),
  /** Fraction of [first window start − 3 d, last window end + 3 d] where it is created. */
  create: fc.double({ min: 0, max: 1, noNaN: true }),
  // equal waits are common, so that longest_waits has ties (between sources on one id too)
  wait: fc.oneof(fc.integer({ min: -HOUR, max: 2 * DAY }), fc.constantFrom(HOUR, 3 * HOUR)),
  run: fc.oneof(fc.integer({ min: 0, max: 4 * DAY }), fc.constantFrom(HOUR, 2 * HOUR)),
  started: fc.boolean(),
  ended: fc.boolean(),
  gpuNum: fc.integer({ min: 0, max: 8 }),
  npuNum: fc.integer({ min: 0, max: 4 }),
  flavorCode: fc.constantFrom(null, "gpu.a", "npu.n", "mix.m", "x.unpriced"),
  poolId: fc.constantFrom(null, "p", "q"),
});

const arbSource = fc.record({
  rows: fc.uniqueArray(arbRow, { selector: (r) => r.versionId, maxLength: 12 }),
  skipped: fc.nat(4),
  duplicateRows: fc.nat(4),
  reasons: fc.dictionary(fc.constantFrom("bad_time", "missing_id", "bad_flavor"), fc.nat(3)),
  scanned: fc.nat(200),
  pages: fc.integer({ min: 1, max: 9 }),
});

const arbPeriod = fc.oneof(
  fc.record({
    kind: fc.constant("days" as const),
    // any day of 2026 (DST changes included), and a range of up to 3 dates
    first: fc.oneof(
      fc.integer({ min: 0, max: 364 }),
      fc.constantFrom(66, 87, 297, 304), // 03-08, 03-29, 10-25, 11-01
    ),
    n: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant("month" as const), month: fc.integer({ min: 1, max: 12 }) }),
);

const arbCase = fc.record({
  names: fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 5 }),
  sources: fc.array(arbSource, { minLength: 5, maxLength: 5 }),
  /**
   * Whether a source also holds the first source's versions (same ids, same times): ties in
   * every ordering and sources peaking at the same instants.
   */
  copiesFirst: fc.array(
    fc.nat(3).map((n) => n === 0),
    { minLength: 5, maxLength: 5 },
  ),
  period: arbPeriod,
  timeZone: fc.constantFrom(...ZONES),
  priced: fc.boolean(),
  /** `now` relative to the end of the last window: inside it (running jobs end there) or after. */
  nowOffset: fc.integer({ min: -DAY, max: 3 * DAY }),
});
type Case = typeof arbCase extends fc.Arbitrary<infer T> ? T : never;

interface Materialised {
  readonly labels: readonly string[];
  readonly windows: readonly Interval[];
  readonly now: number;
  readonly prices: PriceTable | undefined;
  /** Each source's versions, in configuration order. */
  readonly versions: readonly JobVersion[][];
  readonly sources: SourceInput[];
  /** One listing of every version, ids made distinct by `mergedId`. */
  readonly merged: JobVersion[];
  readonly build: (sources: SourceInput[]) => PeriodReport[];
}

function materialise(c: Case): Materialised {
  const { timeZone } = c;
  const labels =
    c.period.kind === "days"
      ? Array.from({ length: c.period.n }, (_, i) =>
          addDays(addDays("2026-01-01", (c.period as { first: number }).first), i),
        )
      : [`2026-${String(c.period.month).padStart(2, "0")}`];
  const windows = labels.map((l) =>
    c.period.kind === "days" ? dayWindow(l, timeZone) : monthWindow(l, timeZone),
  );
  const first = (windows[0] as Interval).start;
  const last = (windows.at(-1) as Interval).end;
  const from = first - 3 * DAY;
  const span = last + 3 * DAY - from;
  const now = last + c.nowOffset;
  const rowsOf = (s: number) => c.sources[s]?.rows ?? [];
  const withFirst = (s: number) => {
    const firstRows = rowsOf(0);
    const ids = new Set(firstRows.map((r) => r.versionId));
    return [...firstRows, ...rowsOf(s).filter((r) => !ids.has(r.versionId))];
  };
  const versions = c.names.map((_, s) =>
    (s > 0 && c.copiesFirst[s] ? withFirst(s) : rowsOf(s)).map((r) => {
      const create = from + Math.floor(r.create * span);
      const start = r.started ? create + Math.max(0, r.wait) : 0;
      return version({
        versionId: r.versionId,
        status: r.status,
        createTime: create,
        startTime: start,
        // not ended: still running (8, 9, 15 end at `now`) or known by its duration only
        endTime: r.started && r.ended ? start + r.run : 0,
        duration: r.started && !r.ended ? r.run : 0,
        gpuNum: r.gpuNum,
        npuNum: r.npuNum,
        flavorCode: r.flavorCode,
        poolId: r.poolId,
      });
    }),
  );
  const sources: SourceInput[] = c.names.map((name, s) => {
    const a = c.sources[s] ?? never();
    return {
      info: {
        name,
        endpoint: `https://modelarts.${name}.example.com`,
        project_id: `proj-${s}`,
        workspace_id: s === 0 ? null : `ws-${s}`,
        pool_id: null,
        versions_scanned: a.scanned,
        pages: a.pages,
        total_count_first: a.scanned,
        total_count_last: a.scanned + s,
      },
      anomalies: { skipped: a.skipped, duplicate_rows: a.duplicateRows, reasons: a.reasons },
      versions: versions[s] ?? never(),
    };
  });
  const merged = versions.flatMap((vs, s) =>
    vs.map((v) => ({ ...v, versionId: mergedId(v.versionId, s) })),
  );
  const prices = c.priced ? PRICES : undefined;
  const common = { timeZone, now, failureStatuses: FAILURES, prices };
  const build = (input: SourceInput[]): PeriodReport[] =>
    c.period.kind === "days"
      ? buildDailyReports({ ...common, sources: input, dates: labels })
      : [buildMonthReport({ ...common, sources: input, month: labels[0] ?? never() })];
  return { labels, windows, now, prices, versions, sources, merged, build };
}

function never(): never {
  throw new Error("unreachable");
}

const HOURS = ["gpu_hours", "npu_hours", "run_hours", "wait_hours"] as const;
const COUNTS = [
  "versions_active",
  "versions_created",
  "versions_failed",
  "versions_started",
  "gpus",
  "npus",
] as const;

function expectClose(actual: number, expected: number, what: string): void {
  const tolerance = 1e-9 * Math.max(1, Math.abs(actual), Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tolerance)) expect.fail(`${what}: ${actual} ≠ ${expected}`);
}

/**
 * The parts of a whole add up to it: counts exactly, hours within float tolerance, cost within
 * the rounding of each part to cents, peaks between the largest part's and the parts' sum.
 */
function expectPartsOf(whole: Metrics, parts: readonly Metrics[], what: string): void {
  const sum = (f: (m: Metrics) => number) => parts.reduce((s, m) => s + f(m), 0);
  for (const k of COUNTS)
    expect(
      sum((m) => m[k]),
      `${what} Σ ${k}`,
    ).toBe(whole[k]);
  for (const code of Object.keys(whole.failures_by_status)) {
    expect(
      sum((m) => m.failures_by_status[code] ?? 0),
      `${what} Σ failures ${code}`,
    ).toBe(whole.failures_by_status[code]);
  }
  for (const k of HOURS)
    expectClose(
      sum((m) => m[k]),
      whole[k],
      `${what} Σ ${k}`,
    );
  for (const outcome of OUTCOMES) {
    for (const k of ["gpu_hours_by_outcome", "npu_hours_by_outcome"] as const) {
      expectClose(
        sum((m) => m[k][outcome]),
        whole[k][outcome],
        `${what} Σ ${k} ${outcome}`,
      );
    }
  }
  expect(Math.max(0, ...parts.map((m) => m.max_wait_hours)), `${what} max_wait_hours`).toBe(
    whole.max_wait_hours,
  );
  if (whole.cost === null) {
    expect(
      parts.every((m) => m.cost === null),
      `${what}: cost null throughout`,
    ).toBe(true);
  } else {
    // each figure is its exact sum rounded to cents: the parts' rounded sum is off by at most
    // half a cent per part, and half a cent for the whole
    const partsCost = sum((m) => m.cost ?? Number.NaN);
    expect(Math.abs(partsCost - whole.cost), `${what} Σ cost`).toBeLessThanOrEqual(
      0.005 * (parts.length + 1) + 1e-9,
    );
  }
  for (const k of ["peak_gpus", "peak_npus"] as const) {
    expect(whole[k], `${what} ${k} ≥ each part's`).toBeGreaterThanOrEqual(
      Math.max(0, ...parts.map((m) => m[k])),
    );
    expect(whole[k], `${what} ${k} ≤ Σ parts'`).toBeLessThanOrEqual(sum((m) => m[k]));
  }
}

/** The most GPUs and NPUs held at one instant of `w` by `vs`, by brute force over §2. */
function specPeaks(vs: readonly JobVersion[], now: number, w: Interval): [number, number] {
  const runs = vs.flatMap((v) => {
    const i = specInterval(v, now);
    if (i === null) return [];
    const s = Math.max(i.start, w.start);
    const e = Math.min(i.end, w.end);
    return e > s ? [{ s, e, gpus: v.gpuNum, npus: v.npuNum }] : [];
  });
  let gpus = 0;
  let npus = 0;
  // a peak is reached when some run starts; runs are half-open [s, e)
  for (const { s: t } of runs) {
    const held = runs.filter((r) => r.s <= t && t < r.e);
    gpus = Math.max(
      gpus,
      held.reduce((n, r) => n + r.gpus, 0),
    );
    npus = Math.max(
      npus,
      held.reduce((n, r) => n + r.npus, 0),
    );
  }
  return [gpus, npus];
}

const pairKey = (r: { flavor_code: string | null; pool_id: string | null }) =>
  JSON.stringify([r.flavor_code, r.pool_id]);

/** A job row as a comparable record, its source and id given (the merged listing's recovered). */
function jobRecord(row: JobRow, source: string, versionId: number) {
  const { version: v, overlapMs, failed, waitMs, cost } = row;
  return { ...v, versionId, source, overlapMs, failed, waitMs, cost };
}

const byKeys = (a: { source: string; versionId: number }, b: typeof a) =>
  a.source < b.source ? -1 : a.source > b.source ? 1 : a.versionId - b.versionId;

/** The union's figures of the organisation's report are the one listing's. */
function expectSameUnion(org: PeriodReport, one: PeriodReport, names: readonly string[]) {
  const r = org.report;
  const o = one.report;
  expect(r.label).toBe(o.label);
  expect(r.totals).toEqual(o.totals);
  expect(r.by_flavor).toEqual(o.by_flavor);
  expect(r.by_pool).toEqual(o.by_pool);
  expect(r.by_flavor_pool).toEqual(o.by_flavor_pool);
  expect(r.statuses).toEqual(o.statuses);
  expect(r.previous).toEqual(o.previous);
  expect(r.anomalies.unpriced_flavors).toEqual(o.anomalies.unpriced_flavors);
  expect(r.longest_waits).toEqual(
    // Ties between sources on one id: by source, as the merged id (id × 8 + source) orders them.
    o.longest_waits.map((w) => ({
      ...w,
      source: names[w.version_id % ID_SPACE] ?? never(),
      version_id: Math.floor(w.version_id / ID_SPACE),
    })),
  );
  // jobs as sets of rows, the merged listing's ids mapped back to (source, id)
  const orgJobs = org.jobs.map((row) => jobRecord(row, row.source, row.version.versionId));
  const oneJobs = one.jobs.map((row) => {
    const id = row.version.versionId;
    return jobRecord(row, names[id % ID_SPACE] ?? never(), Math.floor(id / ID_SPACE));
  });
  expect([...orgJobs].sort(byKeys)).toEqual([...oneJobs].sort(byKeys));
  // and the organisation's jobs are ordered by source (configuration order), then id
  const order = orgJobs.map((j) => [names.indexOf(j.source), j.versionId] as const);
  const sorted = [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  expect(order).toEqual(sorted);
}

/** Each source's rows split the union, and are ordered as §10 says. */
function expectSourcesSplitUnion(r: UsageReport, names: readonly string[]) {
  expect(r.sources.map((s) => s.name)).toEqual(names);
  expect([...r.by_source.map((s) => s.source)].sort()).toEqual([...names].sort());
  expectPartsOf(r.totals, r.by_source, "totals vs by_source");
  expectPartsOf(r.totals, r.by_source_flavor_pool, "totals vs by_source_flavor_pool");
  for (const pair of r.by_flavor_pool) {
    const parts = r.by_source_flavor_pool.filter((p) => pairKey(p) === pairKey(pair));
    expect(parts.length, `${pairKey(pair)} has source rows`).toBeGreaterThan(0);
    expectPartsOf(pair, parts, `by_flavor_pool ${pairKey(pair)}`);
  }
  for (const row of r.by_source) {
    const parts = r.by_source_flavor_pool.filter((p) => p.source === row.source);
    expectPartsOf(row, parts, `by_source ${row.source}`);
  }
  const keyOrder = (a: string | null, b: string | null) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1;
  const ordered = <R extends Metrics>(rows: readonly R[], keys: (r: R) => (string | null)[]) =>
    [...rows].sort((a, b) => {
      if (a.gpu_hours !== b.gpu_hours) return b.gpu_hours - a.gpu_hours;
      const ka = keys(a);
      const kb = keys(b);
      for (let i = 0; i < ka.length; i++) {
        const c = keyOrder(ka[i] ?? null, kb[i] ?? null);
        if (c !== 0) return c;
      }
      return 0;
    });
  expect(r.by_source).toEqual(ordered(r.by_source, (x) => [x.source]));
  expect(r.by_source_flavor_pool).toEqual(
    ordered(r.by_source_flavor_pool, (x) => [x.source, x.flavor_code, x.pool_id]),
  );
}

describe("the organisation's report is the report of the union", () => {
  it("equals one listing of all the sources' versions, for days, ranges and months", () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const m = materialise(c);
        const org = m.build(m.sources);
        const one = m.build(oneSourceInput(m.merged, org[0]?.report.source ?? never()).sources);
        expect(org.map((d) => d.report.label)).toEqual(m.labels);
        org.forEach((day, i) => {
          expectSameUnion(day, one[i] ?? never(), c.names);
        });
      }),
      { seed: 20_261_120, numRuns: 300 },
    );
  });

  it("splits into its sources: sums of hours, counts and cost, peaks between max and sum", () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const m = materialise(c);
        m.build(m.sources).forEach((day, i) => {
          const r = day.report;
          const w = m.windows[i] ?? never();
          expectSourcesSplitUnion(r, c.names);
          // the peaks against §2 by brute force: the union's, and each source's own
          const [gpus, npus] = specPeaks(m.versions.flat(), m.now, w);
          expect([r.totals.peak_gpus, r.totals.peak_npus]).toEqual([gpus, npus]);
          c.names.forEach((name, s) => {
            const row = r.by_source.find((x) => x.source === name) ?? never();
            expect([row.peak_gpus, row.peak_npus], `peaks of ${name}`).toEqual(
              specPeaks(m.versions[s] ?? never(), m.now, w),
            );
          });
          for (const pair of r.by_flavor_pool) {
            const of = m.versions
              .flat()
              .filter(
                (v) => pairKey({ flavor_code: v.flavorCode, pool_id: v.poolId }) === pairKey(pair),
              );
            expect([pair.peak_gpus, pair.peak_npus], `peaks of ${pairKey(pair)}`).toEqual(
              specPeaks(of, m.now, w),
            );
          }
          // source block: nulls and sums with several sources, the listing with one
          expect(r.source.versions_scanned).toBe(
            r.sources.reduce((n, s) => n + s.versions_scanned, 0),
          );
          expect(r.source.pages).toBe(r.sources.reduce((n, s) => n + s.pages, 0));
          if (c.names.length > 1) expect(r.source.endpoint).toBeNull();
          expect(r.anomalies.skipped).toBe(
            Object.values(r.anomalies.by_source ?? {}).reduce((n, a) => n + a.skipped, 0),
          );
          // sources.csv: a row per source×flavor×pool; jobs.csv: the source last
          const period = c.period.kind === "days" ? DAY_PERIOD : MONTH;
          expect(readCsv(renderSourcesCsv(r))).toHaveLength(r.by_source_flavor_pool.length + 1);
          const jobs = readCsv(renderJobsCsv(r.label, day.jobs, period)).slice(1);
          expect(jobs.map((row) => row.at(-1))).toEqual(day.jobs.map((j) => j.source));
        });
      }),
      { seed: 20_261_121, numRuns: 300 },
    );
  });
});

describe("one source", () => {
  it("gives the bytes of the one-listing input, and with another name only the name differs", () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const m = materialise({ ...c, names: c.names.slice(0, 1) });
        const [org] = [m.sources[0] ?? never()];
        const one = withOneSource({
          versions: org.versions,
          source: {
            endpoint: org.info.endpoint,
            project_id: org.info.project_id,
            workspace_id: org.info.workspace_id,
            pool_id: org.info.pool_id,
            versions_scanned: org.info.versions_scanned,
            pages: org.info.pages,
          },
          anomalies: org.anomalies,
        }).sources;
        // the helper sets both total counts to versions_scanned
        const asOrg: SourceInput[] = [
          { ...org, info: { ...org.info, total_count_last: org.info.total_count_first } },
        ];
        const period = c.period.kind === "days" ? DAY_PERIOD : MONTH;
        const built = m.build(asOrg);
        const viaHelper = m.build(one);
        built.forEach((day, i) => {
          const ref = viaHelper[i] ?? never();
          expect(renderUsageCsv(day.report)).toBe(renderUsageCsv(ref.report));
          const json = renderReportJson(day.report);
          const refJson = renderReportJson(ref.report);
          const name = org.info.name;
          if (name === "default") {
            expect(json).toBe(refJson);
            expect(renderSourcesCsv(day.report)).toBe(renderSourcesCsv(ref.report));
            expect(renderJobsCsv(day.report.label, day.jobs, period)).toBe(
              renderJobsCsv(ref.report.label, ref.jobs, period),
            );
          } else {
            // the name is in sources[0], by_source, by_source_flavor_pool, anomalies.by_source
            const renamed = JSON.parse(refJson);
            renamed.sources[0].name = name;
            for (const row of [...renamed.by_source, ...renamed.by_source_flavor_pool])
              row.source = name;
            renamed.anomalies.by_source = { [name]: renamed.anomalies.by_source.default };
            expect(JSON.parse(json)).toEqual(renamed);
          }
        });
      }),
      { seed: 20_261_122, numRuns: 100 },
    );
  });
});
