import { EARLIEST_DATE, EARLIEST_MONTH } from "./select-dates.js";
import {
  addDays,
  addMonths,
  dayWindow,
  isValidDate,
  isValidMonth,
  lastEndedMonth,
  localDate,
  monthOf,
  monthWindow,
  yesterday,
} from "./time.js";

/**
 * What a report covers: a day, or a calendar month as one window (report.md §3 over it, §9).
 * Everything that differs between the two lives here, once, in one descriptor per kind: how a
 * label is written and checked, its window, where its files are stored, what its files call
 * the label, its latest pointer, its route, and how far back and forward it may be reported.
 * Code elsewhere asks the descriptor and never tests the kind.
 */

export type PeriodKind = "day" | "month";

export interface Period {
  readonly kind: PeriodKind;
  /** The label's noun in messages and log fields: "date" or "month". */
  readonly noun: "date" | "month";
  /** What a valid label is, for the message refusing another, and that refusal's error code. */
  readonly labelRule: { readonly is: string; readonly code: "invalid_date" | "invalid_month" };
  /** What a page calls it in sentences ("Nothing this day."), and its heading's words before the label. */
  readonly word: "day" | "month";
  readonly headingPrefix: "" | "in the month ";
  /** What its report is called in messages: "report" or "month report". */
  readonly reportName: "report" | "month report";
  /** How a label is written, for messages: `YYYY-MM-DD` or `YYYY-MM`. */
  readonly format: string;
  /** Whether `label` names a period of this kind (a date that exists, a month). */
  isLabel(label: string): boolean;
  /** The period's window in `timeZone`: its first instant, and the first of the next. */
  window(label: string, timeZone: string): { start: number; end: number };
  /** The period before `label` (its report is `previous`, §9). */
  previous(label: string): string;
  /** The storage folder of its reports (`daily`, `monthly`), one sub-folder per label. */
  readonly folder: "daily" | "monthly";
  /** The key of a report file of `label`: `daily/2026-11-27/report.json`. */
  key(label: string, name: string): string;
  /** The field naming the label in report.json, the manifest, the pointer and the CSV files. */
  readonly labelField: "report_date" | "report_month";
  /** The pointer to the newest complete report of this kind (§9). */
  readonly latestKey: "latest.json" | "latest-month.json";
  /** The API route of a report of `label`, without query or file: `/reports/months/2026-10`. */
  route(label: string): string;
  /** The earliest label a report may cover. */
  readonly earliest: string;
  /** The newest label a writer may report and point at: one that has ended in its zone. */
  latestAllowed(now: number, timeZone: string): string;
  /**
   * The newest label any correct writer could have pointed at, as this writer sees it: one
   * that ended by its today + 1 day. Zones are at most 26 hours apart (UTC−12 to UTC+14), so
   * a writer anywhere whose clock is right has a yesterday no later than that.
   */
  latestPossible(now: number, timeZone: string): string;
}

export const DAY: Period = {
  kind: "day",
  noun: "date",
  reportName: "report",
  word: "day",
  headingPrefix: "",
  labelRule: { is: "a date (YYYY-MM-DD that exists)", code: "invalid_date" },
  format: "YYYY-MM-DD",
  isLabel: isValidDate,
  window: dayWindow,
  previous: (date) => addDays(date, -1),
  folder: "daily",
  key: (date, name) => `daily/${date}/${name}`,
  labelField: "report_date",
  latestKey: "latest.json",
  route: (date) => `/reports/${date}`,
  earliest: EARLIEST_DATE,
  latestAllowed: yesterday,
  latestPossible: (now, timeZone) => addDays(localDate(now, timeZone), 1),
};

export const MONTH: Period = {
  kind: "month",
  noun: "month",
  reportName: "month report",
  word: "month",
  headingPrefix: "in the month ",
  labelRule: { is: "a month (YYYY-MM)", code: "invalid_month" },
  format: "YYYY-MM",
  isLabel: isValidMonth,
  window: monthWindow,
  previous: (month) => addMonths(month, -1),
  folder: "monthly",
  key: (month, name) => `monthly/${month}/${name}`,
  labelField: "report_month",
  latestKey: "latest-month.json",
  route: (month) => `/reports/months/${month}`,
  earliest: EARLIEST_MONTH,
  latestAllowed: lastEndedMonth,
  // A month whose last day is at most today + 1: the month before that of today + 2 days.
  latestPossible: (now, timeZone) => addMonths(monthOf(addDays(localDate(now, timeZone), 2)), -1),
};

export const PERIODS: Readonly<Record<PeriodKind, Period>> = { day: DAY, month: MONTH };

/**
 * A period, or its kind as the callers that still name it by kind (the API routes, the command
 * line) give it; `periodOf` turns either into the descriptor.
 */
export type PeriodRef = Period | PeriodKind;

export function periodOf(ref: PeriodRef): Period {
  return typeof ref === "string" ? PERIODS[ref] : ref;
}

/** The period of a report object. */
export function periodOfReport(report: { readonly period: PeriodKind }): Period {
  return PERIODS[report.period];
}

/**
 * The `period` field of a report object of `period`. The object model always names it; the
 * files do not (a day's report.json has `report_date`, a month's `report_month`, report.md §5).
 */
export function periodField(period: Period): { period: PeriodKind } {
  return { period: period.kind };
}
