import { InvalidInputError } from "../shared/errors.js";
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
 * /reports, a run's execution input and the job itself: a date, or a range from..to (both
 * ends included), of dates that exist, are not before EARLIEST_DATE and have ended in the
 * report time zone, at most MAX_RANGE_DAYS of them (MAX_REGENERATION_DAYS over HTTP); or a
 * month that has ended. Every limit is here. Each edge maps the error: exit code 2 on the
 * command line, 400 over HTTP, a failed invocation in Lambda.
 */

/** Most dates one run (one scan) may cover: the command line, a run's execution input. */
export const MAX_RANGE_DAYS = 92;
/** Most dates one POST /reports may regenerate. */
export const MAX_REGENERATION_DAYS = 31;

export type DateSelectionProblem =
  /** A date that does not exist, or has not ended yet: 400 `invalid_date`. */
  | "invalid_date"
  /** Fields that do not go together, or a range that is too long: 400 `invalid_body`. */
  | "invalid_range";

/** The dates or the month asked for cannot be reported; `problem` says which rule refused them. */
export class DateSelectionError extends InvalidInputError {
  override readonly name: string = "DateSelectionError";
  readonly problem: DateSelectionProblem;
  constructor(message: string, options: { problem: DateSelectionProblem; cause?: unknown }) {
    super(message, options);
    this.problem = options.problem;
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
        `${names[field]} ${clip(value)} is not a date (YYYY-MM-DD that exists)`,
        { problem: "invalid_date" },
      );
    }
    if (value !== undefined && value < EARLIEST_DATE) {
      throw new DateSelectionError(
        `${names[field]} ${value} is before ${EARLIEST_DATE}, the earliest date a report can cover`,
        { problem: "invalid_date" },
      );
    }
  }
  const { date, from, to } = selection;
  if (date !== undefined && (from !== undefined || to !== undefined)) {
    throw new DateSelectionError(
      `give either ${names.date} or ${names.from}/${names.to}, not both`,
      { problem: "invalid_range" },
    );
  }
  if ((from === undefined) !== (to === undefined)) {
    throw new DateSelectionError(`${names.from} and ${names.to} go together`, {
      problem: "invalid_range",
    });
  }
  let dates: string[];
  if (from !== undefined && to !== undefined) {
    if (from > to) {
      throw new DateSelectionError(`${names.from} ${from} is after ${names.to} ${to}`, {
        problem: "invalid_range",
      });
    }
    if (to > latest) throw notEnded(to, latest, opts.timeZone);
    const days = countDates(from, to);
    if (days > opts.maxDays) {
      throw new DateSelectionError(
        `${names.from}/${names.to} covers ${days} days; at most ${opts.maxDays}`,
        { problem: "invalid_range" },
      );
    }
    dates = datesInRange(from, to);
  } else if (date !== undefined) {
    dates = [date];
  } else if (opts.defaultYesterday) {
    dates = [latest];
  } else {
    throw new DateSelectionError(`give ${names.date}, or ${names.from} and ${names.to}`, {
      problem: "invalid_range",
    });
  }
  const last = dates[dates.length - 1] as string;
  if (last > latest) throw notEnded(last, latest, opts.timeZone);
  return dates;
}

/** A report of a day that has not ended would be short, and latest.json never moves back. */
function notEnded(date: string, latest: string, timeZone: string): DateSelectionError {
  return new DateSelectionError(
    `${date} has not ended yet in ${timeZone}: the latest date that can be reported is ${latest}`,
    { problem: "invalid_date" },
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
    throw new DateSelectionError(`${name} ${clip(month)} is not a month (YYYY-MM)`, {
      problem: "invalid_date",
    });
  }
  if (month < EARLIEST_MONTH) {
    throw new DateSelectionError(
      `${name} ${month} is before ${EARLIEST_MONTH}, the earliest month a report can cover`,
      { problem: "invalid_date" },
    );
  }
  const last = lastEndedMonth(opts.now, opts.timeZone);
  if (month > last) {
    throw new DateSelectionError(
      `${month} has not ended yet in ${opts.timeZone}: the latest month that can be reported is ${last}`,
      { problem: "invalid_date" },
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
      `give either ${opts.monthName ?? "month"} or ${names.date} (${names.from}/${names.to}), not both`,
      { problem: "invalid_range" },
    );
  }
  return { dates: [], month: selectMonth(month, { ...opts, name: opts.monthName ?? "month" }) };
}

/**
 * The dates an invocation lists, as given: consecutive and ascending, and each one a date
 * `selectDates` would take for the range they span.
 */
export function selectDateList(
  dates: readonly string[],
  opts: Omit<SelectDatesOptions, "defaultYesterday">,
): string[] {
  const first = dates[0];
  const last = dates[dates.length - 1];
  if (first === undefined || last === undefined) {
    throw new DateSelectionError("no dates are given", { problem: "invalid_range" });
  }
  const selected = selectDates({ from: first, to: last }, { ...opts, defaultYesterday: false });
  if (selected.length !== dates.length || selected.some((d, i) => d !== dates[i])) {
    throw new DateSelectionError("the event's dates must be consecutive and ascending", {
      problem: "invalid_range",
    });
  }
  return selected;
}

/** What the scheduled run reports: its day, and the month that may be due with it. */
export interface ScheduledSelection {
  readonly dates: [string];
  /** The last month ended by then; reported too when `monthDue` says so. */
  readonly dueMonth: string;
}

/**
 * The scheduled run's day: yesterday in `timeZone` as of the scheduled time (so a retry after
 * midnight still reports the day it was scheduled for), never after `now`.
 */
export function selectScheduled(
  scheduledAt: number | undefined,
  opts: { now: number; timeZone: string },
): ScheduledSelection {
  const at = Math.min(scheduledAt ?? opts.now, opts.now);
  return { dates: [yesterday(at, opts.timeZone)], dueMonth: lastEndedMonth(at, opts.timeZone) };
}

/**
 * Whether the scheduled run reports `dueMonth` too: the first run after a month ended does,
 * unless latest-month.json already names it or a later month (`reported`, if any).
 */
export function monthDue(dueMonth: string, reported: string | undefined): string | undefined {
  return reported === undefined || reported < dueMonth ? dueMonth : undefined;
}
