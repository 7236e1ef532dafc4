import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OUTCOMES } from "../../src/modelarts/statuses.js";
import {
  csvText,
  formatCents,
  formatHours,
  formatHoursFixed,
  isoUtc,
  roundCents,
  roundHours,
} from "../../src/report/format.js";
import { DAY } from "../../src/report/period.js";
import {
  JOBS_CSV_HEADER,
  renderJobsCsv,
  renderUsageCsv,
  USAGE_CSV_HEADER,
} from "../../src/report/render-csv.js";
import { renderReportJson } from "../../src/report/render-json.js";
import type { JobRow, Metrics } from "../../src/report/types.js";
import { readCsv } from "../helpers/csv.js";
import { makeMetrics, makeReport } from "../helpers/report-fixture.js";
import { HOUR, version } from "../helpers/versions.js";

/**
 * The renderers on hand-built reports: what the bytes of report.json, usage.csv and jobs.csv
 * and the page are for given figures (report.md §3, §5, §7). What the figures should be is the
 * aggregation's business and is tested there.
 */

const FORMULA_START = /^[=+\-@\t\r\n]/;
/** What a text cell holds for `s`: `s` itself, behind a `'` when a spreadsheet would run it. */
const expectedCell = (s: string | null) => (s === null ? "" : FORMULA_START.test(s) ? `'${s}` : s);

const D = Date.UTC(2026, 10, 27);

function job(partial: Partial<JobRow> & { id: number; name?: string | null }): JobRow {
  const { id, name, ...rest } = partial;
  return {
    source: "default",
    version: version({
      versionId: id,
      versionName: name === undefined ? `job-${id}` : name,
      createTime: D,
      startTime: D + HOUR,
      endTime: D + 2 * HOUR,
      flavorCode: "modelarts.vm.gpu.v100",
      poolId: "pool-a",
      gpuNum: 1,
    }),
    overlapMs: HOUR,
    failed: false,
    waitMs: HOUR,
    cost: null,
    ...rest,
  };
}

describe("hours, times and text cells", () => {
  it("rounds hours to 6 decimals, half away from zero, through float noise", () => {
    expect(roundHours(1 / 3)).toBe(0.333333);
    expect(roundHours(2 / 3)).toBe(0.666667);
    expect(roundHours(0.1 + 0.2)).toBe(0.3);
    expect(roundHours(1.0000005)).toBe(1.000001);
    expect(roundHours(0.0000005)).toBe(0.000001);
    expect(roundHours(-0.0000005)).toBe(-0.000001);
    expect(roundHours(0.00000049)).toBe(0);
    expect(roundHours(1e-7)).toBe(0);
    expect(Object.is(roundHours(-1e-9), 0)).toBe(true); // never -0
  });

  it("writes hours as plain decimals, never with an exponent", () => {
    expect(formatHours(0)).toBe("0");
    expect(formatHours(1e-7)).toBe("0");
    expect(formatHours(5e-7)).toBe("0.000001");
    expect(formatHours(0.000001)).toBe("0.000001");
    expect(formatHours(12.5)).toBe("12.5");
    expect(formatHours(123456.7654321)).toBe("123456.765432");
    expect(formatHours(3e21)).toBe("3000000000000000000000");
    fc.assert(
      fc.property(fc.double({ min: -1e25, max: 1e25, noNaN: true }), (x) => {
        const text = formatHours(x);
        expect(text).toMatch(/^-?\d+(\.\d{1,6})?$/);
        expect(text).not.toMatch(/\.\d*0$/); // trailing zeros dropped
      }),
    );
  });

  it("writes CSV hours with six decimals and money with two, always, the same values", () => {
    expect(formatHoursFixed(0)).toBe("0.000000");
    expect(formatHoursFixed(1e-7)).toBe("0.000000");
    expect(formatHoursFixed(-1e-9)).toBe("0.000000"); // never -0.000000
    expect(formatHoursFixed(5e-7)).toBe("0.000001");
    expect(formatHoursFixed(12)).toBe("12.000000");
    expect(formatHoursFixed(12.5)).toBe("12.500000");
    expect(formatHoursFixed(1.0000005)).toBe("1.000001");
    expect(formatHoursFixed(123456.7654321)).toBe("123456.765432");
    expect(formatHoursFixed(3e21)).toBe("3000000000000000000000.000000");
    expect(formatCents(0)).toBe("0.00");
    expect(formatCents(200)).toBe("200.00");
    expect(formatCents(0.865)).toBe("0.87"); // 0.8649999999999999 as a double
    expect(formatCents(16.5)).toBe("16.50");
    expect(formatCents(3e21)).toBe("3000000000000000000000.00");
    fc.assert(
      fc.property(fc.double({ min: -1e25, max: 1e25, noNaN: true }), (x) => {
        const hours = formatHoursFixed(x);
        expect(hours).toMatch(/^-?\d+\.\d{6}$/);
        // the figure the JSON and the page show, only with its trailing zeros kept
        expect(Number(hours)).toBe(Number(formatHours(x)));
        expect(Number(hours)).toBe(roundHours(x));
        const cents = formatCents(x);
        expect(cents).toMatch(/^-?\d+\.\d{2}$/);
        expect(Number(cents)).toBe(roundCents(x));
      }),
    );
  });

  it("writes times as ISO 8601 in UTC, empty for the API's 0", () => {
    expect(isoUtc(Date.UTC(2026, 10, 27, 8))).toBe("2026-11-27T08:00:00.000Z");
    expect(isoUtc(0)).toBe("");
    // past what a Date holds (year 275760): written as is rather than failing the file
    expect(isoUtc(Number.MAX_SAFE_INTEGER)).toBe(String(Number.MAX_SAFE_INTEGER));
  });

  it("puts a quote before text a spreadsheet would run as a formula", () => {
    for (const s of ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "\nx"])
      expect(csvText(s)).toBe(`'${s}`);
    for (const s of ["a=b", "1-2", "'=x", " =x", ""]) expect(csvText(s)).toBe(s);
    expect(csvText(null)).toBe("");
  });
});

