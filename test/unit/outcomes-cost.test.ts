import { describe, expect, it } from "vitest";
import type { JobVersion } from "../../src/modelarts/version-record.js";
import { buildDailyReports } from "../../src/report/build.js";
import { DAY } from "../../src/report/period.js";
import { type PriceTable, parsePriceTable } from "../../src/report/prices.js";
import { renderJobsCsv, renderUsageCsv } from "../../src/report/render-csv.js";
import { renderReportJson } from "../../src/report/render-json.js";
import { withOneSource } from "../helpers/one-source.js";
import { SOURCE } from "../helpers/report-fixture.js";
import { HOUR, version } from "../helpers/versions.js";

const D = Date.UTC(2026, 10, 27);
const NOW = D + 26 * HOUR;
const PRICES = parsePriceTable(
  JSON.stringify({
    currency: "EUR",
    flavors: { "gpu.a": { per_hour: 1.5, per_gpu_hour: 2 }, "npu.n": { per_npu_hour: 1 / 3 } },
  }),
  "test",
);

const versions = [
  // waited 4 h across midnight (created 22:00 the day before, started 02:00), ran 3 h on 2 GPUs
  version({
    versionId: 1,
    status: 10,
    createTime: D - 2 * HOUR,
    startTime: D + 2 * HOUR,
    endTime: D + 5 * HOUR,
    gpuNum: 2,
    flavorCode: "gpu.a",
  }),
  // cancelled (12) after running 6 hours on 4 GPUs of a flavor with no price
  version({
    versionId: 2,
    status: 12,
    createTime: D,
    startTime: D + HOUR,
    endTime: D + 7 * HOUR,
    gpuNum: 4,
    flavorCode: "gpu.b",
  }),
  // three NPU jobs of 1 h at 1/3 per NPU-hour: cents are rounded after summing (1.00, not 0.99)
  ...[3, 4, 5].map((id) =>
    version({
      versionId: id,
      status: 10,
      createTime: D,
      startTime: D + 8 * HOUR,
      endTime: D + 9 * HOUR,
      npuNum: 1,
      flavorCode: "npu.n",
    }),
  ),
];

/** One day's report of `of` (and more dates if asked), priced with `prices` when given. */
function buildDay(of: JobVersion[], prices: PriceTable | undefined, dates = ["2026-11-27"]) {
  return buildDailyReports(
    withOneSource({
      versions: of,
      dates,
      timeZone: "UTC",
      now: NOW,
      failureStatuses: [3, 5, 6, 13],
      source: SOURCE,
      anomalies: { skipped: 0, duplicate_rows: 0, reasons: {} },
      prices,
    }),
  );
}

function build(prices = PRICES) {
  return buildDay(versions, prices, ["2026-11-26", "2026-11-27"]);
}

describe("queue waits", () => {
  it("counts a wait across midnight on the day the job started", () => {
    const [d26, d27] = build();
    expect(d26?.report.totals).toMatchObject({
      versions_created: 1,
      versions_started: 0,
      wait_hours: 0,
    });
    const a = d27?.report.by_flavor.find((r) => r.flavor_code === "gpu.a");
    expect(a).toMatchObject({ versions_started: 1, wait_hours: 4, max_wait_hours: 4 });
    // all five started on the 27th: 4 + 1 + 8 + 8 + 8 hours of waiting
    expect(d27?.report.totals).toMatchObject({
      versions_started: 5,
      wait_hours: 29,
      max_wait_hours: 8,
    });
    expect(d27?.report.longest_waits.map((w) => [w.version_id, w.wait_hours])).toEqual([
      [3, 8],
      [4, 8],
      [5, 8],
      [1, 4],
      [2, 1],
    ]);
  });
});

describe("hours by outcome", () => {
  it("puts the hours of a cancelled job that ran for hours under cancelled", () => {
    const [, d27] = build();
    const b = d27?.report.by_flavor.find((r) => r.flavor_code === "gpu.b");
    expect(b?.gpu_hours_by_outcome).toEqual({
      completed: 0,
      failed: 0,
      lost: 0,
      cancelled: 24,
      running: 0,
      unknown: 0,
    });
    expect(d27?.report.totals.gpu_hours_by_outcome).toMatchObject({ completed: 6, cancelled: 24 });
    expect(d27?.report.totals.npu_hours_by_outcome).toMatchObject({ completed: 3 });
  });
});

