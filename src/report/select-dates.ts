import { ConfigError } from "../shared/errors.js";
import {
  countDates,
  datesInRange,
  isValidDate,
  isValidMonth,
  lastEndedMonth,
  yesterday,
} from "./time.js";

/**
 * The one rule for which report dates a run may cover, shared by the command line, POST
 * /reports and the report function's event: a date, or a range from..to (both ends included),
 * of dates that exist, are not before EARLIEST_DATE and have ended in the report time zone. Each edge maps the error: exit
 * code 2 on the command line, 400 over HTTP, a failed invocation in Lambda.
 */

export type DateSelectionProblem =
  /** A date that does not exist, or has not ended yet: 400 `invalid_date`. */
  | "invalid_date"
  /** Fields that do not go together, or a range that is too long: 400 `invalid_body`. */
  | "invalid_range";

export class DateSelectionError extends ConfigError {
  override readonly name: string = "DateSelectionError";
  readonly problem: DateSelectionProblem;
  constructor(problem: DateSelectionProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}

export interface DateSelection {
  readonly date?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

export interface SelectDatesOptions {
  /** The clock of the run: dates after yesterday (in `timeZone`) at `now` are refused. */
  readonly now: number;
  readonly timeZone: string;
  /** Most dates a range may hold. */
  readonly maxDays: number;
  /** How the fields are called where they came from (`--from`, `from`). */
  readonly names?: { readonly date: string; readonly from: string; readonly to: string };
  /** Whether no field at all means yesterday (CLI, schedule) or is an error (POST). */
  readonly defaultYesterday: boolean;
}

const clip = (s: string) => JSON.stringify(s.slice(0, 40));

/**
 * The earliest date (and month) a run may cover. ModelArts is younger, and a report of year 0
 * fails deep in the time arithmetic after a full scan (three of them deployed, then the
 * dead-letter queue): refused here, before anything is queued or scanned.
 */
export const EARLIEST_DATE = "2000-01-01";
export const EARLIEST_MONTH = EARLIEST_DATE.slice(0, 7);

/** The dates `selection` names, ascending; throws DateSelectionError saying what is wrong. */
export function selectDates(selection: DateSelection, opts: SelectDatesOptions): string[] {
  const names = opts.names ?? { date: "date", from: "from", to: "to" };
  const latest = yesterday(opts.now, opts.timeZone);
  for (const field of ["date", "from", "to"] as const) {
    const value = selection[field];
    if (value !== undefined && !isValidDate(value)) {
      throw new DateSelectionError(
        "invalid_date",
        `${names[field]} ${clip(value)} is not a date (YYYY-MM-DD that exists)`,
      );
    }
    if (value !== undefined && value < EARLIEST_DATE) {
      throw new DateSelectionError(
        "invalid_date",
        `${names[field]} ${value} is before ${EARLIEST_DATE}, the earliest date a report can cover`,
      );
    }
  }
  const { date, from, to } = selection;
  if (date !== undefined && (from !== undefined || to !== undefined)) {
    throw new DateSelectionError(
      "invalid_range",
      `give either ${names.date} or ${names.from}/${names.to}, not both`,
    );
  }
  if ((from === undefined) !== (to === undefined)) {
    throw new DateSelectionError("invalid_range", `${names.from} and ${names.to} go together`);
  }
  let dates: string[];
  if (from !== undefined && to !== undefined) {
    if (from > to) {
      throw new DateSelectionError(
        "invalid_range",
        `${names.from} ${from} is after ${names.to} ${to}`,
      );
    }
    if (to > latest) throw notEnded(to, latest, opts.timeZone);
    const days = countDates(from, to);
    if (days > opts.maxDays) {
      throw new DateSelectionError(
        "invalid_range",
        `${names.from}/${names.to} covers ${days} days; at most ${opts.maxDays}`,
      );
    }
    dates = datesInRange(from, to);
  } else if (date !== undefined) {
    dates = [date];
  } else if (opts.defaultYesterday) {
    dates = [latest];
  } else {
    throw new DateSelectionError(
      "invalid_range",
      `give ${names.date}, or ${names.from} and ${names.to}`,
    );
  }
  const last = dates[dates.length - 1] as string;
  if (last > latest) throw notEnded(last, latest, opts.timeZone);
  return dates;
}

/** A report of a day that has not ended would be short, and latest.json never moves back. */
function notEnded(date: string, latest: string, timeZone: string): DateSelectionError {
  return new DateSelectionError(
    "invalid_date",
    `${date} has not ended yet in ${timeZone}: the latest date that can be reported is ${latest}`,
  );
}

/**
 * A month a run may report: `YYYY-MM` that has ended in `timeZone` at `now` (a month report
 * of a month still going would be short, and latest-month.json never moves back).
 */
export function selectMonth(
  month: string,
  opts: { now: number; timeZone: string; name?: string },
): string {
  const name = opts.name ?? "month";
  if (!isValidMonth(month)) {
    throw new DateSelectionError("invalid_date", `${name} ${clip(month)} is not a month (YYYY-MM)`);
  }
  if (month < EARLIEST_MONTH) {
    throw new DateSelectionError(
      "invalid_date",
      `${name} ${month} is before ${EARLIEST_MONTH}, the earliest month a report can cover`,
    );
  }
  const last = lastEndedMonth(opts.now, opts.timeZone);
  if (month > last) {
    throw new DateSelectionError(
      "invalid_date",
      `${month} has not ended yet in ${opts.timeZone}: the latest month that can be reported is ${last}`,
    );
  }
  return month;
}

/** What a run is asked for: dates, or a month (never both). */
export interface RunSelection {
  readonly dates: string[];
  readonly month: string | undefined;
}

/** `selectDates`, or a month given instead of any date. */
export function selectRun(
  selection: DateSelection & { readonly month?: string | undefined },
  opts: SelectDatesOptions & { readonly monthName?: string },
): RunSelection {
  const { month, ...days } = selection;
  if (month === undefined) return { dates: selectDates(days, opts), month: undefined };
  if (days.date !== undefined || days.from !== undefined || days.to !== undefined) {
    const names = opts.names ?? { date: "date", from: "from", to: "to" };
    throw new DateSelectionError(
      "invalid_range",
      `give either ${opts.monthName ?? "month"} or ${names.date} (${names.from}/${names.to}), not both`,
    );
  }
  return { dates: [], month: selectMonth(month, { ...opts, name: opts.monthName ?? "month" }) };
}
