import { STILL_RUNNING_STATUSES } from "../modelarts/statuses.js";
import type { JobVersion } from "../modelarts/version-record.js";

/**
 * report.md §2 (and §9 "started"): a version's run, the instants that place it in a report,
 * and the one rule deciding which windows' reports it is in. The scan filter (`isInReport`),
 * the aggregation and the rows of jobs.csv all decide through `placeVersion`.
 */

export const MS_PER_HOUR = 3_600_000;

/** A half-open time range [start, end) in epoch ms. */
export interface Interval {
  readonly start: number;
  readonly end: number;
}

/** The window of one report: a day or a month. */
export interface ReportWindow extends Interval {
  /** The period's label: a date, or a month. */
  readonly label: string;
}

/**
 * The end of the version's run interval (§2), which starts at its start_time; 0 when it has
 * none (it never ran, or the interval is empty). `now` is the time the report is generated:
 * the end of a job that is still going.
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

/** start_time − create_time in ms for a version that started (not before it was created). */
export function waitMs(v: JobVersion): number | null {
  return v.startTime > 0 && v.startTime >= v.createTime ? v.startTime - v.createTime : null;
}

/**
 * Contiguous ascending windows as their bounds: each window's start, then the last one's end.
 * Window `i` is [bounds[i], bounds[i + 1]).
 */
export type WindowBounds = readonly number[];

export function windowBounds(windows: readonly Interval[]): number[] {
  const bounds = windows.map((w) => w.start);
  const last = windows[windows.length - 1];
  if (last !== undefined) bounds.push(last.end);
  return bounds;
}

/** Index of the window holding `t`, or -1 outside all of them. */
export function windowIndex(bounds: WindowBounds, t: number): number {
  const last = bounds.length - 1;
  const first = bounds[0] as number;
  if (last < 1 || t < first || t >= (bounds[last] as number)) return -1;
  // Windows are days (or one month) of nearly equal length: guess from the mean, then step
  // the hour or so that daylight saving moves a bound. O(1) in practice.
  let i = Math.min(last - 1, Math.floor(((t - first) * last) / ((bounds[last] as number) - first)));
  while ((bounds[i] as number) > t) i--;
  while ((bounds[i + 1] as number) <= t) i++;
  return i;
}

/**
 * Where one version stands against a set of windows: its run, the windows the run overlaps,
 * and the window of each instant that places it in a report. Window indices are -1 for an
 * instant outside every window.
 */
export interface Placement {
  /** The run [runStart, runEnd) (§2); both 0 when the version has none. */
  runStart: number;
  runEnd: number;
  /** The windows the run overlaps (overlap > 0): firstRun..lastRun, none when lastRun < firstRun. */
  firstRun: number;
  lastRun: number;
  /** The window its create_time falls in. */
  created: number;
  /** The window its start_time falls in (-1 when it never started). */
  started: number;
  /** The window its failure time falls in, when its status is in the failure set; else -1. */
  failed: number;
}

export const newPlacement = (): Placement => ({
  runStart: 0,
  runEnd: 0,
  firstRun: 0,
  lastRun: -1,
  created: -1,
  started: -1,
  failed: -1,
});

/**
 * The one rule of §2: a version is in window `i`'s report when its run overlaps the window
 * (active), or it was created, started or failed in it. Fills `out` (the aggregation reuses
 * one object for millions of versions) and returns it.
 */
export function placeVersion(
  v: JobVersion,
  now: number,
  failureStatuses: ReadonlySet<number>,
  bounds: WindowBounds,
  out: Placement,
): Placement {
  const end = runEnd(v, now);
  out.runStart = end === 0 ? 0 : v.startTime;
  out.runEnd = end;
  out.firstRun = 0;
  out.lastRun = -1;
  if (end !== 0) {
    const first = windowIndex(bounds, Math.max(v.startTime, bounds[0] ?? 0));
    if (first !== -1 && (bounds[first] as number) < end) {
      let last = first;
      while (last + 2 < bounds.length && (bounds[last + 1] as number) < end) last++;
      out.firstRun = first;
      out.lastRun = last;
    }
  }
  out.created = windowIndex(bounds, v.createTime);
  out.started = v.startTime > 0 ? windowIndex(bounds, v.startTime) : -1;
  out.failed = failureStatuses.has(v.status) ? windowIndex(bounds, failedAt(v)) : -1;
  return out;
}

/** Whether the placed version is active (its run overlaps) in window `i`. */
export const isActiveIn = (p: Placement, i: number): boolean => i >= p.firstRun && i <= p.lastRun;

/** Whether the placed version is in window `i`'s report (active, created, started or failed). */
export function isPlacedIn(p: Placement, i: number): boolean {
  return isActiveIn(p, i) || i === p.created || i === p.started || i === p.failed;
}

/** A window (not -1) the placed version's run does not overlap. */
const outsideRun = (p: Placement, i: number): boolean => i !== -1 && !isActiveIn(p, i);

/**
 * Calls `visit` once for each window whose report the placed version is in (`isPlacedIn`):
 * the windows its run overlaps in order, then those of its creation, start and failure
 * outside them, each once.
 */
export function forEachWindowOf(p: Placement, visit: (i: number) => void): void {
  for (let i = p.firstRun; i <= p.lastRun; i++) visit(i);
  const { created, started, failed } = p;
  if (outsideRun(p, created)) visit(created);
  if (outsideRun(p, started) && started !== created) visit(started);
  if (outsideRun(p, failed) && failed !== created && failed !== started) visit(failed);
}

/** Milliseconds of the placed version's run inside window `i` (§2 `overlap`). */
export function overlapIn(p: Placement, bounds: WindowBounds, i: number): number {
  if (!isActiveIn(p, i)) return 0;
  return Math.min(p.runEnd, bounds[i + 1] as number) - Math.max(p.runStart, bounds[i] as number);
}

/**
 * Whether the version is in a report whose window (or range of windows) is `window` (§2): the
 * scan's filter, through the same rule as the aggregation.
 */
export function isInReport(
  v: JobVersion,
  window: Interval,
  now: number,
  failureStatuses: ReadonlySet<number>,
): boolean {
  const p = placeVersion(v, now, failureStatuses, [window.start, window.end], newPlacement());
  return isPlacedIn(p, 0);
}
