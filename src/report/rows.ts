import { statusName } from "../modelarts/statuses.js";
import {
  type DayAccumulator,
  GroupAccumulator,
  type GroupKeys,
  type Wait,
} from "./accumulators.js";
import { MS_PER_HOUR, type ReportWindow } from "./interval.js";
import { JobRows } from "./job-rows.js";
import type { PriceTable } from "./prices.js";
import type {
  FlavorPoolRow,
  FlavorRow,
  Metrics,
  PoolRow,
  QueueWait,
  SourceFlavorPoolRow,
  SourceRow,
  StatusCount,
} from "./types.js";

/** One window's figures, shaped into the rows of its report (report.md §3, §5, §9). */
export interface PeriodAggregate {
  /** The period's label: a date, or a month. */
  readonly label: string;
  readonly totals: Metrics;
  readonly by_flavor: FlavorRow[];
  readonly by_pool: PoolRow[];
  readonly by_flavor_pool: FlavorPoolRow[];
  /** Every source, zero-usage ones included (§10); peaks within the source. */
  readonly by_source: SourceRow[];
  readonly by_source_flavor_pool: SourceFlavorPoolRow[];
  readonly statuses: StatusCount[];
  /** Versions in the day's report, by version id. */
  readonly jobs: JobRows;
  /** Versions started in the window that waited longest, longest first (at most 10). */
  readonly longestWaits: QueueWait[];
  /** Flavors in the day's report without a price; empty without a price table. */
  readonly unpricedFlavors: (string | null)[];
}

/** What shaping needs besides the day: the run's keys and settings. */
export interface RowContext {
  readonly keys: GroupKeys;
  /** The run's sources, in configuration order. */
  readonly sourceNames: readonly string[];
  /** Sorted ascending, as report.json lists them. */
  readonly failureStatuses: readonly number[];
  readonly failureSet: ReadonlySet<number>;
  readonly now: number;
  readonly prices: PriceTable | undefined;
}

