import { formatHours } from "./format.js";
import type { UsageReport } from "./types.js";

/**
 * What raises an alert (report.md §11), as pure rules over a run's reports: a budget in
 * `forecast_over` or `over`, and a spike of failures. Each alert has an id that says what it
 * is about, so the same finding raises it once however often it is found (storage/alerts.ts).
 */

export type AlertKind = "budget" | "failures" | "run_failed";

/** An alert before it is raised: `raised_at` comes when it is stored. */
export interface AlertCandidate {
  /** `budget:<name>:<day or month>:<state>`, `failures:<day>`, `run_failed:<day>`. */
  readonly id: string;
  readonly kind: AlertKind;
  /** The day (or, for a month budget, the month) it is about. */
  readonly period: string;
  readonly budget: string | null;
  readonly state: string | null;
  /** The actual, forecast or failure count that raised it. */
  readonly value: number;
  readonly limit: number | null;
  readonly message: string;
}

/** Failures spike: more than this many in a day… */
export const SPIKE_MIN = 5;
/** …and more than this many times the mean of the reported days among the 14 before. */
export const SPIKE_FACTOR = 3;
export const SPIKE_DAYS = 14;

const figure = (metric: string, v: number) =>
  metric === "cost"
    ? v.toFixed(2)
    : `${formatHours(v)} ${metric === "gpu_hours" ? "GPU-h" : "NPU-h"}`;

/** The budget alerts of a day's report: one per budget in `forecast_over` or `over`. */
export function budgetAlerts(report: Pick<UsageReport, "label" | "budgets">): AlertCandidate[] {
  return report.budgets.flatMap((b): AlertCandidate[] => {
    if (b.state === "ok") return [];
    // A month budget is about its month: `forecast_over` on the 10th and the 11th is one alert.
    const period = b.period === "month" ? report.label.slice(0, 7) : report.label;
    const value = b.state === "over" ? b.actual : (b.forecast ?? b.actual);
    const what = b.state === "over" ? "is over its limit" : "is forecast to go over its limit";
    return [
      {
        id: `budget:${b.name}:${period}:${b.state}`,
        kind: "budget",
        period,
        budget: b.name,
        state: b.state,
        value,
        limit: b.limit,
        message: `budget ${b.name} (${b.period} ${period}) ${what}: ${figure(b.metric, value)} against ${figure(b.metric, b.limit)}`,
      },
    ];
  });
}

/**
 * The failures alert of `day`, if it is a spike: its failed versions above SPIKE_MIN and above
 * SPIKE_FACTOR × the mean over the reported days among the SPIKE_DAYS before it (`before`: the
 * failed versions of those that are reported). None when none of them is reported.
 */
export function failureAlert(
  day: string,
  failed: number,
  before: readonly number[],
): AlertCandidate | undefined {
  if (before.length === 0) return undefined;
  const mean = before.reduce((n, f) => n + f, 0) / before.length;
  if (!(failed > SPIKE_MIN && failed > SPIKE_FACTOR * mean)) return undefined;
  return {
    id: `failures:${day}`,
    kind: "failures",
    period: day,
    budget: null,
    state: null,
    value: failed,
    limit: null,
    message: `${failed} versions failed on ${day}, more than ${SPIKE_FACTOR} times the mean of ${mean.toFixed(2)} over the ${before.length} reported days before it`,
  };
}

/** Of a failed run's cause, at most this many characters go into its alert. */
const MAX_DETAIL = 300;

/**
 * A scheduled run that failed (report.md §11): one alert per scheduled date, however often
 * its execution is retried. `detail` is the failure's own message (never a stack trace).
 */
export function runFailedAlert(
  date: string,
  failure: { readonly error: string; readonly detail: string; readonly execution: string },
): AlertCandidate {
  const { error, detail, execution } = failure;
  const short = detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail;
  return {
    id: `run_failed:${date}`,
    kind: "run_failed",
    period: date,
    budget: null,
    state: null,
    value: 1,
    limit: null,
    message: `the scheduled run for ${date} failed (${error})${short === "" ? "" : `: ${short}`}; execution ${execution} names the step`,
  };
}
