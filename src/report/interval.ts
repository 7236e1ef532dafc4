import { STILL_RUNNING_STATUSES } from "../modelarts/statuses.js";
import type { JobVersion } from "../modelarts/version-record.js";

/** A half-open time range [start, end) in epoch ms. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/**
 * The version's run interval (report.md §2), or `null` when it never ran or the interval is
 * empty. `now` is the time the report is generated: the end of a job that is still going.
 */
export function runInterval(v: JobVersion, now: number): Interval | null {
  const end = runEnd(v, now);
  return end === 0 ? null : { start: v.startTime, end };
}

/**
 * The end of the version's run interval (§2), which starts at its start_time; 0 when it has
 * none (it never ran, or the interval is empty). The aggregation's hot path uses this to
 * avoid an object per version.
 */
export function runEnd(v: JobVersion, now: number): number {
  if (v.startTime <= 0) return 0;
  let end: number;
  if (v.endTime > 0) end = v.endTime;
  else if (STILL_RUNNING_STATUSES.has(v.status)) end = now;
  else if (v.duration > 0) end = v.startTime + v.duration;
  else return 0;
  return end > v.startTime ? end : 0;
}

/** When a failed version failed: its end time, or its creation when it never ended. */
export function failedAt(v: JobVersion): number {
  return v.endTime > 0 ? v.endTime : v.createTime;
}

export function overlapMs(interval: Interval | null, window: Interval): number {
  if (interval === null) return 0;
  return Math.max(0, Math.min(interval.end, window.end) - Math.max(interval.start, window.start));
}

const within = (t: number, w: Interval) => t >= w.start && t < w.end;

/** Whether the version is in a report whose window (or range of windows) is `window` (§2). */
export function isInReport(
  v: JobVersion,
  window: Interval,
  now: number,
  failureStatuses: ReadonlySet<number>,
): boolean {
  return (
    overlapMs(runInterval(v, now), window) > 0 ||
    within(v.createTime, window) ||
    (v.startTime > 0 && within(v.startTime, window)) ||
    (failureStatuses.has(v.status) && within(failedAt(v), window))
  );
}
