/** Number and text formatting shared by the renderers (report.md §3, §5). Pure. */

/**
 * Hours rounded to 6 decimals, half away from zero. Scaling first and nudging up by a few
 * ulps (4 ε relative) keeps float noise (1.0000005 × 1e6 = 1000000.4999999999, 0.1 + 0.2)
 * from rounding a half the wrong way; the nudge changes only values within float noise of a
 * half. The result is 0 or at least 1e-6 in size, so JSON.stringify writes it as a plain
 * decimal (it uses exponents only below 1e-6 and from 1e21).
 */
export function roundHours(x: number): number {
  return roundHalfUp(x, 1e6);
}

/** `x` to the nearest 1/`scale`, halves away from zero, nudged past float noise (see above). */
function roundHalfUp(x: number, scale: number): number {
  const scaled = Math.abs(x) * scale;
  // From 2^52 units a double has no fraction left to round, and the nudge would be worth a
  // unit or more: such a value (and NaN) is kept as it is.
  if (!(scaled < 2 ** 52)) return x;
  const rounded = Math.round(scaled * (1 + Number.EPSILON * 4)) / scale;
  return rounded === 0 ? 0 : Math.sign(x) * rounded;
}

/**
 * Money to cents, half away from zero, with the same nudge as `roundHours`: 0.865 is
 * 0.8649999999999999 as a double, and is still 0.87.
 */
export function roundCents(x: number): number {
  return roundHalfUp(x, 100);
}

/** A plain decimal, never exponent notation: "0.000001", "12.5", "0". */
export function formatHours(x: number): string {
  return formatHoursFixed(x).replace(/\.?0+$/, "");
}

/**
 * Hours with always six decimals ("0.000000", "12.500000"): the CSV files. A reader that types
 * a column from its text (DuckDB, pandas) sees a decimal in every file, so a day whose hours
 * happen to be whole types the same as the others (issue 18). The same value as `formatHours`.
 */
export function formatHoursFixed(x: number): string {
  return fixedDecimals(roundHours(x), 6);
}

/** Money with always two decimals ("0.00", "200.00"), rounded to cents like `roundCents`. */
export function formatCents(x: number): string {
  return fixedDecimals(roundCents(x), 2);
}

/** `x` with exactly `digits` decimals, never exponent notation. */
function fixedDecimals(x: number, digits: number): string {
  // toFixed writes exponents from 1e21; such a figure has no decimals left to show anyway.
  if (Math.abs(x) >= 1e21 && Number.isFinite(x)) return `${BigInt(x)}.${"0".repeat(digits)}`;
  return x.toFixed(digits);
}

/** The largest epoch milliseconds a Date holds (year 275760). */
const MAX_DATE_MS = 8.64e15;

/**
 * ISO 8601 in UTC with milliseconds and `Z` (`2026-11-27T08:00:00.000Z`); empty for 0 (the
 * API's "never"). A time past what a Date can hold (the API accepts any safe integer) is
 * written as its epoch milliseconds rather than failing the whole file.
 */
export function isoUtc(ms: number): string {
  if (!(ms > 0)) return "";
  return ms <= MAX_DATE_MS ? new Date(ms).toISOString() : String(ms);
}

const FORMULA_START = /^[=+\-@\t\r\n]/;

/**
 * A text cell that a spreadsheet would run as a formula gets a leading `'` (job names are
 * user input). Numbers are written as numbers and never pass through here.
 */
export function csvText(s: string | null): string {
  if (s === null) return "";
  return FORMULA_START.test(s) ? `'${s}` : s;
}

const READABLE = {
  count: new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 }),
  hours: new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 }),
  cost: new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
} as const;

/**
 * A figure for reading at a glance (the page's cards), not for finding in the files: thousands
 * grouped, hours to one decimal ("2,273.7"), money in cents ("1,234.50"), counts whole. Hours
 * that would round to 0.0 are "<0.1", so that little is not shown as nothing.
 */
export function formatReadable(x: number, kind: "count" | "hours" | "cost"): string {
  if (kind === "hours" && x > 0 && x < 0.05) return "<0.1";
  return READABLE[kind].format(x);
}
