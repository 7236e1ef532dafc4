import * as z from "zod";
import { DateSelectionError, type RunSelection, selectRun } from "../report/select-dates.js";
import { HttpError } from "../shared/errors.js";

/** POST /reports: what a regeneration asks for (report.md §7). */

export const MAX_REGENERATION_DAYS = 31;

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
    throw new HttpError(
      400,
      "invalid_body",
      'the body must be a JSON object {"date": D}, {"from": D, "to": D} or {"month": M}',
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
    throw new HttpError(400, "invalid_body", message);
  }
  try {
    return selectRun(parsed.data, {
      now: opts.now,
      timeZone: opts.timeZone,
      maxDays: MAX_REGENERATION_DAYS,
      defaultYesterday: false,
    });
  } catch (error) {
    if (error instanceof DateSelectionError) {
      const code = error.problem === "invalid_date" ? "invalid_date" : "invalid_body";
      throw new HttpError(400, code, error.message);
    }
    throw error;
  }
}
