import * as z from "zod";
import {
  DateSelectionError,
  MAX_RANGE_DAYS,
  monthDue,
  selectDateList,
  selectMonth,
  selectScheduled,
} from "../report/select-dates.js";
import { readLatestMonth } from "../storage/pointers.js";
import type { ReportStore } from "../storage/store.js";

/**
 * What a run is started with (the state machine's execution input, which Plan reads):
 * - by EventBridge Scheduler, the schedule's Input from serverless.yml with the schedule's
 *   own time filled in: `{"source": "schedule", "scheduled_time": "2026-11-28T00:30:00Z"}`;
 * - by POST /reports, `{"dates": [...], "request_id": "..."}` or `{"month": "YYYY-MM", ...}`;
 * - by hand (the console, `serverless invoke`), `{}`, `{"dates": [...]}` or `{"month": ...}`.
 * Anything else is refused: a run of an event that was meant otherwise could overwrite days.
 */
const reportEvent = z.strictObject({
  source: z.literal("schedule").optional(),
  scheduled_time: z.iso.datetime({ offset: true }).optional(),
  dates: z.array(z.string()).min(1).max(MAX_RANGE_DAYS).optional(),
  month: z.string().optional(),
  request_id: z.string().min(1).max(100).optional(),
});

export type ReportEvent = z.input<typeof reportEvent>;

export interface ReportRequest {
  readonly dates: string[];
  /** A month asked for explicitly. */
  readonly month: string | undefined;
  /**
   * Set for the scheduled run (and an empty event): the last month ended by then, which the
   * run also reports if it has not been reported yet.
   */
  readonly dueMonth: string | undefined;
  /** The regeneration this run carries out, when it came from POST /reports. */
  readonly requestId: string | undefined;
  /** Started by the schedule (`"source": "schedule"`): its run sends the daily digest. */
  readonly scheduled: boolean;
}

/**
 * The dates an invocation asks for: the given ones (consecutive, ended), or yesterday in
 * `timeZone` as of the scheduled time (so a retry after midnight still reports the day it was
 * scheduled for), or as of `now`.
 */
export function parseReportEvent(input: unknown, now: number, timeZone: string): ReportRequest {
  const parsed = reportEvent.safeParse(input ?? {});
  if (!parsed.success) {
    throw new DateSelectionError(
      `the event is not one a run takes: ${parsed.error.issues[0]?.message ?? "invalid"} at ${parsed.error.issues[0]?.path.join(".") || "the top"}`,
      { problem: "invalid_range" },
    );
  }
  const event = parsed.data;
  const requestId = event.request_id;
  const scheduled = event.source === "schedule";
  if (event.month !== undefined) {
    if (event.dates !== undefined) {
      throw new DateSelectionError("the event gives both dates and a month", {
        problem: "invalid_range",
      });
    }
    const month = selectMonth(event.month, { now, timeZone });
    return { dates: [], month, dueMonth: undefined, requestId, scheduled };
  }
  if (event.dates !== undefined) {
    const dates = selectDateList(event.dates, { now, timeZone, maxDays: MAX_RANGE_DAYS });
    return { dates, month: undefined, dueMonth: undefined, requestId, scheduled };
  }
  const scheduledAt =
    event.scheduled_time === undefined ? undefined : Date.parse(event.scheduled_time);
  const { dates, dueMonth } = selectScheduled(scheduledAt, { now, timeZone });
  return { dates, month: undefined, dueMonth, requestId, scheduled };
}

/**
 * The dates and month a run reports: the event's, and for the scheduled run the month that
 * ended before it, unless that month's report is already stored (then it is not done again).
 */
export async function requestOf(
  input: unknown,
  store: ReportStore,
  now: number,
  timeZone: string,
): Promise<{
  dates: string[];
  month: string | undefined;
  requestId: string | undefined;
  scheduled: boolean;
}> {
  const {
    dates,
    month: asked,
    dueMonth,
    requestId,
    scheduled,
  } = parseReportEvent(input, now, timeZone);
  // The first scheduled run after a month ended reports that month too, from the same scan.
  const reported =
    dueMonth === undefined ? undefined : await readLatestMonth(store).catch(() => undefined);
  const month =
    asked ?? (dueMonth === undefined ? undefined : monthDue(dueMonth, reported?.report_month));
  return { dates, month, requestId, scheduled };
}
