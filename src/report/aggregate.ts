import type { JobVersion } from "../modelarts/version-record.js";
import { type Contribution, DayAccumulator, GroupKeys, outcomeIndex } from "./accumulators.js";
import {
  forEachWindowOf,
  isActiveIn,
  newPlacement,
  placeVersion,
  type ReportWindow,
  waitMs,
  windowBounds,
} from "./interval.js";
import type { PriceTable } from "./prices.js";
import { dayAggregate, type PeriodAggregate } from "./rows.js";

/**
 * The pure aggregation (report.md §2–§3): versions in, per-day metrics out. No I/O, no clock:
 * `now` (the end of still-running jobs) and the windows are inputs. One pass over the
 * versions for any number of days; each version touches only the days it is in (the rule of
 * `placeVersion`). The sums live in accumulators.ts, the peaks in peaks.ts, the shaping of
 * the rows in rows.ts.
 */

/** One source's versions (report.md §10); a version is (source, version_id). */
export interface SourceVersions {
  /** The source's name: by_source's `source`, jobs.csv's `source`. */
  readonly name: string;
  readonly versions: Iterable<JobVersion>;
}

export interface AggregateInput {
  /** In configuration order; one for a single listing. */
  readonly sources: readonly SourceVersions[];
  /** Contiguous and ascending: each window's end is the next one's start. */
  readonly windows: readonly ReportWindow[];
  readonly now: number;
  readonly failureStatuses: readonly number[];
  /** Prices for `cost`; without them every cost is `null` (§9). */
  readonly prices?: PriceTable | undefined;
}

export function aggregate(input: AggregateInput): PeriodAggregate[] {
  const { windows, now, prices } = input;
  const failureSet = new Set(input.failureStatuses);
  const bounds = windowBounds(windows);
  const days = windows.map(() => new DayAccumulator());
  const keys = new GroupKeys();
  // One placement and one contribution, reused for every version and version-day.
  const p = newPlacement();
  const c: Contribution = {
    v: undefined as unknown as JobVersion, // set before each use
    clipStart: 0,
    clipEnd: 0,
    created: false,
    failed: false,
    started: false,
    startedWaitMs: null,
    outcome: 0,
    flavorId: 0,
    poolId: 0,
    pairId: 0,
    sourceId: 0,
    sourcePairId: 0,
  };
  /** Adds the version in `c.v`, placed in `p`, to day `i`. */
  const visit = (i: number) => {
    const active = isActiveIn(p, i);
    c.clipStart = active ? Math.max(p.runStart, bounds[i] as number) : 0;
    c.clipEnd = active ? Math.min(p.runEnd, bounds[i + 1] as number) : 0;
    c.created = p.created === i;
    c.failed = p.failed === i;
    c.started = p.started === i;
    c.startedWaitMs = c.started ? waitMs(c.v) : null;
    (days[i] as DayAccumulator).add(c);
  };

  input.sources.forEach((source, sourceId) => {
    c.sourceId = sourceId;
    for (const v of source.versions) {
      placeVersion(v, now, failureSet, bounds, p);
      c.v = v;
      c.outcome = outcomeIndex(v.status);
      c.flavorId = keys.flavor(v.flavorCode);
      c.poolId = keys.pool(v.poolId);
      c.pairId = keys.pair(c.flavorId, c.poolId);
      c.sourcePairId = keys.sourcePair(sourceId, c.pairId);
      forEachWindowOf(p, visit);
    }
  });

  const sourceNames = input.sources.map((s) => s.name);
  const ctx = {
    keys,
    sourceNames,
    failureStatuses: input.failureStatuses,
    failureSet,
    now,
    prices,
  };
  return days.map((day, i) => {
    day.finish(keys, prices);
    day.sweepPeaks();
    return dayAggregate(day, windows[i] as ReportWindow, ctx);
  });
}
