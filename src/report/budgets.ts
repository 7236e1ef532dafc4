import * as z from "zod";
import { roundCents, roundHours } from "./format.js";

/**
 * Budgets (report.md §11): day and month limits on GPU-hours, NPU-hours or cost, optionally for
 * one source, pool or flavor, and their state in each report. Pure: the figures come in.
 */

export const BUDGET_METRICS = ["gpu_hours", "npu_hours", "cost"] as const;
export type BudgetMetric = (typeof BUDGET_METRICS)[number];

const budget = z.strictObject({
  name: z.string().min(1).max(80),
  period: z.enum(["day", "month"]),
  metric: z.enum(BUDGET_METRICS),
  limit: z.number().nonnegative().finite(),
  source: z.string().min(1).optional(),
  pool_id: z.string().min(1).optional(),
  flavor_code: z.string().min(1).optional(),
});
export type Budget = z.infer<typeof budget>;

export const budgetsDocument = z.strictObject({ budgets: z.array(budget) });

export type BudgetStateName = "ok" | "forecast_over" | "over";

/** A budget in a report: `budgets` of report.json, in configuration order. */
export interface BudgetState {
  name: string;
  period: "day" | "month";
  metric: BudgetMetric;
  limit: number;
  actual: number;
  /** `null` for a day budget; the month's projection for a month budget. */
  forecast: number | null;
  state: BudgetStateName;
}

/** The finest rows of a report a budget's filters select from (its by_source_flavor_pool). */
export interface BudgetRow {
  readonly source: string | null;
  readonly flavor_code: string | null;
  readonly pool_id: string | null;
  readonly gpu_hours: number;
  readonly npu_hours: number;
  readonly cost: number | null;
}

/** The budget's metric over the rows its filters match (all when it has none). Exact. */
export function measure(b: Budget, rows: readonly BudgetRow[]): number {
  let sum = 0;
  for (const r of rows) {
    if (b.source !== undefined && r.source !== b.source) continue;
    if (b.pool_id !== undefined && r.pool_id !== b.pool_id) continue;
    if (b.flavor_code !== undefined && r.flavor_code !== b.flavor_code) continue;
    sum += r[b.metric] ?? 0;
  }
  return sum;
}

const round = (metric: BudgetMetric, value: number) =>
  metric === "cost" ? roundCents(value) : roundHours(value);

function stateOf(b: Budget, actual: number, forecast: number | null): BudgetState {
  const state: BudgetStateName =
    actual > b.limit ? "over" : forecast !== null && forecast > b.limit ? "forecast_over" : "ok";
  return {
    name: b.name,
    period: b.period,
    metric: b.metric,
    limit: b.limit,
    actual,
    forecast,
    state,
  };
}

/**
 * The budgets of a day's report. A day budget: the day's figure. A month budget: the month to
 * date — the sum over `monthToDate`, the month's daily reports that exist up to and including
 * the day (the day's own among them) — and its forecast, that sum × `daysInMonth` ÷ their
 * number. Rounded like the metric after summing.
 */
export function dayBudgets(
  budgets: readonly Budget[],
  day: readonly BudgetRow[],
  monthToDate: readonly (readonly BudgetRow[])[],
  daysInMonth: number,
): BudgetState[] {
  return budgets.map((b) => {
    if (b.period === "day") return stateOf(b, round(b.metric, measure(b, day)), null);
    const sum = monthToDate.reduce((n, rows) => n + measure(b, rows), 0);
    const reported = Math.max(1, monthToDate.length);
    return stateOf(b, round(b.metric, sum), round(b.metric, (sum * daysInMonth) / reported));
  });
}

/** The month budgets of a month's report, against its own totals (forecast = actual). */
export function monthBudgets(
  budgets: readonly Budget[],
  month: readonly BudgetRow[],
): BudgetState[] {
  return budgets
    .filter((b) => b.period === "month")
    .map((b) => {
      const actual = round(b.metric, measure(b, month));
      return stateOf(b, actual, actual);
    });
}
