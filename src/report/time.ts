/**
 * Report dates and their windows in the report time zone (report.md §1, §5 "Times in files").
 *
 * Pure: every function takes the instant (`now`, `epochMs`) and the zone it needs; nothing
 * reads the clock. Dates are `YYYY-MM-DD` strings in the proleptic Gregorian calendar, years
 * 0000–9999. Zone rules come from the runtime's ICU data through `Intl` (no dependency).
 *
 * Arguments that break a documented precondition (a malformed date, an unknown zone, a
 * non-finite instant) throw `RangeError`: callers validate user input with `isValidDate` and
 * `isValidTimeZone` first, so reaching one of these is a bug, not a user error.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * No zone has ever been further than this from UTC (the extremes in tzdata are local mean
 * times of about ±15 h 56 min, e.g. Asia/Manila before 1845), so the first instant of a local
 * date lies within this distance of the same wall time read as UTC.
 */
const MAX_OFFSET = 18 * HOUR;

/**
 * How far apart offsets are sampled when looking for transitions. A change of offset that is
 * undone within one step could be missed; tzdata has none since the zones were standardised.
 */
const SAMPLE_STEP = HOUR;

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * "YYYY-MM-DD" naming a day that exists in the proleptic Gregorian calendar, years 0000–9999.
 * Whether the day exists in a particular zone is another matter (see `dayWindow`).
 */
export function isValidDate(date: string): boolean {
  return parseDate(date) !== null;
}

/**
 * An IANA time zone name the runtime knows: "UTC", "Europe/Berlin", links such as
 * "Asia/Calcutta" or "EST5EDT". Matching is case-insensitive, as in `Intl`. Offsets ("+01:00",
 * "-05:00"), which newer runtimes accept as zones, are refused on every runtime: the report
 * zone must follow the zone's daylight-saving rules, and §1 asks for an IANA name.
 */
export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== "string" || !/^[A-Za-z]/.test(tz)) return false;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

/** The date `days` calendar days after `date` (before it when negative). */
export function addDays(date: string, days: number): string {
  if (!Number.isSafeInteger(days)) throw new RangeError(`days must be an integer, got ${days}`);
  return formatDay(toDay(date) + days);
}

/** The dates from `from` to `to`, both included, ascending; empty when `from` is after `to`. */
export function datesInRange(from: string, to: string): string[] {
  const first = toDay(from);
  const last = toDay(to);
  const dates: string[] = [];
  for (let day = first; day <= last; day++) dates.push(formatDay(day));
  return dates;
}

/** How many dates `datesInRange(from, to)` holds: 0 when `from` is after `to`. */
export function countDates(from: string, to: string): number {
  return Math.max(0, toDay(to) - toDay(from) + 1);
}

/** The calendar date on the wall clock of `timeZone` at the instant `epochMs`. */
export function localDate(epochMs: number, timeZone: string): string {
  return formatDay(Math.floor((epochMs + offsetAt(epochMs, timeZone)) / DAY));
}

/**
 * The report date of the scheduled run (§1): the local date before today's in `timeZone`, as
 * seen at `now`. Precisely, the local date of the instant just before today began, which is
 * today − 1 except right after a date the zone skipped: in Pacific/Apia on 2011-12-31
 * (2011-12-30 never happened there) it is 2011-12-29, the last day that had hours.
 */
export function yesterday(now: number, timeZone: string): string {
  const today = Math.floor((now + offsetAt(now, timeZone)) / DAY);
  return localDate(firstInstantFrom(today * DAY, timeZone) - 1, timeZone);
}

/**
 * The first instant (epoch ms) of the local date `date` in `timeZone`: `date` 00:00, or, where
 * the zone skips midnight, the instant the clock jumps past it; where midnight happens twice,
 * the first of the two. A date the zone skipped altogether (Pacific/Apia 2011-12-30) has no
 * instant: its start is the start of the next date that exists, so its window is empty.
 */
