import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseVersionRecord } from "../../src/modelarts/version-record.js";
import { aggregate } from "../../src/report/aggregate.js";
import { buildDailyReports } from "../../src/report/build.js";
import { DAY } from "../../src/report/period.js";
import { renderJobsCsv, renderUsageCsv } from "../../src/report/render-csv.js";
import { renderReportHtml } from "../../src/report/render-html.js";
import { VersionCollector } from "../../src/scan/collector.js";
import { withOneSource, withOneSourceVersions } from "../helpers/one-source.js";
import { SOURCE } from "../helpers/report-fixture.js";

/** Hostile and malformed records: no crash, every bad record counted, numbers stay finite. */

const T0 = Date.UTC(2026, 10, 27);
const anyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    -1,
    1.5,
    2 ** 53,
    2 ** 53 + 2,
    1e308,
    -1e308,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ),
  fc.integer({ min: T0 - 86_400_000, max: T0 + 2 * 86_400_000 }),
);
const anyField = fc.oneof(
  anyNumber,
  anyNumber.map(String),
  fc.string(),
  fc.constantFrom(null, undefined, true, "", " 8", "8.0", "12e3", "-1", "０"),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);
const hostileText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.constantFrom(
    "=cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    '"\r\n,',
    "\u0000",
    "x".repeat(20_000),
  ),
);
const record = fc.record(
  {
    version_id: anyField,
    version_name: fc.oneof(hostileText, anyField),
    status: fc.oneof(fc.integer({ min: 0, max: 25 }), anyField),
    create_time: anyField,
    start_time: anyField,
    end_time: anyField,
    duration: anyField,
    flavor_code: fc.oneof(hostileText, anyField),
    pool_id: fc.oneof(hostileText, anyField),
    gpu_num: fc.oneof(fc.integer({ min: 0, max: 16 }), anyField),
    npu_num: fc.oneof(fc.integer({ min: 0, max: 16 }), anyField),
  },
  { requiredKeys: [] },
);
const page = fc.array(fc.oneof(record, fc.anything()), { maxLength: 40 });

describe("hostile records", () => {
  it("never crash the parser and always give a reason or a valid version", () => {
    fc.assert(
      fc.property(fc.oneof(record, fc.anything()), (raw) => {
        const parsed = parseVersionRecord(raw);
        if (parsed.ok) {
          for (const n of [
            parsed.version.versionId,
            parsed.version.createTime,
            parsed.version.gpuNum,
          ]) {
            expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
          }
        } else {
          expect(parsed.reason).toMatch(/^[a-z_]+: /);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("are counted once each, and the rest aggregate and render to finite numbers", () => {
    fc.assert(
      fc.property(page, (records) => {
        const collector = new VersionCollector(() => true);
        const keys = collector.addPage(records);
        const anomalies = collector.anomaliesOf(keys);
        const { skipped, reasons } = anomalies;
        expect(Object.values(reasons).reduce((a, b) => a + b, 0)).toBe(skipped);
        expect(collector.versionsScanned + skipped).toBeLessThanOrEqual(records.length);
        const windows = [{ label: "2026-11-27", start: T0, end: T0 + 86_400_000 }];
        const [day] = aggregate(
          withOneSourceVersions({
            versions: collector.versions.values(),
            windows,
            now: T0 + 90_000_000,
            failureStatuses: [3, 5, 6, 13],
          }),
        );
        for (const value of Object.values(day?.totals ?? {})) {
          if (typeof value === "number") expect(Number.isFinite(value)).toBe(true);
        }
        const [daily] = buildDailyReports(
          withOneSource({
            versions: collector.versions.values(),
            dates: ["2026-11-27"],
            timeZone: "UTC",
            now: T0 + 90_000_000,
            failureStatuses: [3, 5, 6, 13],
            source: SOURCE,
            anomalies,
          }),
        );
        if (daily === undefined) throw new Error("no report");
        expect(renderUsageCsv(daily.report)).toMatch(/\r\n$/);
        expect(renderJobsCsv("2026-11-27", daily.jobs, DAY)).toMatch(/\r\n$/);
        expect(renderReportHtml(daily.report)).not.toMatch(/<script/i);
      }),
      { numRuns: 300 },
    );
  });
});
