import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OUTCOMES } from "../../src/modelarts/statuses.js";
import {
  GROUP_KEYS,
  METRIC_FIELDS,
  type Metrics,
  roundedMetrics,
  USAGE_METRIC_COLUMNS,
} from "../../src/report/fields.js";
import { formatCents, formatHoursFixed, roundHours } from "../../src/report/format.js";
import { historyDay, historyDayOf } from "../../src/report/history-day.js";
import { DAY, periodOfReport } from "../../src/report/period.js";
import { renderUsageCsv, USAGE_CSV_HEADER } from "../../src/report/render-csv.js";
import { renderReportJson } from "../../src/report/render-json.js";
import { parseStoredReport, StoredReportError } from "../../src/report/stored-schema.js";
import { readCsv } from "../helpers/csv.js";
import { byOutcome, makeMetrics, makeReport } from "../helpers/report-fixture.js";

/** The table of metric fields (report/fields.ts) and what is derived from it. */

const hours = fc.double({ min: 0, max: 1e6, noNaN: true });
const count = fc.nat({ max: 1e6 });
const metrics: fc.Arbitrary<Metrics> = fc
  .record({
    versions_active: count,
    versions_created: count,
    versions_failed: count,
    gpus: count,
    npus: count,
    peak_gpus: count,
    peak_npus: count,
    gpu_hours: hours,
    npu_hours: hours,
    run_hours: hours,
    versions_started: count,
    wait_hours: hours,
    max_wait_hours: hours,
    failed_gpu_hours: hours,
    cost: fc.option(
      fc.double({ min: 0, max: 1e6, noNaN: true }).map((c) => Math.round(c * 100) / 100),
    ),
  })
  .map(({ failed_gpu_hours, ...m }) =>
    makeMetrics({
      ...m,
      failures_by_status: { "3": m.versions_failed },
      gpu_hours_by_outcome: byOutcome({ completed: m.gpu_hours, failed: failed_gpu_hours }),
    }),
  );

const names = METRIC_FIELDS.map((f) => f.name);
const KEY = "daily/2026-11-27/report.json";

/** The message the stored file `body` is refused with; fails when it is read as a report. */
function errorOf(body: string): string {
  try {
    parseStoredReport(body, KEY, { period: DAY, label: "2026-11-27" });
  } catch (error) {
    expect(error).toBeInstanceOf(StoredReportError);
    const message = (error as Error).message;
    expect(message).not.toContain("<b>"); // the value found is never repeated
    return message;
  }
  throw new Error("the file was read as a report");
}

describe("the table of metric fields", () => {
  it("gives report.json its metrics in the table's order, in every group and previous", () => {
    const report = makeReport({
      by_flavor: [{ flavor_code: "f", ...makeMetrics() }],
      by_pool: [{ pool_id: "p", ...makeMetrics() }],
      by_flavor_pool: [{ flavor_code: "f", pool_id: "p", ...makeMetrics() }],
      by_source: [{ source: "s", ...makeMetrics() }],
      by_source_flavor_pool: [{ source: "s", flavor_code: "f", pool_id: "p", ...makeMetrics() }],
      previous: makeMetrics(),
    });
    const json = JSON.parse(renderReportJson(report));
    expect(Object.keys(json.totals)).toEqual(names);
    expect(Object.keys(json.previous)).toEqual(names);
    for (const group of Object.keys(GROUP_KEYS) as (keyof typeof GROUP_KEYS)[]) {
      expect(Object.keys(json[group][0])).toEqual([...GROUP_KEYS[group], ...names]);
    }
  });

  it("rounds hours to 6 decimals in report.json and leaves counts and cost as they are", () => {
    fc.assert(
      fc.property(metrics, (m) => {
        const rounded = roundedMetrics(m);
        for (const f of METRIC_FIELDS) {
          const value = rounded[f.name];
          if (f.kind === "hours") expect(value).toBe(roundHours(m[f.name] as number));
          if (f.kind === "count" || f.kind === "cost") expect(value).toBe(m[f.name]);
        }
        for (const o of OUTCOMES) {
          expect(rounded.gpu_hours_by_outcome[o]).toBe(roundHours(m.gpu_hours_by_outcome[o]));
        }
      }),
    );
  });

  it("writes usage.csv's columns from the table: one per field it keeps, one per outcome", () => {
    const headers = USAGE_METRIC_COLUMNS.map((c) => c.header);
    expect(USAGE_CSV_HEADER).toEqual(["report_date", "flavor_code", "pool_id", ...headers]);
    for (const f of METRIC_FIELDS) {
      if (f.kind === "byOutcome") {
        const columns = OUTCOMES.map((o) => `${f.name.replace(/_by_outcome$/, "")}_${o}`);
        for (const c of columns) expect(headers.includes(c)).toBe(f.csv);
      } else {
        expect(headers.includes(f.name)).toBe(f.csv);
      }
    }
  });

  it("writes each usage.csv cell in its kind's format, for a day and a month alike", () => {
    fc.assert(
      fc.property(metrics, (m) => {
        const row = { flavor_code: "f", pool_id: null, ...m };
        for (const report of [
          makeReport({ by_flavor_pool: [row] }),
          makeReport({ period: "month", label: "2026-10", by_flavor_pool: [row] }),
        ]) {
          const [header, cells] = readCsv(renderUsageCsv(report)) as [string[], string[]];
          const cell = (name: string) => cells[header.indexOf(name)];
          expect(cell(periodOfReport(report).labelField)).toBe(report.label);
          expect(cell("versions_active")).toBe(String(m.versions_active));
          expect(cell("wait_hours")).toBe(formatHoursFixed(m.wait_hours));
          expect(cell("gpu_hours_failed")).toBe(formatHoursFixed(m.gpu_hours_by_outcome.failed));
          expect(cell("cost")).toBe(m.cost === null ? "" : formatCents(m.cost));
        }
      }),
      { numRuns: 50 },
    );
  });

  it("makes a stored file without any one metric, or with one of the wrong type, fail naming it", () => {
    const written = JSON.parse(renderReportJson(makeReport({ totals: makeMetrics() })));
    for (const name of names) {
      for (const value of [undefined, "<b>1</b>"]) {
        const json = structuredClone(written);
        json.totals[name] = value;
        expect(errorOf(JSON.stringify(json)), `${name} = ${value}`).toContain(`totals.${name}:`);
      }
    }
  });

  it("reads back every history entry it writes, with hours rounded as in report.json", () => {
    fc.assert(
      fc.property(metrics, metrics, (totals, pool) => {
        const report = makeReport({ totals, by_pool: [{ pool_id: "p", ...pool }] });
        const entry = historyDayOf(report);
        expect(historyDay.parse(JSON.parse(JSON.stringify(entry)))).toEqual(entry);
        expect(entry.totals.gpu_hours).toBe(roundHours(totals.gpu_hours));
        expect(entry.pools[0]?.npu_hours).toBe(roundHours(pool.npu_hours));
        expect(entry.totals.cost).toBe(totals.cost);
      }),
      { numRuns: 50 },
    );
  });
});