export function startOfDay(date: string, timeZone: string): number {
  return firstInstantFrom(toDay(date) * DAY, timeZone);
}

/**
 * The report window of `date` (§1): `[start, end)` with `start = startOfDay(date)` and
 * `end = startOfDay(date + 1)`. It follows the wall clock, so it is 23 or 25 hours long on
 * daylight-saving days (other amounts where a zone changed its standard offset), and empty
 * (`start === end`) for a date the zone skipped.
 */
export function dayWindow(date: string, timeZone: string): { start: number; end: number } {
  const day = toDay(date);
  return {
    start: firstInstantFrom(day * DAY, timeZone),
    end: firstInstantFrom((day + 1) * DAY, timeZone),
  };
}

const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** "YYYY-MM", years 0000–9999. */
export function isValidMonth(month: string): boolean {
  return MONTH_PATTERN.test(month);
}

/** The month `months` after `month` (before it when negative). */
export function addMonths(month: string, months: number): string {
  const m = MONTH_PATTERN.exec(month);
  if (m === null || !Number.isSafeInteger(months)) throw new RangeError(`not a month: ${month}`);
  const index = Number(m[1]) * 12 + Number(m[2]) - 1 + months;
  return `${String(Math.floor(index / 12)).padStart(4, "0")}-${pad2((index % 12) + 1)}`;
}

/** The month a date falls in. */
export function monthOf(date: string): string {
  return date.slice(0, 7);
}

/** Every date of `month`, ascending. */
export function datesOfMonth(month: string): string[] {
  const next = `${addMonths(month, 1)}-01`;
  return datesInRange(`${month}-01`, addDays(next, -1));
}

/**
 * The window of a calendar month in `timeZone`: from the first instant of its first day to
 * the first instant of the next month's first day. On the wall clock, so a month with a
 * daylight-saving change has an hour more or less (Europe/Berlin: 743 h in March, 745 h in
 * October).
 */
export function monthWindow(month: string, timeZone: string): { start: number; end: number } {
  return {
    start: startOfDay(`${month}-01`, timeZone),
    end: startOfDay(`${addMonths(month, 1)}-01`, timeZone),
  };
}

/** The last month that has ended in `timeZone` at `now`: the month before today's. */
export function lastEndedMonth(now: number, timeZone: string): string {
  return addMonths(monthOf(localDate(now, timeZone)), -1);
}

/**
 * `YYYY-MM-DDTHH:MM:SS±HH:MM`: the wall time in `timeZone` with its offset, as the report
 * writes its window (§5). Seconds precision (milliseconds are dropped, rounding down), the
 * offset always numeric ("+00:00" for UTC, never "Z").
 *
 * ISO 8601 offsets have no seconds, so an offset that has some (local mean time, before about
 * 1970 — Africa/Monrovia was −00:44:30 until 1972) is rounded to the nearest minute and the
 * wall time shifted to match: the string still names the same instant, to the second, but its
 * wall time may differ from the zone's by up to 30 seconds.
 */
export function formatWithOffset(epochMs: number, timeZone: string): string {
  const offsetMinutes = Math.round(offsetAt(epochMs, timeZone) / MINUTE);
  const wall = new Date(Math.floor(epochMs / SECOND) * SECOND + offsetMinutes * MINUTE);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  return (
    `${formatDay(Math.floor(wall.getTime() / DAY))}T` +
    `${pad2(wall.getUTCHours())}:${pad2(wall.getUTCMinutes())}:${pad2(wall.getUTCSeconds())}` +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  );
}

