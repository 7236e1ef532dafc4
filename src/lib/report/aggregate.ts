import { OUTCOMES, type Outcome, outcomeOf, statusName } from "../modelarts/statuses.js";
import type { JobVersion } from "../modelarts/version-record.js";
import { failedAt, type Interval, runInterval } from "./interval.js";
import { costOf, type PriceTable } from "./prices.js";
import type {
  FlavorPoolRow,
  FlavorRow,
  JobRow,
  Metrics,
  PoolRow,
  QueueWait,
  StatusCount,
} from "./types.js";

/**
 * The pure aggregation (report.md §2–§3): versions in, per-day metrics out. No I/O, no clock:
 * `now` (the end of still-running jobs) and the windows are inputs. One pass over the
 * versions for any number of days; each version touches only the days it is in.
 */

export interface DayWindow extends Interval {
  readonly date: string;
}

export interface AggregateInput {
  readonly versions: Iterable<JobVersion>;
  /** Contiguous and ascending: each window's end is the next one's start. */
  readonly windows: readonly DayWindow[];
  readonly now: number;
  readonly failureStatuses: readonly number[];
  /** Prices for `cost`; without them every cost is `null` (§9). */
  readonly prices?: PriceTable | undefined;
}

export interface DayAggregate {
  readonly date: string;
  readonly totals: Metrics;
  readonly by_flavor: FlavorRow[];
  readonly by_pool: PoolRow[];
  readonly by_flavor_pool: FlavorPoolRow[];
  readonly statuses: StatusCount[];
  /** Versions in the day's report, by version id. */
  readonly jobs: JobRow[];
  /** Versions started in the window that waited longest, longest first (at most 10). */
  readonly longestWaits: QueueWait[];
  /** Flavors in the day's report without a price; empty without a price table. */
  readonly unpricedFlavors: (string | null)[];
}

/** What one version adds to the groups it belongs to on one day. */
interface Contribution {
  readonly v: JobVersion;
  /** Its run clipped to the window; `null` when it did not run in the window. */
  readonly clipped: Interval | null;
  readonly created: boolean;
  readonly failed: boolean;
  /** start − create in ms when it started in the window (and not before it was created). */
  readonly startedWaitMs: number | null;
  readonly started: boolean;
  readonly outcome: number;
  /** Cost of its hours in the window, 0 when unpriced. */
  readonly cost: number;
}

const OUTCOME_INDEX: ReadonlyMap<Outcome, number> = new Map(OUTCOMES.map((o, i) => [o, i]));
const MAX_LONGEST_WAITS = 10;

const MS_PER_HOUR = 3_600_000;

class GroupAccumulator {
  active = 0;
  created = 0;
  failed = 0;
  readonly failures = new Map<number, number>();
  gpus = 0;
  npus = 0;
  /** Sums of gpu_num × overlap in ms: integers, exact, divided once at the end. */
  gpuMs = 0;
  npuMs = 0;
  runMs = 0;
  started = 0;
  waitMs = 0;
  maxWaitMs = 0;
  readonly gpuMsByOutcome = new Array<number>(OUTCOMES.length).fill(0);
  readonly npuMsByOutcome = new Array<number>(OUTCOMES.length).fill(0);
  cost = 0;
  /** Clipped intervals of versions holding accelerators, as [start, end, gpus, npus] runs. */
  readonly spans: number[] = [];

  add(c: Contribution): void {
    const { v, clipped } = c;
    if (clipped !== null) {
      const ms = clipped.end - clipped.start;
      this.active++;
      this.gpus += v.gpuNum;
      this.npus += v.npuNum;
      this.gpuMs += v.gpuNum * ms;
      this.npuMs += v.npuNum * ms;
      this.runMs += ms;
      (this.gpuMsByOutcome[c.outcome] as number) += v.gpuNum * ms;
      (this.npuMsByOutcome[c.outcome] as number) += v.npuNum * ms;
      this.cost += c.cost;
      if (v.gpuNum > 0 || v.npuNum > 0) {
        this.spans.push(clipped.start, clipped.end, v.gpuNum, v.npuNum);
      }
    }
    if (c.created) this.created++;
    if (c.failed) {
      this.failed++;
      this.failures.set(v.status, (this.failures.get(v.status) ?? 0) + 1);
    }
    if (c.started) {
      this.started++;
      if (c.startedWaitMs !== null) {
        this.waitMs += c.startedWaitMs;
        if (c.startedWaitMs > this.maxWaitMs) this.maxWaitMs = c.startedWaitMs;
      }
    }
  }

