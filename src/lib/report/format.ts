/** Number and text formatting shared by the renderers (report.md §3, §5). Pure. */

/**
 * Hours rounded to 6 decimals, half away from zero. Scaling first and correcting by a few
 * ulps keeps float noise (1.0000005 stored as 1.00000049999…) from rounding the wrong way.
 */
export function roundHours(x: number): number {
  const scaled = Math.abs(x) * 1e6;
  const rounded = Math.round(scaled * (1 + Number.EPSILON * 4)) / 1e6;
  return rounded === 0 ? 0 : Math.sign(x) * rounded;
}

/** A plain decimal, never exponent notation: "0.000001", "12.5", "0". */
export function formatHours(x: number): string {
  const rounded = roundHours(x);
  if (rounded === 0) return "0";
  return rounded.toFixed(6).replace(/\.?0+$/, "");
}

/** ISO 8601 in UTC with milliseconds and `Z`; empty for 0 (the API's "never"). */
export function isoUtc(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString() : "";
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