describe("report.json", () => {
  const thirds = makeMetrics({
    gpu_hours: 1 / 3,
    npu_hours: 2 / 3,
    run_hours: 1e-7,
    wait_hours: 5e-7,
    max_wait_hours: 123456.7654321,
  });
  const report = makeReport({
    totals: thirds,
    by_flavor: [{ flavor_code: null, ...thirds }],
    by_pool: [{ pool_id: null, ...thirds }],
    by_flavor_pool: [{ flavor_code: null, pool_id: null, ...thirds }],
    statuses: [{ status: 10, name: "JOBSTAT_COMPLETED", versions: 1 }],
  });

  it("writes the keys in the order of the spec, the §9 additions after them, §10's beside their kin", () => {
    const parsed = JSON.parse(renderReportJson(report)) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      "schema_version",
      "report_date",
      "timezone",
      "window",
      "generated_at",
      "source",
      "sources",
      "failure_statuses",
      "totals",
      "by_flavor",
      "by_pool",
      "by_flavor_pool",
      "by_source",
      "by_source_flavor_pool",
      "statuses",
      "anomalies",
      "currency",
      "previous",
      "longest_waits",
      "budgets",
    ]);
    expect(Object.keys(parsed.window as object)).toEqual(["start", "end"]);
    expect(Object.keys(parsed.source as object)).toEqual([
      "endpoint",
      "project_id",
      "workspace_id",
      "pool_id",
      "versions_scanned",
      "pages",
    ]);
    const metricKeys = [
      "versions_active",
      "versions_created",
      "versions_failed",
      "failures_by_status",
      "gpus",
      "npus",
      "peak_gpus",
      "peak_npus",
      "gpu_hours",
      "npu_hours",
      "run_hours",
      "versions_started",
      "wait_hours",
      "max_wait_hours",
      "gpu_hours_by_outcome",
      "npu_hours_by_outcome",
      "cost",
    ];
    expect(Object.keys(parsed.totals as object)).toEqual(metricKeys);
    const [flavor] = parsed.by_flavor as object[];
    const [pool] = parsed.by_pool as object[];
    const [pair] = parsed.by_flavor_pool as object[];
    expect(Object.keys(flavor ?? {})).toEqual(["flavor_code", ...metricKeys]);
    expect(Object.keys(pool ?? {})).toEqual(["pool_id", ...metricKeys]);
    expect(Object.keys(pair ?? {})).toEqual(["flavor_code", "pool_id", ...metricKeys]);
    expect(Object.keys((parsed.totals as Metrics).gpu_hours_by_outcome)).toEqual([...OUTCOMES]);
  });

  it("rounds every hours figure to 6 decimals and never writes an exponent", () => {
    const text = renderReportJson(report);
    const totals = (JSON.parse(text) as { totals: Metrics }).totals;
    expect(totals.gpu_hours).toBe(0.333333);
    expect(totals.npu_hours).toBe(0.666667);
    expect(totals.run_hours).toBe(0);
    expect(totals.wait_hours).toBe(0.000001);
    expect(totals.max_wait_hours).toBe(123456.765432);
    expect(totals.gpu_hours_by_outcome.completed).toBe(0.333333);
    expect(text).toContain('"gpu_hours": 0.333333,');
    expect(text).toContain('"wait_hours": 0.000001,');
    expect(text).not.toMatch(/\d[eE][+-]?\d/);
  });

  it("writes groups without a flavor or pool as null", () => {
    const parsed = JSON.parse(renderReportJson(report)) as {
      by_flavor: { flavor_code: unknown }[];
      by_pool: { pool_id: unknown }[];
      by_flavor_pool: { flavor_code: unknown; pool_id: unknown }[];
    };
    expect(parsed.by_flavor[0]?.flavor_code).toBeNull();
    expect(parsed.by_pool[0]?.pool_id).toBeNull();
    expect(parsed.by_flavor_pool[0]).toMatchObject({ flavor_code: null, pool_id: null });
  });

  it("is indented by two spaces, ends with a newline and leaves the report as it was", () => {
    const before = structuredClone(report);
    const text = renderReportJson(report);
    expect(text.startsWith('{\n  "schema_version": 1,\n  "report_date": "2026-11-27",\n')).toBe(
      true,
    );
    expect(text.endsWith("}\n")).toBe(true);
    expect(renderReportJson(report)).toBe(text);
    expect(report).toEqual(before);
  });
});