  metrics(failureStatuses: readonly number[], priced: boolean): Metrics {
    const [peakGpus, peakNpus] = peaks(this.spans);
    const failuresByStatus: Record<string, number> = {};
    for (const code of failureStatuses) {
      failuresByStatus[String(code)] = this.failures.get(code) ?? 0;
    }
    const byOutcome = (ms: readonly number[]) =>
      Object.fromEntries(OUTCOMES.map((o, i) => [o, (ms[i] as number) / MS_PER_HOUR])) as Record<
        Outcome,
        number
      >;
    return {
      versions_active: this.active,
      versions_created: this.created,
      versions_failed: this.failed,
      failures_by_status: failuresByStatus,
      gpus: this.gpus,
      npus: this.npus,
      peak_gpus: peakGpus,
      peak_npus: peakNpus,
      gpu_hours: this.gpuMs / MS_PER_HOUR,
      npu_hours: this.npuMs / MS_PER_HOUR,
      run_hours: this.runMs / MS_PER_HOUR,
      versions_started: this.started,
      wait_hours: this.waitMs / MS_PER_HOUR,
      max_wait_hours: this.maxWaitMs / MS_PER_HOUR,
      gpu_hours_by_outcome: byOutcome(this.gpuMsByOutcome),
      npu_hours_by_outcome: byOutcome(this.npuMsByOutcome),
      // Rounded to cents after summing (§9).
      cost: priced ? Math.round(this.cost * 100) / 100 : null,
    };
  }
}

/**
 * The largest sums of GPUs and NPUs held at one instant. Intervals are half-open, so at equal
 * times ends are applied before starts: a job ending at t and one starting at t never overlap.
 */
export function peaks(spans: readonly number[]): [gpus: number, npus: number] {
  const n = spans.length / 4;
  if (n === 0) return [0, 0];
  const byStart = Array.from({ length: n }, (_, i) => i);
  const byEnd = byStart.slice();
  const at = (i: number, field: number) => spans[i * 4 + field] as number;
  byStart.sort((a, b) => at(a, 0) - at(b, 0));
  byEnd.sort((a, b) => at(a, 1) - at(b, 1));
  let gpus = 0;
  let npus = 0;
  let peakGpus = 0;
  let peakNpus = 0;
  let e = 0;
  for (const s of byStart) {
    const start = at(s, 0);
    while (e < n && at(byEnd[e] as number, 1) <= start) {
      const ended = byEnd[e++] as number;
      gpus -= at(ended, 2);
      npus -= at(ended, 3);
    }
    gpus += at(s, 2);
    npus += at(s, 3);
    if (gpus > peakGpus) peakGpus = gpus;
    if (npus > peakNpus) peakNpus = npus;
  }
  return [peakGpus, peakNpus];
}

class DayAccumulator {
  readonly totals = new GroupAccumulator();
  readonly flavors = new Map<string | null, GroupAccumulator>();
  readonly pools = new Map<string | null, GroupAccumulator>();
  readonly pairs = new Map<string | null, Map<string | null, GroupAccumulator>>();
  readonly statuses = new Map<number, number>();
  readonly jobs: JobRow[] = [];

  add(c: Contribution, jobCost: number | null): void {
    const { v } = c;
    this.totals.add(c);
    group(this.flavors, v.flavorCode).add(c);
    group(this.pools, v.poolId).add(c);
    let byPool = this.pairs.get(v.flavorCode);
    if (byPool === undefined) {
      byPool = new Map();
      this.pairs.set(v.flavorCode, byPool);
    }
    group(byPool, v.poolId).add(c);
    this.statuses.set(v.status, (this.statuses.get(v.status) ?? 0) + 1);
    this.jobs.push({
      version: v,
      overlapMs: c.clipped === null ? 0 : c.clipped.end - c.clipped.start,
      failed: c.failed,
      waitMs: v.startTime > 0 && v.startTime >= v.createTime ? v.startTime - v.createTime : null,
      cost: jobCost,
    });
  }
}