describe("cost", () => {
  it("prices each flavor, lists the unpriced ones and rounds after summing", () => {
    const [, d27] = build();
    const r = d27?.report;
    // gpu.a: 3 run-hours × 1.5 + 6 GPU-hours × 2 = 16.5; npu.n: 3 NPU-hours × 1/3 = 1; gpu.b: no price
    expect(r?.by_flavor.find((f) => f.flavor_code === "gpu.a")?.cost).toBe(16.5);
    expect(r?.by_flavor.find((f) => f.flavor_code === "npu.n")?.cost).toBe(1);
    expect(r?.by_flavor.find((f) => f.flavor_code === "gpu.b")?.cost).toBe(0);
    expect(r?.totals.cost).toBe(17.5);
    expect(r?.currency).toBe("EUR");
    expect(r?.anomalies.unpriced_flavors).toEqual(["gpu.b"]);
    const jobs = renderJobsCsv("2026-11-27", d27?.jobs ?? [], DAY).split("\r\n");
    expect(jobs[0]?.endsWith(",failed,outcome,wait_hours,cost,source")).toBe(true);
    expect(jobs[1]?.endsWith(",false,completed,4.000000,16.50,default")).toBe(true);
    expect(jobs[2]?.endsWith(",false,cancelled,1.000000,,default")).toBe(true); // unpriced: empty cost
    expect(jobs[3]?.endsWith(",false,completed,8.000000,0.33,default")).toBe(true);
  });

  it("rounds an exact half cent up, in the report and in jobs.csv", () => {
    // Found by review: 0.25 h × 0.07 + 0.75 GPU-h × 1.13 is 0.865 exactly, but a double sums
    // it to 0.8649999999999999, which rounded to 0.86.
    const prices = parsePriceTable(
      JSON.stringify({ currency: "EUR", flavors: { a: { per_hour: 0.07, per_gpu_hour: 1.13 } } }),
      "test",
    );
    const [day] = buildDay(
      [
        version({
          versionId: 9,
          status: 10,
          createTime: D,
          startTime: D,
          endTime: D + HOUR / 4,
          gpuNum: 3,
          flavorCode: "a",
        }),
      ],
      prices,
    );
    const r = day?.report ?? never();
    expect(r.totals.cost).toBe(0.87);
    expect(r.by_flavor[0]?.cost).toBe(0.87);
    expect(r.by_pool[0]?.cost).toBe(0.87);
    expect(r.by_flavor_pool[0]?.cost).toBe(0.87);
    expect(renderUsageCsv(r).split("\r\n")[1]?.endsWith(",0.87")).toBe(true);
    expect(
      renderJobsCsv("2026-11-27", day?.jobs ?? [], DAY)
        .split("\r\n")[1]
        ?.endsWith(",0.87,default"),
    ).toBe(true);
  });

  it("is null everywhere without a price table", () => {
    const [plain] = buildDay(versions, undefined);
    const json = JSON.parse(renderReportJson(plain?.report ?? never()));
    expect(json.currency).toBeNull();
    expect(json.totals.cost).toBeNull();
    expect(json.anomalies.unpriced_flavors).toEqual([]);
    const usage = renderUsageCsv(plain?.report ?? never()).split("\r\n");
    expect(usage[0]).toBe(
      "report_date,flavor_code,pool_id,versions_active,versions_created,versions_failed,gpus,npus,peak_gpus,peak_npus,gpu_hours,npu_hours,run_hours,versions_started,wait_hours,max_wait_hours,gpu_hours_completed,gpu_hours_failed,gpu_hours_lost,gpu_hours_cancelled,gpu_hours_running,gpu_hours_unknown,cost",
    );
    expect(usage[1]?.endsWith(",0.000000,0.000000,24.000000,0.000000,0.000000,")).toBe(true); // gpu.b first (24 GPU-h), cost empty
  });
});

describe("previous day", () => {
  it("gives each day of a range the totals of the day before", () => {
    const [d26, d27] = build();
    expect(d26?.report.previous).toBeNull();
    expect(d27?.report.previous).toEqual(d26?.report.totals);
  });
});

describe("parsePriceTable", () => {
  it("names the bad entry", () => {
    expect(() =>
      parsePriceTable('{"currency":"EUR","flavors":{"p3":{"per_gpu_hour":-2}}}', "prices.json"),
    ).toThrow('PRICE_TABLE prices.json: flavors["p3"].per_gpu_hour must be a non-negative number');
    expect(() =>
      parsePriceTable('{"currency":"EUR","flavors":{"p3":{"per_minute":1}}}', "prices.json"),
    ).toThrow('flavors["p3"] has an unknown field "per_minute"');
    expect(() => parsePriceTable("not json", "prices.json")).toThrow(
      "PRICE_TABLE prices.json is not valid JSON",
    );
  });
});

function never(): never {
  throw new Error("expected a report");
}