describe("usage.csv", () => {
  const report = makeReport({
    by_flavor_pool: [
      {
        flavor_code: "modelarts.vm.gpu.v100",
        pool_id: "pool-a",
        ...makeMetrics({
          versions_active: 3,
          versions_created: 2,
          versions_failed: 1,
          gpus: 8,
          peak_gpus: 8,
          gpu_hours: 12.5,
          run_hours: 3.125,
          versions_started: 2,
          wait_hours: 0.5,
          max_wait_hours: 0.25,
        }),
      },
      {
        flavor_code: null,
        pool_id: null,
        ...makeMetrics({
          versions_active: 1,
          npus: 2,
          peak_npus: 2,
          gpu_hours: 2 / 3,
          npu_hours: 1 / 3,
          run_hours: 1e-7,
          cost: 1.5,
        }),
      },
    ],
  });

  it("writes exactly these bytes: header, one row per flavor×pool, empty cells for null", () => {
    const header =
      "report_date,flavor_code,pool_id,versions_active,versions_created,versions_failed,gpus,npus,peak_gpus,peak_npus,gpu_hours,npu_hours,run_hours," +
      "versions_started,wait_hours,max_wait_hours,gpu_hours_completed,gpu_hours_failed,gpu_hours_lost,gpu_hours_cancelled,gpu_hours_running,gpu_hours_unknown,cost";
    expect(renderUsageCsv(report)).toBe(
      `${header}\r\n` +
        "2026-11-27,modelarts.vm.gpu.v100,pool-a,3,2,1,8,0,8,0,12.500000,0.000000,3.125000,2,0.500000,0.250000,12.500000,0.000000,0.000000,0.000000,0.000000,0.000000,\r\n" +
        "2026-11-27,,,1,0,0,0,2,0,2,0.666667,0.333333,0.000000,0,0.000000,0.000000,0.666667,0.000000,0.000000,0.000000,0.000000,0.000000,1.50\r\n",
    );
    expect(USAGE_CSV_HEADER.join(",")).toBe(header);
  });

  it("has no byte-order mark and a CRLF after every row, the last included", () => {
    const bytes = Buffer.from(renderUsageCsv(report), "utf8");
    expect([...bytes.subarray(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString("utf8");
    expect(text.split("\r\n")).toHaveLength(4); // 3 rows, then nothing after the last CRLF
    expect(text.replaceAll("\r\n", "")).not.toMatch(/[\r\n]/);
  });

  it("writes only the header for a day without usage", () => {
    expect(renderUsageCsv(makeReport())).toBe(`${USAGE_CSV_HEADER.join(",")}\r\n`);
  });

  it("round-trips any flavor code and pool id, neutralised where needed", () => {
    const key = fc.option(fc.string({ unit: "binary", minLength: 1, maxLength: 30 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, key), { minLength: 1, maxLength: 4 }), (keys) => {
        const rows = keys.map(([flavor_code, pool_id]) => ({
          flavor_code,
          pool_id,
          ...makeMetrics(),
        }));
        const parsed = readCsv(renderUsageCsv(makeReport({ by_flavor_pool: rows })));
        expect(parsed.slice(1).map((r) => [r[1], r[2]])).toEqual(
          keys.map(([f, p]) => [expectedCell(f), expectedCell(p)]),
        );
      }),
    );
  });
});

describe("jobs.csv", () => {
  const HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+1",
    "-1",
    "@x",
    "\tleading tab",
    'a, "quoted"\nname',
    "<script>alert(1)</script>",
  ];

  it("quotes and neutralises hostile job names and reads back to them", () => {
    const jobs = HOSTILE.map((name, i) => job({ id: i + 1, name }));
    const text = renderJobsCsv("2026-11-27", jobs, DAY);
    const rows = readCsv(text);
    expect(rows[0]).toEqual([...JOBS_CSV_HEADER]);
    const names = rows.slice(1).map((r) => r[2]);
    expect(names).toEqual([
      "'=cmd|' /C calc'!A0",
      "'+1",
      "'-1",
      "'@x",
      "'\tleading tab",
      'a, "quoted"\nname',
      "<script>alert(1)</script>",
    ]);
    // the name with a comma, quotes and a newline is one quoted field with its quotes doubled
    expect(text).toContain('"a, ""quoted""\nname"');
    for (const r of rows) expect(r).toHaveLength(JOBS_CSV_HEADER.length);
  });

  it("writes times as ISO UTC, empty when 0, and hours from the overlap", () => {
    const jobs = [
      job({
        id: 7,
        version: version({
          versionId: 7,
          versionName: "train",
          status: 3,
          createTime: Date.UTC(2026, 10, 27, 8),
          flavorCode: null,
          poolId: null,
          gpuNum: 2,
          npuNum: 3,
        }),
        overlapMs: HOUR / 3,
        failed: true,
        waitMs: null,
        cost: 1.5,
      }),
      job({ id: 2, overlapMs: 1.5 * HOUR }),
    ];
    const rows = readCsv(renderJobsCsv("2026-11-27", jobs, DAY));
    expect(rows[1]).toEqual([
      "2026-11-27",
      "7",
      "train",
      "3",
      "JOBSTAT_IMAGE_FAILED",
      "",
      "",
      "2",
      "3",
      "2026-11-27T08:00:00.000Z",
      "",
      "",
      "0.333333",
      "0.666667",
      "1.000000",
      "true",
      "failed",
      "",
      "1.50",
      "default",
    ]);
    // in the order given (the caller sorts by version id)
    expect(rows[2]?.slice(0, 3)).toEqual(["2026-11-27", "2", "job-2"]);
    expect(rows[2]?.slice(9, 16)).toEqual([
      "2026-11-27T00:00:00.000Z",
      "2026-11-27T01:00:00.000Z",
      "2026-11-27T02:00:00.000Z",
      "1.500000",
      "1.500000",
      "0.000000",
      "false",
    ]);
  });

  it("writes a file of many batches as one: one header, every row once and in order, CRLF", () => {
    // 4 501 rows: more than two of the renderer's batches of rows, and one left over; a name
    // with a newline at a batch's edge stays one quoted field.
    const jobs = Array.from({ length: 4_501 }, (_, i) =>
      job({ id: i + 1, name: i === 1_999 || i === 2_000 ? `edge\n${i}` : `job-${i + 1}` }),
    );
    const text = renderJobsCsv("2026-11-27", jobs, DAY);
    const rows = readCsv(text);
    expect(rows).toHaveLength(4_502);
    expect(rows[0]).toEqual([...JOBS_CSV_HEADER]);
    expect(rows.slice(1).map((r) => r[1])).toEqual(jobs.map((j) => String(j.version.versionId)));
    expect(rows[2000]?.[2]).toBe("edge\n1999");
    expect(rows[2001]?.[2]).toBe("edge\n2000");
    expect(text.endsWith("\r\n")).toBe(true);
    // every line break outside a quoted name is CRLF
    expect(text.replace(/"edge\n\d+"/g, "").match(/(?<!\r)\n/g)).toBeNull();
  });

  it("writes a header row only for no jobs, with CRLF", () => {
    expect(renderJobsCsv("2026-11-27", [], DAY)).toBe(`${JOBS_CSV_HEADER.join(",")}\r\n`);
  });

  it("round-trips any job name, flavor code and pool id", () => {
    const text = fc.option(fc.string({ unit: "binary", maxLength: 30 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(text, text, text), { minLength: 1, maxLength: 4 }), (cells) => {
        const jobs = cells.map(([name, flavorCode, poolId], i) =>
          job({
            id: i + 1,
            version: version({ versionId: i + 1, versionName: name, flavorCode, poolId }),
          }),
        );
        const rows = readCsv(renderJobsCsv("2026-11-27", jobs, DAY));
        expect(rows.slice(1).map((r) => [r[2], r[5], r[6]])).toEqual(
          cells.map((c) => c.map(expectedCell)),
        );
      }),
    );
  });
});
