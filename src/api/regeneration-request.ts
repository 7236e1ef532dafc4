import * as z from "zod";
import { MAX_REGENERATION_DAYS, type RunSelection, selectRun } from "../report/select-dates.js";
import { RequestError } from "../shared/errors.js";

/** POST /reports: what a regeneration asks for (report.md §7). */

const regenerationBody = z.strictObject({
  date: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  month: z.string().optional(),
});

/** What POST /reports asks for: dates, or a month. */
export type Regeneration = RunSelection;

/**
 * The dates a POST /reports body asks for (report.md §7), or a 400 saying what is wrong:
 * `invalid_date` for a date that does not exist or has not ended in the report time zone,
 * `invalid_body` for anything else.
 */
export function parseRegeneration(
  body: unknown,
  opts: { now: number; timeZone: string },
): Regeneration {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new RequestError(
      'the body must be a JSON object {"date": D}, {"from": D, "to": D} or {"month": M}',
      { code: "invalid_body" },
    );
  }
  const parsed = regenerationBody.safeParse(body);
  if (!parsed.success) {
    const unknown = Object.keys(body).filter((k) => !["date", "from", "to", "month"].includes(k));
    const issue = parsed.error.issues[0];
    const message =
      unknown.length > 0
        ? `unknown field ${JSON.stringify(unknown[0]?.slice(0, 40))}`
        : `${issue?.path.join(".") || "body"}: must be a string (YYYY-MM-DD, or YYYY-MM for month)`;
    throw new RequestError(message, { code: "invalid_body" });
  }
  // Dates (a month) the rule refuses are a DateSelectionError: 400 at the edge.
  return selectRun(parsed.data, {
    now: opts.now,
    timeZone: opts.timeZone,
    maxDays: MAX_REGENERATION_DAYS,
    defaultYesterday: false,
  });
}