function group<K>(map: Map<K, GroupAccumulator>, key: K): GroupAccumulator {
  let acc = map.get(key);
  if (acc === undefined) {
    acc = new GroupAccumulator();
    map.set(key, acc);
  }
  return acc;
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

/** Index of the window holding `t`, or -1 outside all of them. */
function windowIndex(bounds: readonly number[], t: number): number {
  const last = bounds.length - 1;
  if (last < 1 || t < (bounds[0] as number) || t >= (bounds[last] as number)) return -1;
  let lo = 0;
  let hi = last - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((bounds[mid] as number) <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function aggregate(input: AggregateInput): DayAggregate[] {
  const { windows, now, prices } = input;
  const failureSet = new Set(input.failureStatuses);
  const bounds = windows.map((w) => w.start);
  const lastWindow = windows[windows.length - 1];
  if (lastWindow !== undefined) bounds.push(lastWindow.end);
  const days = windows.map(() => new DayAccumulator());

  for (const v of input.versions) {
    const interval = runInterval(v, now);
    const createdIn = windowIndex(bounds, v.createTime);
    const failedIn = failureSet.has(v.status) ? windowIndex(bounds, failedAt(v)) : -1;
    const startedIn = v.startTime > 0 ? windowIndex(bounds, v.startTime) : -1;
    // The days this version is in: those its run overlaps, plus its creation, start and
    // failure days.
    const touched: number[] = [];
    if (interval !== null) {
      let i = windowIndex(bounds, Math.max(interval.start, bounds[0] ?? 0));
      while (i !== -1 && i < windows.length && (bounds[i] as number) < interval.end) {
        touched.push(i);
        i++;
      }
    }
    for (const day of [createdIn, startedIn, failedIn]) {
      if (day !== -1 && !touched.includes(day)) touched.push(day);
    }
    const outcome = OUTCOME_INDEX.get(outcomeOf(v.status)) as number;

    for (const i of touched) {
      const w = windows[i] as DayWindow;
      let clipped: Interval | null = null;
      if (interval !== null) {
        const start = Math.max(interval.start, w.start);
        const end = Math.min(interval.end, w.end);
        if (end > start) clipped = { start, end };
      }
      const runH = clipped === null ? 0 : (clipped.end - clipped.start) / MS_PER_HOUR;
      const cost =
        prices === undefined
          ? undefined
          : costOf(prices, v.flavorCode, { run: runH, gpu: v.gpuNum * runH, npu: v.npuNum * runH });
      const started = startedIn === i;
      const contribution: Contribution = {
        v,
        clipped,
        created: createdIn === i,
        failed: failedIn === i,
        started,
        startedWaitMs: started && v.startTime >= v.createTime ? v.startTime - v.createTime : null,
        outcome,
        cost: cost ?? 0,
      };
      (days[i] as DayAccumulator).add(
        contribution,
        cost === undefined ? null : Math.round(cost * 100) / 100,
      );
    }
  }

  const statuses = input.failureStatuses;
  const priced = prices !== undefined;
  return days.map((day, i) => {
    const by_flavor: FlavorRow[] = [...day.flavors].map(([flavor_code, acc]) => ({
      flavor_code,
      ...acc.metrics(statuses, priced),
    }));
    const by_pool: PoolRow[] = [...day.pools].map(([pool_id, acc]) => ({
      pool_id,
      ...acc.metrics(statuses, priced),
    }));
    const by_flavor_pool: FlavorPoolRow[] = [];
    for (const [flavor_code, pools] of day.pairs) {
      for (const [pool_id, acc] of pools) {
        by_flavor_pool.push({ flavor_code, pool_id, ...acc.metrics(statuses, priced) });
      }
    }
    by_flavor.sort(byGpuHoursThenKeys((r) => [r.flavor_code]));
    by_pool.sort(byGpuHoursThenKeys((r) => [r.pool_id]));
    by_flavor_pool.sort(byGpuHoursThenKeys((r) => [r.flavor_code, r.pool_id]));
    const statusRows: StatusCount[] = [...day.statuses]
      .sort(([a], [b]) => a - b)
      .map(([status, versions]) => ({ status, name: statusName(status), versions }));
    day.jobs.sort((a, b) => a.version.versionId - b.version.versionId);
    const w = windows[i] as DayWindow;
    const longestWaits: QueueWait[] = day.jobs
      .filter(
        (j) => j.waitMs !== null && j.version.startTime >= w.start && j.version.startTime < w.end,
      )
      .sort(
        (a, b) =>
          (b.waitMs as number) - (a.waitMs as number) || a.version.versionId - b.version.versionId,
      )
      .slice(0, MAX_LONGEST_WAITS)
      .map((j) => ({
        version_id: j.version.versionId,
        version_name: j.version.versionName,
        flavor_code: j.version.flavorCode,
        pool_id: j.version.poolId,
        wait_hours: (j.waitMs as number) / MS_PER_HOUR,
      }));
    const unpricedFlavors =
      prices === undefined
        ? []
        : by_flavor
            .map((r) => r.flavor_code)
            .filter((f) => f === null || !prices.flavors.has(f))
            .sort(compareKeys);
    return {
      date: w.date,
      totals: day.totals.metrics(statuses, priced),
      by_flavor,
      by_pool,
      by_flavor_pool,
      statuses: statusRows,
      jobs: day.jobs,
      longestWaits,
      unpricedFlavors,
    };
  });
}