/** The offset of `timeZone` from UTC at the instant `epochMs`, in ms, positive east of UTC. */
export function offsetAt(epochMs: number, timeZone: string): number {
  if (!Number.isFinite(epochMs)) throw new RangeError(`not an instant: ${epochMs}`);
  const parts = formatterFor(timeZone).formatToParts(epochMs);
  const name = parts.find((p) => p.type === "timeZoneName")?.value ?? "";
  const match = /^GMT(?:([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?$/.exec(name);
  if (match === null) {
    throw new RangeError(`unexpected offset "${name}" for time zone "${timeZone}"`);
  }
  const [, sign, hours = "0", minutes = "0", seconds = "0"] = match;
  const ms = Number(hours) * HOUR + Number(minutes) * MINUTE + Number(seconds) * SECOND;
  return sign === "-" ? -ms : ms;
}

// ---------------------------------------------------------------------------------------------

/**
 * One formatter per zone, made on first use: creating an Intl.DateTimeFormat costs far more
 * than using one. Only the offset is read from it ("GMT+05:30", "GMT-00:44:30", "GMT"), so the
 * era, the year and the "24" hour of other formats never come into play.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    // Throws RangeError for a zone the runtime does not know.
    formatter = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The first instant whose wall clock in `timeZone` reads `wall` (a wall time written as if it
 * were UTC, in ms) or later. Around `wall` the zone's offset is piecewise constant; in a piece
 * with offset `o` that starts at `s`, the first such instant is `max(s, wall - o)` if that is
 * still inside the piece. The earliest piece that has one wins, so a skipped wall time gives
 * the instant of the jump and a repeated one its first occurrence.
 */
function firstInstantFrom(wall: number, timeZone: string): number {
  const pieces = offsetPieces(wall - MAX_OFFSET, wall + MAX_OFFSET, timeZone);
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as OffsetPiece;
    const end = pieces[i + 1]?.start ?? Number.POSITIVE_INFINITY;
    const candidate = Math.max(piece.start, wall - piece.offset);
    if (candidate < end) return candidate;
  }
  // Unreachable while |offset| <= MAX_OFFSET: the last piece always has a candidate.
  throw new RangeError(`no instant of ${timeZone} reads ${new Date(wall).toISOString()}`);
}

interface OffsetPiece {
  /** The first instant with this offset (the window's start for the first piece). */
  readonly start: number;
  readonly offset: number;
}

/** The offsets of `timeZone` over `[from, to]` (whole seconds), as pieces in time order. */
function offsetPieces(from: number, to: number, timeZone: string): OffsetPiece[] {
  const pieces: OffsetPiece[] = [{ start: from, offset: offsetAt(from, timeZone) }];
  let current = pieces[0] as OffsetPiece;
  let previous = from;
  while (previous < to) {
    const sample = Math.min(previous + SAMPLE_STEP, to);
    const offset = offsetAt(sample, timeZone);
    // More than one transition may fall between two samples: find them one by one.
    while (offset !== current.offset) {
      const start = nextTransition(
        Math.max(previous, current.start),
        sample,
        current.offset,
        timeZone,
      );
      current = { start, offset: offsetAt(start, timeZone) };
      pieces.push(current);
    }
    previous = sample;
  }
  return pieces;
}

/**
 * The first whole second in `(low, high]` whose offset is not `offset`, given that `low` has
 * `offset` and `high` does not. Zone transitions fall on whole seconds.
 */
function nextTransition(low: number, high: number, offset: number, timeZone: string): number {
  let lo = low;
  let hi = high;
  while (hi - lo > SECOND) {
    const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
    if (offsetAt(mid, timeZone) === offset) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Days since 1970-01-01 of a valid date, or null. */
function parseDate(date: string): number | null {
  if (typeof date !== "string") return null;
  const match = DATE_PATTERN.exec(date);
  if (match === null) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  // Date.UTC reads years 0–99 as 1900–1999; setUTCFullYear does not.
  return new Date(0).setUTCFullYear(year, month - 1, day) / DAY;
}

function toDay(date: string): number {
  const day = parseDate(date);
  if (day === null) throw new RangeError(`not a date (YYYY-MM-DD that exists): "${date}"`);
  return day;
}

function formatDay(day: number): string {
  const d = new Date(day * DAY);
  const year = d.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new RangeError("date outside the years 0000–9999");
  return `${String(year).padStart(4, "0")}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}