/** Code-unit order with null last (report.md §5). */
export function compareKeys(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/** Rows by exact GPU-hours, descending; ties by their keys. */
function byGpuHoursThenKeys<R extends Metrics>(keys: (row: R) => (string | null)[]) {
  return (a: R, b: R): number => {
    if (a.gpu_hours !== b.gpu_hours) return b.gpu_hours - a.gpu_hours;
    const ka = keys(a);
    const kb = keys(b);
    for (let i = 0; i < ka.length; i++) {
      const c = compareKeys(ka[i] ?? null, kb[i] ?? null);
      if (c !== 0) return c;
    }
    return 0;
  };
}

/**
 * The report of a finished day (its costs summed and its peaks swept): the group rows in
 * report order, the status counts, the job rows, the longest waits and the unpriced flavors.
 */
export function dayAggregate(
  day: DayAccumulator,
  window: ReportWindow,
  ctx: RowContext,
): PeriodAggregate {
  const { failureStatuses, failureSet, now, prices, sourceNames } = ctx;
  const groups = groupRows(day, ctx);
  return {
    label: window.label,
    totals: day.totals.metrics(failureStatuses, prices !== undefined),
    ...groups,
    statuses: statusRows(day),
    jobs: new JobRows(
      day.versions,
      { window, now, failureStatuses: failureSet, prices },
      { names: sourceNames, starts: day.sourceStarts },
    ),
    longestWaits: day.longestWaits.top.map((w) => waitRow(w, sourceNames)),
    unpricedFlavors: unpricedFlavors(groups.by_flavor, prices),
  };
}

type GroupRows = Pick<
  PeriodAggregate,
  "by_flavor" | "by_pool" | "by_flavor_pool" | "by_source" | "by_source_flavor_pool"
>;

/** The day's flavor, pool and flavor×pool rows, each ordered by GPU-hours, then keys. */
function groupRows(day: DayAccumulator, ctx: RowContext): GroupRows {
  const { keys, failureStatuses, prices } = ctx;
  const metrics = (acc: GroupAccumulator) => acc.metrics(failureStatuses, prices !== undefined);
  const by_flavor: FlavorRow[] = [];
  day.flavors.forEach((acc, id) => {
    if (acc) by_flavor.push({ flavor_code: keys.flavors[id] ?? null, ...metrics(acc) });
  });
  const by_pool: PoolRow[] = [];
  day.pools.forEach((acc, id) => {
    if (acc) by_pool.push({ pool_id: keys.pools[id] ?? null, ...metrics(acc) });
  });
  const by_flavor_pool: FlavorPoolRow[] = [];
  day.pairs.forEach((acc, id) => {
    const [f, p] = keys.pairs[id] as [number, number];
    if (acc) {
      by_flavor_pool.push({
        flavor_code: keys.flavors[f] ?? null,
        pool_id: keys.pools[p] ?? null,
        ...metrics(acc),
      });
    }
  });
  by_flavor.sort(byGpuHoursThenKeys((r) => [r.flavor_code]));
  by_pool.sort(byGpuHoursThenKeys((r) => [r.pool_id]));
  by_flavor_pool.sort(byGpuHoursThenKeys((r) => [r.flavor_code, r.pool_id]));
  return { by_flavor, by_pool, by_flavor_pool, ...sourceRows(day, ctx) };
}

/** The day's rows by source (every source) and by source, flavor and pool (§10). */
function sourceRows(
  day: DayAccumulator,
  { keys, sourceNames, failureStatuses, prices }: RowContext,
): Pick<GroupRows, "by_source" | "by_source_flavor_pool"> {
  const metrics = (acc: GroupAccumulator) => acc.metrics(failureStatuses, prices !== undefined);
  // A source without a version this day still has its row, of zeros (its own peaks are 0).
  const none = new GroupAccumulator(-1);
  const by_source: SourceRow[] = sourceNames.map((source, id) => ({
    source,
    ...metrics(day.sources[id] ?? none),
  }));
  const by_source_flavor_pool: SourceFlavorPoolRow[] = [];
  day.sourcePairs.forEach((acc, id) => {
    const [s, pairId] = keys.sourcePairs[id] as [number, number];
    const [f, p] = keys.pairs[pairId] as [number, number];
    if (acc) {
      by_source_flavor_pool.push({
        source: sourceNames[s] ?? null,
        flavor_code: keys.flavors[f] ?? null,
        pool_id: keys.pools[p] ?? null,
        ...metrics(acc),
      });
    }
  });
  by_source.sort(byGpuHoursThenKeys((r) => [r.source]));
  by_source_flavor_pool.sort(byGpuHoursThenKeys((r) => [r.source, r.flavor_code, r.pool_id]));
  return { by_source, by_source_flavor_pool };
}

/** The day's versions counted by current status, every status that occurs, by code. */
function statusRows(day: DayAccumulator): StatusCount[] {
  const counts: [number, number][] = [...day.otherStatuses];
  day.commonStatuses.forEach((n, status) => {
    if (n > 0) counts.push([status, n]);
  });
  return counts
    .sort(([a], [b]) => a - b)
    .map(([status, versions]) => ({ status, name: statusName(status), versions }));
}

const waitRow = ({ v, waitMs, sourceId }: Wait, sourceNames: readonly string[]): QueueWait => ({
  source: sourceNames[sourceId] ?? "",
  version_id: v.versionId,
  version_name: v.versionName,
  flavor_code: v.flavorCode,
  pool_id: v.poolId,
  wait_hours: waitMs / MS_PER_HOUR,
});

/** Flavors of the day's rows without a price, in key order; none without a price table. */
function unpricedFlavors(
  byFlavor: readonly FlavorRow[],
  prices: PriceTable | undefined,
): (string | null)[] {
  if (prices === undefined) return [];
  return byFlavor
    .map((r) => r.flavor_code)
    .filter((f) => f === null || !prices.flavors.has(f))
    .sort(compareKeys);
}
