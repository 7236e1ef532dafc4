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
import type { HistoryDay } from "../../src/report/history-day.js";
import { escapeHtml } from "../../src/report/html.js";
import { DAY } from "../../src/report/period.js";
import {
  JOBS_CSV_HEADER,
  renderJobsCsv,
  renderUsageCsv,
  USAGE_CSV_HEADER,
} from "../../src/report/render-csv.js";
import { renderReportHtml } from "../../src/report/render-html.js";
import { renderReportJson } from "../../src/report/render-json.js";
import { addDays, datesOfMonth } from "../../src/report/time.js";
import type { JobRow, Metrics } from "../../src/report/types.js";
import { readCsv } from "../helpers/csv.js";
import { makeHistoryDay, makeMetrics, makeReport } from "../helpers/report-fixture.js";
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

/** The `<svg>…</svg>` elements of a page. */
const svgs = (html: string) => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

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

  it("writes the keys in the order of the spec, the §9 additions after them", () => {
    const parsed = JSON.parse(renderReportJson(report)) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual([
      "schema_version",
      "report_date",
      "timezone",
      "window",
      "generated_at",
      "source",
      "failure_statuses",
      "totals",
      "by_flavor",
      "by_pool",
      "by_flavor_pool",
      "statuses",
      "anomalies",
      "currency",
      "previous",
      "longest_waits",
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

describe("the report page", () => {
  const HOSTILE_FLAVOR = "<script>alert(1)</script>";
  const flavors = [HOSTILE_FLAVOR, null, ...Array.from({ length: 18 }, (_, i) => `flavor-${i}`)];
  const report = makeReport({
    totals: makeMetrics({
      versions_active: 20,
      versions_failed: 2,
      failures_by_status: { "3": 0, "5": 2, "6": 0, "13": 0 },
      gpu_hours: 1 / 3,
      npu_hours: 5,
    }),
    by_flavor: flavors.map((flavor_code, i) => ({
      flavor_code,
      ...makeMetrics({ versions_active: 1, gpu_hours: 100 - i, npu_hours: i === 1 ? 4 : 0 }),
    })),
    by_pool: [
      { pool_id: null, ...makeMetrics({ gpu_hours: 3, npu_hours: 2 }) },
      { pool_id: `pool-"a"&'b'`, ...makeMetrics({ gpu_hours: 1 }) },
    ],
    by_flavor_pool: [
      { flavor_code: HOSTILE_FLAVOR, pool_id: null, ...makeMetrics({ gpu_hours: 3 }) },
    ],
    statuses: [{ status: 5, name: "JOBSTAT_SUBMIT_FAILED", versions: 2 }],
    anomalies: { skipped: 1, duplicate_rows: 0, reasons: { "record: <b>not</b> an object": 1 } },
  });
  const html = renderReportHtml(report, {
    csvHref: "/reports/2026-11-27/files/usage.csv?a=1&b=2",
    jsonHref: "/reports/2026-11-27/files/report.json",
  });

  it("is one self-contained HTML5 document titled with the date and time zone", () => {
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<meta name="viewport" content="width=device-width,initial-scale=1">');
    expect(html).toContain("<title>ModelArts usage 2026-11-27 (UTC)</title>");
    expect(html.match(/<style>/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|url\(|@import|src=/i);
    // the only address on the page is the endpoint, as text
    const endpoint = escapeHtml(report.source.endpoint);
    expect(html).toContain(`Source ${endpoint}`);
    expect(html.replaceAll(endpoint, "")).not.toMatch(/https?:\/\//i);
    expect(html).toContain('href="/reports/2026-11-27/files/usage.csv?a=1&amp;b=2"');
  });

  it("escapes a flavor code everywhere, in the tables and in the charts' text", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const flavorChart = svgs(html)[0] ?? "";
    expect(flavorChart).toContain("&lt;script&gt;");
    expect(html).not.toContain(`pool-"a"`);
    expect(html).toContain("pool-&quot;a&quot;&amp;&#39;b&#39;");
    expect(html).toContain("record: &lt;b&gt;not&lt;/b&gt; an object: 1");
  });

  it("draws GPU- and NPU-hours by flavor and by pool as four SVG bar charts", () => {
    expect(svgs(html)).toHaveLength(4);
    const [, gpuByPool, npuByFlavor] = svgs(html);
    expect(gpuByPool).toContain(">(public pool)</text>");
    expect(npuByFlavor).toContain(">(none)</text>");
    expect(npuByFlavor).toContain(">4</text>");
    expect(npuByFlavor?.match(/<g /g)).toHaveLength(1); // only groups with NPU-hours
  });

  it("shows the 15 largest groups and sums the rest as others", () => {
    const gpuByFlavor = svgs(html)[0] ?? "";
    expect(gpuByFlavor.match(/<g /g)).toHaveLength(16);
    // groups 16 to 20 have 85 + 84 + 83 + 82 + 81 GPU-hours
    expect(gpuByFlavor).toMatch(/>5 others<\/text>.*?>415<\/text>/);
    expect(gpuByFlavor).toContain(">flavor-12</text>");
    expect(gpuByFlavor).not.toContain(">flavor-13</text>");
  });

  it("says so instead of drawing an empty chart", () => {
    const empty = renderReportHtml(makeReport());
    expect(svgs(empty)).toHaveLength(0);
    expect(empty).toContain("No GPU-hours this day");
    expect(empty).toContain("No NPU-hours this day");
    expect(empty).toContain("Nothing this day.");
  });

  it("writes hours as in the files in the tables, and failures by status with their names", () => {
    expect(html).toContain(
      '<div class="v" title="0.333333">0.3</div><div class="l">GPU-hours</div>',
    );
    expect(html).toContain("5 JOBSTAT_SUBMIT_FAILED: <b>2</b>");
    expect(html).toContain("1 bad record skipped");
  });

  it("rounds the cards for reading, with the exact figure in a title; the tables stay exact", () => {
    const page = renderReportHtml(
      makeReport({
        totals: makeMetrics({
          gpu_hours: 2273.683392,
          npu_hours: 0.04,
          run_hours: 12,
          versions_active: 12345,
          cost: 1234.5,
        }),
        currency: "EUR",
        by_flavor: [{ flavor_code: "f", ...makeMetrics({ gpu_hours: 2273.683392 }) }],
        previous: makeMetrics({ gpu_hours: 1000.1, versions_active: 12000, cost: 1000 }),
      }),
    );
    expect(page).toContain(
      '<div class="v" title="2273.683392">2,273.7</div><div class="l">GPU-hours</div>',
    );
    expect(page).toContain('<div class="d up" title="+1273.583392">+1,273.6 (+127%)</div>');
    expect(page).toContain(
      '<div class="v" title="0.04">&lt;0.1</div><div class="l">NPU-hours</div>',
    );
    expect(page).toContain('<div class="v">12</div><div class="l">run-hours</div>');
    expect(page).toContain('<div class="v" title="12345">12,345</div>');
    expect(page).toContain('<div class="v" title="1234.50">1,234.50</div>');
    expect(page).toContain("<td>2273.683392</td>");
    expect(page).not.toMatch(/class="v"[^>]*>2273/);
  });

  it("escapes every figure too, should a stored file hold markup where a number belongs", () => {
    const mark = "<marquee>x</marquee>" as unknown as number;
    const base = makeReport();
    const page = renderReportHtml({
      ...base,
      source: { ...base.source, versions_scanned: mark, pages: mark },
      totals: makeMetrics({
        versions_active: mark,
        peak_gpus: mark,
        failures_by_status: { "3": mark },
      }),
      previous: makeMetrics({ versions_active: mark }),
      by_flavor: [{ flavor_code: "f", ...makeMetrics({ versions_active: mark, gpu_hours: 1 }) }],
      statuses: [{ status: mark, name: "n", versions: mark }],
      anomalies: { skipped: mark, reasons: { r: mark }, duplicate_rows: mark },
      longest_waits: [
        { version_id: mark, version_name: "j", flavor_code: null, pool_id: null, wait_hours: 1 },
      ],
    });
    expect(page).not.toContain("<marquee");
    expect(page).toContain("&lt;marquee&gt;");
  });

  it("says how many rows the listing gave more than once, when it did", () => {
    const withAnomalies = (duplicate_rows: number) =>
      renderReportHtml({ ...makeReport(), anomalies: { skipped: 0, reasons: {}, duplicate_rows } });
    expect(withAnomalies(3)).toContain("3 duplicate rows in the listing");
    expect(withAnomalies(1)).toContain("1 duplicate row in the listing");
    expect(withAnomalies(0)).not.toContain("duplicate row");
    expect(renderReportHtml(makeReport())).not.toContain("duplicate row");
  });

  it("never writes a name containing < as it is", () => {
    // Markers around the name find every place it is written; names are short enough that
    // the charts do not shorten them.
    const name = fc
      .string({ unit: "binary", maxLength: 12 })
      .filter((s) => !/[⟦⟧]/.test(s))
      .map((s) => `<${s}`);
    fc.assert(
      fc.property(name, name, (flavor, pool) => {
        const page = renderReportHtml(
          makeReport({
            by_flavor: [{ flavor_code: `⟦${flavor}⟧`, ...makeMetrics({ gpu_hours: 1 }) }],
            by_pool: [{ pool_id: `⟦${pool}⟧`, ...makeMetrics({ npu_hours: 1 }) }],
          }),
        );
        expect(page).not.toContain(`⟦${flavor}⟧`);
        expect(page).not.toContain(`⟦${pool}⟧`);
        const written = [...page.matchAll(/⟦([\s\S]*?)⟧/g)].map((m) => m[1]);
        expect(written.length).toBeGreaterThanOrEqual(4); // charts and tables
        for (const w of written) expect([escapeHtml(flavor), escapeHtml(pool)]).toContain(w);
      }),
    );
  });
});

describe("the days around a report, from the history", () => {
  const HOSTILE_POOL = "<img src=x onerror=alert(1)>";
  /** The section under the heading `h2`, up to its end; "" when the page has none. */
  const section = (html: string, h2: string) =>
    html.match(new RegExp(`<h2>${h2}</h2>[\\s\\S]*?</section>`))?.[0] ?? "";
  /** The columns of a chart: each day's element, its link, date and content. */
  const slots = (svg: string) =>
    [...svg.matchAll(/<(a|g) (?:href="([^"]*)" )?data-date="([^"]*)">([\s\S]*?)<\/\1>/g)].map(
      (m) => ({ tag: m[1], href: m[2], date: m[3] ?? "", body: m[4] ?? "" }),
    );
  /** The slot's own title (its first child). */
  const titleOf = (body: string) => body.match(/^<title>([^<]*)<\/title>/)?.[1];
  /** The coloured parts of a column: colour, height and title. */
  const parts = (body: string) =>
    [
      ...body.matchAll(
        /<rect [^>]*height="([\d.]+)" fill="(#[0-9a-f]{6})">(?:<title>([^<]*)<\/title>)?/g,
      ),
    ].map((m) => ({ height: Number(m[1]), colour: m[2] ?? "", title: m[3] ?? "" }));
  /** The figure a chart's scale reaches, and its height in the drawing. */
  function scale(svg: string): { top: number; plot: number } {
    const ys = [...svg.matchAll(/<line class="g" [^>]*y1="([\d.]+)"/g)].map((m) => Number(m[1]));
    const labels = [...svg.matchAll(/text-anchor="end">([\d.]+)<\/text>/g)].map((m) =>
      Number(m[1]),
    );
    return { top: Math.max(...labels), plot: Math.max(...ys) - Math.min(...ys) };
  }

  const DATE = "2026-11-27";
  const last30 = Array.from({ length: 30 }, (_, i) => addDays(DATE, i - 29));
  const MISSING = "2026-11-10";
  /** Every day of the 30 but one, with a day before and after them that the page must leave out. */
  const history: HistoryDay[] = [
    makeHistoryDay("2026-10-28", { pools: [{ pool_id: "pool-a", gpu_hours: 999 }] }),
    ...last30
      .filter((d) => d !== MISSING)
      .map((d, i) =>
        makeHistoryDay(d, {
          pools: [
            { pool_id: "pool-a", gpu_hours: 3 + i, npu_hours: 1, versions_failed: i % 3 },
            { pool_id: null, gpu_hours: 1.5, npu_hours: 4 },
            { pool_id: HOSTILE_POOL, gpu_hours: 0.5, npu_hours: 0.25, versions_failed: 1 },
          ],
        }),
      )
      .reverse(), // any order
  ];
  const dayHref = (d: string) => `/reports/${d}?sig=a&b`;
  const html = renderReportHtml(makeReport(), { history, dayHref });
  const trend = section(html, "The last 30 days");
  const [gpu = "", npu = "", failed = ""] = svgs(trend);

  it("draws GPU-hours, NPU-hours and failures as three charts of the last 30 days", () => {
    expect(svgs(trend)).toHaveLength(3);
    for (const chart of [gpu, npu, failed]) {
      expect(slots(chart).map((s) => s.date)).toEqual(last30);
    }
    expect(trend).not.toContain("2026-10-28");
    expect(trend).toContain("<figcaption>GPU-hours per day, by pool</figcaption>");
    expect(trend).toContain("<figcaption>NPU-hours per day, by pool</figcaption>");
    expect(trend).toContain("<figcaption>Failed versions per day</figcaption>");
    expect(titleOf(slots(failed)[29]?.body ?? "")).toBe("2026-11-27 (this day): 2 failed versions");
  });

  it("marks the page's own day, and only that one", () => {
    for (const chart of [gpu, npu, failed]) {
      const all = slots(chart);
      const own = all.filter((s) => s.body.includes("this day"));
      expect(own.map((s) => s.date)).toEqual([DATE]);
      expect(own[0]?.body).toContain('<rect class="cur"');
      expect(own[0]?.body).toMatch(/<text [^>]*class="cur">11-27<\/text>/);
      expect(all.filter((s) => s.body.includes('class="cur"'))).toHaveLength(1);
    }
  });

  it("leaves a day missing from the history as an empty column, titled as missing", () => {
    for (const chart of [gpu, npu, failed]) {
      const missing = slots(chart).find((s) => s.date === MISSING);
      expect(titleOf(missing?.body ?? "")).toBe(`${MISSING}: missing, no report in the history`);
      expect(missing?.body).toContain('<rect class="m"');
      expect(parts(missing?.body ?? "")).toEqual([]);
    }
  });

  it("stacks a day's hours by pool up to the day's total", () => {
    for (const [chart, unit, key] of [
      [gpu, "GPU-hours", "gpu_hours"],
      [npu, "NPU-hours", "npu_hours"],
    ] as const) {
      const { top, plot } = scale(chart);
      for (const slot of slots(chart).filter((s) => s.date !== MISSING)) {
        const day = history.find((d) => d.date === slot.date) as HistoryDay;
        const total = day.totals[key];
        expect(titleOf(slot.body)).toMatch(new RegExp(`: ${formatHours(total)} ${unit}$`));
        const drawn = parts(slot.body);
        expect(drawn).toHaveLength(3);
        const height = drawn.reduce((s, p) => s + p.height, 0);
        expect(height).toBeCloseTo((total / top) * plot, 1);
        for (const p of day.pools) {
          const label = escapeHtml(p.pool_id ?? "(public pool)");
          expect(drawn.map((d) => d.title)).toContain(
            `${slot.date} · ${label}: ${formatHours(p[key])} ${unit}`,
          );
        }
      }
    }
    // the largest column reaches at most the top of its scale
    expect(scale(gpu).top).toBeGreaterThanOrEqual(3 + 28 + 2);
  });

  it("gives each pool one colour in both charts and the legend, the public pool by name", () => {
    const colourIn = (chart: string, label: string) => {
      const found = slots(chart)
        .flatMap((s) => parts(s.body))
        .filter((p) => p.title.includes(` · ${label}: `));
      const colours = new Set(found.map((p) => p.colour));
      expect(colours.size).toBe(1);
      return [...colours][0];
    };
    const labels = ["pool-a", "(public pool)", escapeHtml(HOSTILE_POOL)];
    const colours = labels.map((l) => colourIn(gpu, l));
    expect(labels.map((l) => colourIn(npu, l))).toEqual(colours);
    expect(new Set(colours).size).toBe(3);
    labels.forEach((l, i) => {
      expect(trend).toContain(`<span><i style="background:${colours[i]}"></i>${l}</span>`);
    });
  });

  it("sums the smaller pools as others when there are more than eight", () => {
    const many = [
      makeHistoryDay(DATE, {
        pools: Array.from({ length: 11 }, (_, i) => ({ pool_id: `p${i}`, gpu_hours: 20 - i })),
      }),
    ];
    const page = section(renderReportHtml(makeReport(), { history: many }), "The last 30 days");
    const legend = page.match(/<p class="legend">[\s\S]*?<\/p>/)?.[0] ?? "";
    expect(legend.match(/<span>/g)).toHaveLength(8);
    expect(legend).toContain("p6</span>");
    expect(legend).not.toContain("p7</span>");
    expect(legend).toContain("4 others</span>");
    const column = slots(svgs(page)[0] ?? "").find((s) => s.date === DATE)?.body ?? "";
    // p7 to p10: 13 + 12 + 11 + 10 GPU-hours
    expect(parts(column).map((p) => p.title)).toContain(`${DATE} · 4 others: 46 GPU-hours`);
    expect(parts(column)).toHaveLength(8);
  });

  it("links each column to its day's page where dayHref gives a link, escaped", () => {
    for (const chart of [gpu, npu, failed]) {
      for (const s of slots(chart)) {
        expect(s.tag).toBe("a");
        expect(s.href).toBe(`/reports/${s.date}?sig=a&amp;b`);
      }
    }
    const some = renderReportHtml(makeReport(), {
      history,
      dayHref: (d) => (d >= "2026-11-20" ? `/r/${d}` : undefined),
    });
    const columns = slots(svgs(section(some, "The last 30 days"))[0] ?? "");
    expect(columns.filter((s) => s.tag === "a").map((s) => s.date)).toEqual(last30.slice(22));
    for (const s of columns) expect(s.href).toBe(s.tag === "a" ? `/r/${s.date}` : undefined);
    // without dayHref, no column is a link
    const none = renderReportHtml(makeReport(), { history });
    expect(section(none, "The last 30 days")).not.toContain("<a ");
  });

  it("links the day before, and the day after only when the history has it", () => {
    const nav = (page: string) => page.match(/<nav class="meta">([\s\S]*?)<\/nav>/)?.[1];
    expect(nav(html)).toBe('<a href="/reports/2026-11-26?sig=a&amp;b">← previous day</a>');
    const withNext = renderReportHtml(makeReport(), {
      history: [...history, makeHistoryDay("2026-11-28")],
      dayHref,
    });
    expect(nav(withNext)).toBe(
      '<a href="/reports/2026-11-26?sig=a&amp;b">← previous day</a> · <a href="/reports/2026-11-28?sig=a&amp;b">next day →</a>',
    );
    // no link where dayHref gives none
    const noPrevious = renderReportHtml(makeReport(), {
      history: [...history, makeHistoryDay("2026-11-28")],
      dayHref: (d) => (d === "2026-11-28" ? "/next" : undefined),
    });
    expect(nav(noPrevious)).toBe('<a href="/next">next day →</a>');
    expect(renderReportHtml(makeReport(), { history })).not.toContain("<nav");
  });

  it("says so and draws nothing without history, or with none of the 30 days", () => {
    for (const page of [
      renderReportHtml(makeReport()),
      renderReportHtml(makeReport(), { history: [], dayHref }),
      renderReportHtml(makeReport(), { history: [makeHistoryDay("2026-10-28")], dayHref }),
    ]) {
      const empty = section(page, "The last 30 days");
      expect(empty).toContain('<p class="empty">The history holds none of the last 30 days.</p>');
      expect(svgs(empty)).toHaveLength(0);
    }
  });

  it("writes a pool id and a link from the caller escaped only", () => {
    const page = renderReportHtml(makeReport(), {
      history,
      dayHref: (d) => `/r/${d}"><script>x</script>`,
    });
    expect(page).not.toContain(HOSTILE_POOL);
    expect(page).not.toMatch(/<img|<script/i);
    const escaped = escapeHtml(HOSTILE_POOL);
    expect(section(page, "The last 30 days").split(escaped).length - 1).toBeGreaterThan(30);
    expect(page).toContain('href="/r/2026-11-27&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  });

  describe("on a month page", () => {
    const month = (report_date: string) =>
      makeReport({
        period: "month",
        report_date,
        window: { start: `${report_date}-01T00:00:00+00:00`, end: "2026-12-01T00:00:00+00:00" },
        previous: makeMetrics(),
      });
    const november = datesOfMonth("2026-11");
    const monthHistory = [
      ...history,
      makeHistoryDay("2026-11-28", { pools: [{ pool_id: "pool-a", gpu_hours: 2 }] }),
      makeHistoryDay("2026-12-01", { pools: [{ pool_id: "pool-a", gpu_hours: 7 }] }),
    ];
    const monthHref = (m: string) => `/reports/months/${m}`;
    const page = renderReportHtml(month("2026-11"), {
      history: monthHistory,
      dayHref,
      monthHref,
    });
    const days = section(page, "Days of the month");

    it("is titled with the month and says it is one", () => {
      expect(page).toContain("<title>ModelArts usage 2026-11 (UTC)</title>");
      expect(page).toMatch(/<h1>ModelArts usage in the month <span class="nw">2026-11<\/span>/);
      expect(page).toContain("(change from the month before)");
      expect(page).not.toContain("day before");
      expect(page).toContain("No GPU-hours this month");
      expect(page).toContain("Nothing this month.");
    });

    it("draws every day of the month, each linking to its page, and not the last 30 days", () => {
      expect(section(page, "The last 30 days")).toBe("");
      expect(svgs(days)).toHaveLength(3);
      for (const chart of svgs(days)) {
        const columns = slots(chart);
        expect(columns.map((s) => s.date)).toEqual(november);
        for (const s of columns) expect(s.href).toBe(`/reports/${s.date}?sig=a&amp;b`);
        expect(chart).not.toContain("this day");
      }
      expect(november).toHaveLength(30);
      // 11-01 to 11-27 but 11-10, and 11-28, are in the history; the 29th and 30th are missing
      const gpuColumns = slots(svgs(days)[0] ?? "");
      const missing = gpuColumns.filter((s) =>
        titleOf(s.body)?.endsWith("missing, no report in the history"),
      );
      expect(missing.map((s) => s.date)).toEqual(["2026-11-10", "2026-11-29", "2026-11-30"]);
      expect(titleOf(gpuColumns[27]?.body ?? "")).toBe("2026-11-28: 2 GPU-hours");
      expect(days).not.toContain("2026-12-01");

      const october = renderReportHtml(month("2026-10"), { history: monthHistory, dayHref });
      const octoberColumns = slots(svgs(section(october, "Days of the month"))[0] ?? "");
      expect(octoberColumns.map((s) => s.date)).toEqual(datesOfMonth("2026-10"));
      expect(octoberColumns).toHaveLength(31);
    });

    it("links the month before, and the month after once the history has its last day", () => {
      const nav = (p: string) => p.match(/<nav class="meta">([\s\S]*?)<\/nav>/)?.[1];
      expect(nav(page)).toBe('<a href="/reports/months/2026-10">← previous month</a>');
      const october = renderReportHtml(month("2026-10"), { history: monthHistory, monthHref });
      expect(nav(october)).toBe('<a href="/reports/months/2026-09">← previous month</a>');
      const ended = renderReportHtml(month("2026-10"), {
        history: [...monthHistory, makeHistoryDay("2026-11-30")],
        monthHref,
      });
      expect(nav(ended)).toBe(
        '<a href="/reports/months/2026-09">← previous month</a> · <a href="/reports/months/2026-11">next month →</a>',
      );
      expect(renderReportHtml(month("2026-11"), { history: monthHistory })).not.toContain("<nav");
    });

    it("says so without a day of the month in the history, and escapes pool ids", () => {
      const none = renderReportHtml(month("2026-11"), { history: [makeHistoryDay("2026-12-01")] });
      expect(section(none, "Days of the month")).toContain(
        '<p class="empty">The history holds no day of this month.</p>',
      );
      expect(svgs(section(none, "Days of the month"))).toHaveLength(0);
      expect(page).not.toContain(HOSTILE_POOL);
      expect(days).toContain(`${escapeHtml(HOSTILE_POOL)}</span>`);
      expect(days).toContain(`2026-11-27 · ${escapeHtml(HOSTILE_POOL)}: 0.5 GPU-hours`);
    });
  });
});
