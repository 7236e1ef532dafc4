import { describe, expect, it } from "vitest";
import { loadReportConfig } from "../../src/app/config.js";
import {
  type Budget,
  type BudgetRow,
  dayBudgets,
  measure,
  monthBudgets,
} from "../../src/report/budgets.js";
import { ConfigError } from "../../src/shared/errors.js";

/** Budgets (report.md §11), hand-computed. */

const row = (over: Partial<BudgetRow>): BudgetRow => ({
  source: "research",
  flavor_code: "gpu.a",
  pool_id: "p1",
  gpu_hours: 0,
  npu_hours: 0,
  cost: null,
  ...over,
});
const day = (gpu: number, extra: BudgetRow[] = []) => [row({ gpu_hours: gpu }), ...extra];
const monthly: Budget = { name: "gpu-month", period: "month", metric: "gpu_hours", limit: 300 };
const daily: Budget = { name: "gpu-day", period: "day", metric: "gpu_hours", limit: 12 };

describe("budgets", () => {
  it("selects rows by source, pool and flavor; a missing filter means all", () => {
    const rows = [
      row({ gpu_hours: 5 }),
      row({ source: "eu", gpu_hours: 7 }),
      row({ pool_id: "p2", gpu_hours: 11 }),
      row({ flavor_code: "gpu.b", gpu_hours: 13, cost: 2.5 }),
    ];
    const b = (more: Partial<Budget>): Budget => ({ ...daily, ...more });
    expect(measure(b({}), rows)).toBe(36);
    expect(measure(b({ source: "research" }), rows)).toBe(29); // 5 + 11 + 13
    expect(measure(b({ pool_id: "p1" }), rows)).toBe(25); // 5 + 7 + 13
    expect(measure(b({ source: "research", flavor_code: "gpu.a" }), rows)).toBe(16); // 5 + 11
    expect(measure(b({ metric: "cost" }), rows)).toBe(2.5); // no price: 0
  });

  it("states a day budget against the day alone: over above the limit, not at it", () => {
    expect(dayBudgets([daily], day(12), [day(12)], 30)[0]).toEqual({
      name: "gpu-day",
      period: "day",
      metric: "gpu_hours",
      limit: 12,
      actual: 12,
      forecast: null,
      state: "ok",
    });
    expect(dayBudgets([daily], day(12.000001), [day(12.000001)], 30)[0]?.state).toBe("over");
  });

  it("forecasts a month on its first day from that day alone", () => {
    // 1 November: 11 GPU-h so far, × 30 days ÷ 1 reported = 330 > 300.
    const [b] = dayBudgets([monthly], day(11), [day(11)], 30);
    expect(b).toMatchObject({ actual: 11, forecast: 330, state: "forecast_over" });
  });

  it("forecasts a 28-day February over the days reported, missing days not counted", () => {
    // Reports of 1, 2 and 4 February (the 3rd missing): 40 + 30 + 20 = 90 so far,
    // × 28 ÷ 3 reported = 840.
    const [b] = dayBudgets([{ ...monthly, limit: 1000 }], day(20), [day(40), day(30), day(20)], 28);
    expect(b).toMatchObject({ actual: 90, forecast: 840, state: "ok" });
    const [over] = dayBudgets(
      [{ ...monthly, limit: 89 }],
      day(20),
      [day(40), day(30), day(20)],
      28,
    );
    expect(over?.state).toBe("over");
  });

  it("rounds after summing: hours to 6 decimals, cost to cents", () => {
    // Three days of 1/3 GPU-h: 1 so far (not 0.999999), × 30 ÷ 3 = 10.
    const third = day(1 / 3);
    const [b] = dayBudgets([monthly], third, [third, third, third], 30);
    expect(b).toMatchObject({ actual: 1, forecast: 10 });
    const cost: Budget = { name: "c", period: "month", metric: "cost", limit: 1 };
    const cents = [row({ cost: 0.005 }), row({ cost: 0.0049 })];
    // 0.0099 → 0.01; × 30 ÷ 1 = 0.297 → 0.30 < 1.
    expect(dayBudgets([cost], cents, [cents], 30)[0]).toMatchObject({
      actual: 0.01,
      forecast: 0.3,
      state: "ok",
    });
  });

  it("carries month budgets in a month report with its own totals (forecast = actual)", () => {
    expect(monthBudgets([daily, monthly], day(301))).toEqual([
      {
        name: "gpu-month",
        period: "month",
        metric: "gpu_hours",
        limit: 300,
        actual: 301,
        forecast: 301,
        state: "over",
      },
    ]);
  });
});

describe("REPORT_BUDGETS", () => {
  const load = (budgets: string, more: Record<string, string> = {}) =>
    loadReportConfig({ REPORT_BUDGETS: budgets, ...more });
  it("reads inline budgets, or keeps a document for the run", () => {
    expect(load(JSON.stringify({ budgets: [daily] })).budgets).toEqual({
      kind: "listed",
      budgets: [daily],
    });
    expect(load("s3://b/config/budgets.json").budgets).toEqual({
      kind: "document",
      location: "s3://b/config/budgets.json",
    });
  });
  it.each([
    ["not JSON", "{", /REPORT_BUDGETS is not JSON/],
    [
      "an unknown metric",
      JSON.stringify({ budgets: [{ ...daily, metric: "gpus" }] }),
      /budgets\.0\.metric/,
    ],
    [
      "a negative limit",
      JSON.stringify({ budgets: [{ ...daily, limit: -1 }] }),
      /budgets\.0\.limit/,
    ],
    ["a name used twice", JSON.stringify({ budgets: [daily, daily] }), /"gpu-day" is used twice/],
    [
      "a cost budget without prices",
      JSON.stringify({ budgets: [{ ...daily, metric: "cost" }] }),
      /budget "gpu-day" is on cost, which needs PRICE_TABLE/,
    ],
  ])("refuses %s at start", (_what, text, message) => {
    expect(() => load(text)).toThrow(ConfigError);
    expect(() => load(text)).toThrow(message);
  });
});
