import type { JobVersion } from "../../src/modelarts/version-record.js";

/**
 * report.md §2 (and §9 "started"), written out plainly as the tests' oracle: no code shared
 * with src/, one line per sentence of the contract.
 */

export interface Window {
  readonly start: number;
  readonly end: number;
}

/** §2: the version's interval [start, end), or null when it has none or it is empty. */
export function specInterval(v: JobVersion, now: number): Window | null {
  if (!(v.startTime > 0)) return null; // never ran
  const start = v.startTime;
  let end: number;
  if (v.endTime > 0) end = v.endTime;
  // running, being cancelled, scaling: still going
  else if ([8, 9, 15].includes(v.status)) end = now;
  else if (v.duration > 0) end = start + v.duration;
  else return null;
  return end <= start ? null : { start, end };
}

/** §2: overlap(v) = max(0, min(end, windowEnd) − max(start, windowStart)). */
export function specOverlap(v: JobVersion, now: number, w: Window): number {
  const i = specInterval(v, now);
  if (i === null) return 0;
  return Math.max(0, Math.min(i.end, w.end) - Math.max(i.start, w.start));
}

const inWindow = (t: number, w: Window) => w.start <= t && t < w.end;

export interface SpecMembership {
  active: boolean;
  created: boolean;
  failed: boolean;
  started: boolean;
  inReport: boolean;
}

/** §2 and §9: active, created, failed, started in the window; in the report when any of them. */
export function specMembership(
  v: JobVersion,
  w: Window,
  now: number,
  failureStatuses: readonly number[],
): SpecMembership {
  const active = specOverlap(v, now, w) > 0;
  const created = inWindow(v.createTime, w);
  const failedAt = v.endTime > 0 ? v.endTime : v.createTime;
  const failed = failureStatuses.includes(v.status) && inWindow(failedAt, w);
  // start_time 0 means "never started" (§2), not an instant of 1970.
  const started = v.startTime > 0 && inWindow(v.startTime, w);
  return { active, created, failed, started, inReport: active || created || failed || started };
}
