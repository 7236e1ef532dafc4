import { describe, expect, it } from "vitest";
import { renderReportJson } from "../../src/report/render-json.js";
import { parseStoredReport, StoredReportError } from "../../src/report/stored-schema.js";
import { makeMetrics, makeReport } from "../helpers/report-fixture.js";

/** The one schema of a stored report.json: what this service writes passes, nothing else. */

const KEY = "daily/2026-11-27/report.json";
const DAY = { period: "day", label: "2026-11-27" } as const;

const full = makeReport({
  totals: makeMetrics({ gpu_hours: 2273.683392, versions_failed: 1, cost: 12.5 }),
  by_flavor: [{ flavor_code: "f", ...makeMetrics({ gpu_hours: 1 }) }],
  by_pool: [{ pool_id: null, ...makeMetrics({ gpu_hours: 1 }) }],
  by_flavor_pool: [{ flavor_code: null, pool_id: "p", ...makeMetrics({ gpu_hours: 1 }) }],
  statuses: [{ status: 10, name: "JOBSTAT_COMPLETED", versions: 2 }],
  anomalies: {
    skipped: 1,
    duplicate_rows: 0,
    reasons: { "version_id: missing": 1 },
    unpriced_flavors: ["f", null],
  },
  currency: "EUR",
  previous: makeMetrics({ gpu_hours: 3 }),
  longest_waits: [
    { version_id: 7, version_name: null, flavor_code: "f", pool_id: null, wait_hours: 1.5 },
  ],
});

function errorOf(body: string, expected = DAY): string {
  try {
    parseStoredReport(body, KEY, expected);
  } catch (error) {
    expect(error).toBeInstanceOf(StoredReportError);
    return (error as Error).message;
  }
  throw new Error("the file was read as a report");
}

describe("the stored report's schema", () => {
  it("reads back every report this service writes, a day's and a month's", () => {
    const written = renderReportJson(full);
    expect(JSON.parse(renderReportJson(parseStoredReport(written, KEY, DAY)))).toEqual(
      JSON.parse(written),
    );
    const month = { ...full, period: "month" as const, label: "2026-10" };
    const read = parseStoredReport(renderReportJson(month), "monthly/2026-10/report.json", {
      period: "month",
      label: "2026-10",
    });
    expect(read.period).toBe("month");
    expect(read.label).toBe("2026-10");
    expect(renderReportJson(read)).toBe(renderReportJson(month));
  });

  it("reads files written before duplicate rows were counted, and keeps the count when there", () => {
    const json = JSON.parse(renderReportJson(full));
    delete json.anomalies.duplicate_rows;
    expect(parseStoredReport(JSON.stringify(json), KEY, DAY).anomalies.duplicate_rows).toBe(0);
    json.anomalies.duplicate_rows = 4;
    expect(parseStoredReport(JSON.stringify(json), KEY, DAY).anomalies.duplicate_rows).toBe(4);
  });

  it("reads files written before sources (§10) as of no source rows, and keeps them when there", () => {
    const json = JSON.parse(renderReportJson(full));
    const { sources, by_source, by_source_flavor_pool } = json;
    delete json.sources;
    delete json.by_source;
    delete json.by_source_flavor_pool;
    delete json.anomalies.by_source;
    const old = parseStoredReport(JSON.stringify(json), KEY, DAY);
    expect([old.sources, old.by_source, old.by_source_flavor_pool]).toEqual([[], [], []]);
    expect(old.anomalies).not.toHaveProperty("by_source");
    Object.assign(json, { sources, by_source, by_source_flavor_pool });
    expect(renderReportJson(parseStoredReport(JSON.stringify(json), KEY, DAY))).toContain(
      `"sources": [`,
    );
  });

  it("drops fields it does not know (later versions add fields)", () => {
    const json = { ...JSON.parse(renderReportJson(full)), extra: "<b>x</b>" };
    expect(parseStoredReport(JSON.stringify(json), KEY, DAY)).not.toHaveProperty("extra");
  });

  it("names the missing field, whichever of the report's fields is missing", () => {
    const json = JSON.parse(renderReportJson(full)) as Record<string, unknown>;
    // Files written before sources (§10) lack these three; they read as empty.
    const added = ["sources", "by_source", "by_source_flavor_pool", "budgets"];
    for (const field of Object.keys(json).filter((f) => !added.includes(f))) {
      const { [field]: _, ...rest } = json;
      expect(errorOf(JSON.stringify(rest)), field).toContain(`${field}:`);
    }
  });

  it("names the field of the wrong type, and never repeats the value found", () => {
    const json = JSON.parse(renderReportJson(full));
    json.longest_waits[0].version_id = "<marquee>7</marquee>";
    const message = errorOf(JSON.stringify(json));
    expect(message).toContain(KEY);
    expect(message).toContain("longest_waits.0.version_id");
    expect(message).not.toContain("marquee");
    json.longest_waits[0].version_id = 7;
    json.totals.gpu_hours = -1;
    expect(errorOf(JSON.stringify(json))).toContain("totals.gpu_hours");
    json.totals.gpu_hours = 1;
    json.totals.failures_by_status = { "<b>": 1 };
    expect(errorOf(JSON.stringify(json))).toContain("totals.failures_by_status");
  });

  it("refuses a file that is not JSON, of another date, or of the other period", () => {
    expect(errorOf('{"schema_version": 1')).toBe(
      `the stored ${KEY} is not a valid report: it is not JSON`,
    );
    expect(errorOf(renderReportJson(makeReport({ label: "2026-11-26" })))).toContain(
      "it is the report of 2026-11-26",
    );
    const month = renderReportJson({ ...full, period: "month", label: "2026-10" });
    expect(errorOf(month)).toContain("report_date:");
    expect(
      errorOf(renderReportJson(full), { period: "month", label: "2026-11" } as never),
    ).toContain("report_month:");
    expect(
      errorOf(JSON.stringify({ ...JSON.parse(renderReportJson(full)), schema_version: 2 })),
    ).toContain("schema_version:");
  });
});
