/**
 * The one Retry-After parser of every upstream client (ModelArts and IAM). RFC 9110 §10.2.3
 * allows two forms: delta-seconds (`120`) and an HTTP-date, whose only form a sender may
 * generate is the IMF-fixdate (`Wed, 02 Dec 2026 00:31:00 GMT`). Anything else is ignored, so
 * normal backoff applies: `Date.parse` would read `"1.5"` or `"-1"` as dates in 2001, which
 * would mean "retry now".
 */

const DELTA_SECONDS = /^[0-9]{1,9}$/;
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT$/;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** Seconds to wait (0 for a date in the past), or `undefined` for a missing or bad value. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (DELTA_SECONDS.test(text)) return Number(text);
  const m = IMF_FIXDATE.exec(text);
  if (m === null) return undefined;
  const [, weekday, day, month, year, hour, minute, second] = m;
  const at = Date.UTC(
    Number(year),
    MONTHS.indexOf(month as string),
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  const date = new Date(at);
  // A date that does not exist (31 Feb, 25:00) or a weekday that does not match is not one.
  if (
    date.getUTCDate() !== Number(day) ||
    date.getUTCHours() !== Number(hour) ||
    date.getUTCMinutes() !== Number(minute) ||
    date.getUTCSeconds() !== Number(second) ||
    DAYS[date.getUTCDay()] !== weekday
  ) {
    return undefined;
  }
  return Math.max(0, Math.ceil((at - now) / 1000));
}
