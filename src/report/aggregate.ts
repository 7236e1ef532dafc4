import { OUTCOMES, type Outcome, outcomeOf, statusName } from "../modelarts/statuses.js";
import type { JobVersion } from "../modelarts/version-record.js";
import { roundCents } from "./format.js";
import { failedAt, type Interval, runEnd as runEndOf } from "./interval.js";
import { JobRows } from "./job-rows.js";
import { costOf, type PriceTable } from "./prices.js";
import type {
  FlavorPoolRow,
  FlavorRow,
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
  readonly jobs: JobRows;
  /** Versions started in the window that waited longest, longest first (at most 10). */
  readonly longestWaits: QueueWait[];
  /** Flavors in the day's report without a price; empty without a price table. */
  readonly unpricedFlavors: (string | null)[];
}

/**
 * What one version adds to the groups it belongs to on one day. One scratch object is reused
 * for every version-day: allocating millions of them was a third of the run time (GC).
 */
interface Contribution {
  v: JobVersion;
  /** Its run clipped to the window, as [clipStart, clipEnd); clipEnd <= clipStart: not active. */
  clipStart: number;
  clipEnd: number;
  created: boolean;
  failed: boolean;
  started: boolean;
  /** start − create in ms when it started in the window (and not before it was created). */
  startedWaitMs: number | null;
  outcome: number;
  /** Interned group keys (GroupKeys), looked up once per version rather than per day. */
  flavorId: number;
  poolId: number;
  pairId: number;
}

/**
 * Flavor, pool and flavor×pool keys interned to small integers, so that each day finds a
 * version's groups by array index instead of three map lookups.
 */
class GroupKeys {
  readonly flavors: (string | null)[] = [];
  readonly pools: (string | null)[] = [];
  readonly pairs: [flavorId: number, poolId: number][] = [];
  readonly #flavorIds = new Map<string | null, number>();
  readonly #poolIds = new Map<string | null, number>();
  readonly #pairIds = new Map<number, number>();

  flavor(code: string | null): number {
    return intern(this.#flavorIds, this.flavors, code);
  }

  pool(id: string | null): number {
    return intern(this.#poolIds, this.pools, id);
  }

  pair(flavorId: number, poolId: number): number {
    const key = flavorId * 2 ** 26 + poolId;
    let id = this.#pairIds.get(key);
    if (id === undefined) {
      id = this.pairs.length;
      this.pairs.push([flavorId, poolId]);
      this.#pairIds.set(key, id);
    }
    return id;
  }
}

function intern<K>(ids: Map<K, number>, keys: K[], key: K): number {
  let id = ids.get(key);
  if (id === undefined) {
    id = keys.length;
    keys.push(key);
    ids.set(key, id);
  }
  return id;
}

const OUTCOME_INDEX: ReadonlyMap<Outcome, number> = new Map(OUTCOMES.map((o, i) => [o, i]));
/** Statuses 0–63 are counted in an array (the hot path); rarer codes in a map. */
const COMMON_STATUSES = 64;
const outcomeIndexOf = (status: number) => OUTCOME_INDEX.get(outcomeOf(status)) as number;
const COMMON_OUTCOMES = Array.from({ length: COMMON_STATUSES }, (_, s) => outcomeIndexOf(s));
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
  /**
   * Set on a flavor × pool pair from its exact ms sums once every version is in (one flavor,
   * one price); a flavor's, pool's or the total's is the sum of its pairs'.
   */
  cost = 0;
  /** Set by the day's sweep over all its intervals (DayAccumulator.sweepPeaks). */
  peakGpus = 0;
  peakNpus = 0;
  /** This group's slot in the day's sweep. */
  readonly id: number;

  constructor(id: number) {
    this.id = id;
  }

  add(c: Contribution): void {
    const v = c.v;
    if (c.clipEnd > c.clipStart) {
      const ms = c.clipEnd - c.clipStart;
      this.active++;
      this.gpus += v.gpuNum;
      this.npus += v.npuNum;
      this.gpuMs += v.gpuNum * ms;
      this.npuMs += v.npuNum * ms;
      this.runMs += ms;
      (this.gpuMsByOutcome[c.outcome] as number) += v.gpuNum * ms;
      (this.npuMsByOutcome[c.outcome] as number) += v.npuNum * ms;
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

  /** Adds another group's sums (every figure but the peaks, which come from the sweep). */
  merge(o: GroupAccumulator): void {
    this.active += o.active;
    this.created += o.created;
    this.failed += o.failed;
    for (const [status, n] of o.failures)
      this.failures.set(status, (this.failures.get(status) ?? 0) + n);
    this.gpus += o.gpus;
    this.npus += o.npus;
    this.gpuMs += o.gpuMs;
    this.npuMs += o.npuMs;
    this.runMs += o.runMs;
    this.started += o.started;
    this.waitMs += o.waitMs;
    if (o.maxWaitMs > this.maxWaitMs) this.maxWaitMs = o.maxWaitMs;
    for (let i = 0; i < OUTCOMES.length; i++) {
      (this.gpuMsByOutcome[i] as number) += o.gpuMsByOutcome[i] as number;
      (this.npuMsByOutcome[i] as number) += o.npuMsByOutcome[i] as number;
    }
    this.cost += o.cost;
  }

  metrics(failureStatuses: readonly number[], priced: boolean): Metrics {
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
      peak_gpus: this.peakGpus,
      peak_npus: this.peakNpus,
      gpu_hours: this.gpuMs / MS_PER_HOUR,
      npu_hours: this.npuMs / MS_PER_HOUR,
      run_hours: this.runMs / MS_PER_HOUR,
      versions_started: this.started,
      wait_hours: this.waitMs / MS_PER_HOUR,
      max_wait_hours: this.maxWaitMs / MS_PER_HOUR,
      gpu_hours_by_outcome: byOutcome(this.gpuMsByOutcome),
      npu_hours_by_outcome: byOutcome(this.npuMsByOutcome),
      // Rounded to cents after summing (§9).
      cost: priced ? roundCents(this.cost) : null,
    };
  }
}

const SPAN = 8; // start, end, gpus, npus, and the ids of the 4 groups the interval is in

/**
 * One sweep over a day's intervals in time order gives the peak of every group at once: the
 * largest sums of GPUs and NPUs held at one instant. Intervals are half-open, so at equal
 * times ends are applied before starts (a job ending at t and one starting at t never
 * overlap). `spans` holds SPAN numbers per interval; `groups` is the number of group slots.
 */
function sweepPeaks(spans: ArrayLike<number>, groups: number): Float64Array {
  const n = spans.length / SPAN;
  const current = new Float64Array(groups * 2);
  const peak = new Float64Array(groups * 2);
  if (n === 0) return peak;
  const byStart = sortedBy(spans, n, 0);
  const byEnd = sortedBy(spans, n, 1);
  const apply = (i: number, sign: number) => {
    const o = i * SPAN;
    const gpus = (spans[o + 2] as number) * sign;
    const npus = (spans[o + 3] as number) * sign;
    for (let k = 4; k < SPAN; k++) {
      const g = (spans[o + k] as number) * 2;
      const cg = (current[g] as number) + gpus;
      const cn = (current[g + 1] as number) + npus;
      current[g] = cg;
      current[g + 1] = cn;
      if (sign > 0) {
        if (cg > (peak[g] as number)) peak[g] = cg;
        if (cn > (peak[g + 1] as number)) peak[g + 1] = cn;
      }
    }
  };
  let e = 0;
  for (let k = 0; k < n; k++) {
    const s = byStart[k] as number;
    const start = spans[s * SPAN] as number;
    while (e < n && (spans[(byEnd[e] as number) * SPAN + 1] as number) <= start)
      apply(byEnd[e++] as number, -1);
    apply(s, 1);
  }
  return peak;
}

/** The peak GPUs and NPUs of one set of [start, end, gpus, npus] intervals. */
export function peaks(intervals: readonly number[]): [gpus: number, npus: number] {
  const spans: number[] = [];
  // One group in slot 0; the other three group ids point at unused slots.
  for (let i = 0; i < intervals.length; i += 4)
    spans.push(...intervals.slice(i, i + 4), 0, 1, 2, 3);
  const peak = sweepPeaks(spans, 4);
  return [peak[0] as number, peak[1] as number];
}

const INDEX_BITS = 2 ** 26;
const MAX_OFFSET = 2 ** 27;

/**
 * Interval indices ordered by their start (field 0) or end (field 1). The hot path packs
 * (time − earliest) and the index into one float (27 + 26 bits: a day's window and 67 M
 * intervals fit exactly) and lets the engine's numeric typed-array sort do the work, several
 * times faster than a comparator.
 */
function sortedBy(spans: ArrayLike<number>, n: number, field: 0 | 1): ArrayLike<number> {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t = spans[i * SPAN + field] as number;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  if (max - min < MAX_OFFSET && n < INDEX_BITS) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++)
      keys[i] = ((spans[i * SPAN + field] as number) - min) * INDEX_BITS + i;
    keys.sort();
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = (keys[i] as number) % INDEX_BITS;
    return order;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  return order.sort(
    (a, b) => (spans[a * SPAN + field] as number) - (spans[b * SPAN + field] as number),
  );
}

class DayAccumulator {
  /** Every group of the day, by id (the slots of the peak sweep). */
  readonly groups: GroupAccumulator[] = [];
  readonly totals = this.#newGroup();
  /** Groups by interned key id (GroupKeys); holes for keys absent this day. */
  readonly flavors: (GroupAccumulator | undefined)[] = [];
  readonly pools: (GroupAccumulator | undefined)[] = [];
  readonly pairs: (GroupAccumulator | undefined)[] = [];
  readonly commonStatuses = new Array<number>(COMMON_STATUSES).fill(0);
  readonly otherStatuses = new Map<number, number>();
  /** The versions in the day's report (the rows of jobs.csv, worked out when written). */
  readonly versions: JobVersion[] = [];
  /** The day's intervals holding accelerators, SPAN numbers each, for the peaks. */
  readonly spans: number[] = [];

  #newGroup(): GroupAccumulator {
    const g = new GroupAccumulator(this.groups.length);
    this.groups.push(g);
    return g;
  }

  #slot(groups: (GroupAccumulator | undefined)[], id: number): GroupAccumulator {
    let g = groups[id];
    if (g === undefined) {
      g = this.#newGroup();
      groups[id] = g;
    }
    return g;
  }

  /**
   * Adds one version to the day. Only its flavor×pool group takes its sums: each version is in
   * exactly one pair, so the flavor, pool and total figures are the sums of their pairs' (see
   * `finish`). The peaks are not sums: the sweep keeps a slot for every group.
   */
  add(c: Contribution): void {
    const v = c.v;
    const pair = this.#slot(this.pairs, c.pairId);
    pair.add(c);
    if (c.clipEnd > c.clipStart && (v.gpuNum > 0 || v.npuNum > 0)) {
      this.spans.push(
        c.clipStart,
        c.clipEnd,
        v.gpuNum,
        v.npuNum,
        this.totals.id,
        this.#slot(this.flavors, c.flavorId).id,
        this.#slot(this.pools, c.poolId).id,
        pair.id,
      );
    }
    if (v.status < COMMON_STATUSES) (this.commonStatuses[v.status] as number)++;
    else this.otherStatuses.set(v.status, (this.otherStatuses.get(v.status) ?? 0) + 1);
    this.versions.push(v);
    if (c.startedWaitMs !== null) this.#considerWait(v, c.startedWaitMs);
  }

  /** The versions started this day that waited longest, longest first (ties by id). */
  readonly longestWaits: { v: JobVersion; waitMs: number }[] = [];

  #considerWait(v: JobVersion, waitMs: number): void {
    const top = this.longestWaits;
    const before = (a: { v: JobVersion; waitMs: number }, b: { v: JobVersion; waitMs: number }) =>
      a.waitMs > b.waitMs || (a.waitMs === b.waitMs && a.v.versionId < b.v.versionId);
    const entry = { v, waitMs };
    if (top.length === MAX_LONGEST_WAITS && !before(entry, top[top.length - 1] as typeof entry)) {
      return;
    }
    let k = Math.min(top.length, MAX_LONGEST_WAITS - 1);
    top[k] = entry;
    while (k > 0 && before(entry, top[k - 1] as typeof entry)) {
      top[k] = top[k - 1] as typeof entry;
      top[k - 1] = entry;
      k--;
    }
  }

  /**
   * Each pair's cost from its hours, then the flavor, pool and total sums from the pairs', once
   * every version is in. Costing the summed hours rather than summing each version's cost
   * keeps the float error to a few operations, so a cost that is exactly half a cent rounds
   * up, as the exact figure does.
   */
  finish(keys: GroupKeys, prices: PriceTable | undefined): void {
    this.pairs.forEach((pair, id) => {
      if (pair === undefined) return;
      const [f, p] = keys.pairs[id] as [number, number];
      if (prices !== undefined) {
        pair.cost =
          costOf(prices, keys.flavors[f] ?? null, {
            run: pair.runMs / MS_PER_HOUR,
            gpu: pair.gpuMs / MS_PER_HOUR,
            npu: pair.npuMs / MS_PER_HOUR,
          }) ?? 0;
      }
      this.#slot(this.flavors, f).merge(pair);
      this.#slot(this.pools, p).merge(pair);
      this.totals.merge(pair);
    });
  }

  /** Sets every group's peaks from one sweep over the day's intervals. */
  sweepPeaks(): void {
    const peak = sweepPeaks(this.spans, this.groups.length);
    for (const g of this.groups) {
      g.peakGpus = peak[g.id * 2] as number;
      g.peakNpus = peak[g.id * 2 + 1] as number;
    }
  }
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
  const first = bounds[0] as number;
  if (last < 1 || t < first || t >= (bounds[last] as number)) return -1;
  // Windows are days (or one month) of nearly equal length: guess from the mean, then step
  // the hour or so that daylight saving moves a bound. O(1) in practice.
  let i = Math.min(last - 1, Math.floor(((t - first) * last) / ((bounds[last] as number) - first)));
  while ((bounds[i] as number) > t) i--;
  while ((bounds[i + 1] as number) <= t) i++;
  return i;
}

/** A day index that is a day (not -1) outside the run's days [first, last]. */
const outside = (i: number, first: number, last: number) => i !== -1 && (i < first || i > last);

export function aggregate(input: AggregateInput): DayAggregate[] {
  const { windows, now, prices } = input;
  const failureSet = new Set(input.failureStatuses);
  const bounds = windows.map((w) => w.start);
  const lastWindow = windows[windows.length - 1];
  if (lastWindow !== undefined) bounds.push(lastWindow.end);
  const days = windows.map(() => new DayAccumulator());

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
  };
  const keys = new GroupKeys();
  let createdIn = -1;
  let startedIn = -1;
  let failedIn = -1;
  let runStart = 0;
  let runEnd = 0;
  /** Adds the version in `c.v` to day `i`. */
  const visit = (i: number) => {
    const v = c.v;
    const w = windows[i] as DayWindow;
    c.clipStart = Math.max(runStart, w.start);
    c.clipEnd = Math.min(runEnd, w.end);
    c.created = createdIn === i;
    c.failed = failedIn === i;
    c.started = startedIn === i;
    c.startedWaitMs = c.started && v.startTime >= v.createTime ? v.startTime - v.createTime : null;
    (days[i] as DayAccumulator).add(c);
  };

  for (const v of input.versions) {
    const end = runEndOf(v, now);
    createdIn = windowIndex(bounds, v.createTime);
    failedIn = failureSet.has(v.status) ? windowIndex(bounds, failedAt(v)) : -1;
    startedIn = v.startTime > 0 ? windowIndex(bounds, v.startTime) : -1;
    runStart = end === 0 ? 0 : v.startTime;
    runEnd = end;
    c.v = v;
    c.outcome = COMMON_OUTCOMES[v.status] ?? outcomeIndexOf(v.status);
    c.flavorId = keys.flavor(v.flavorCode);
    c.poolId = keys.pool(v.poolId);
    c.pairId = keys.pair(c.flavorId, c.poolId);
    // The days this version is in: those its run overlaps, plus its creation, start and
    // failure days (each once).
    let first = -1;
    let last = -2; // no run days: every day is "outside" the (empty) run
    if (end !== 0) {
      first = windowIndex(bounds, Math.max(runStart, bounds[0] ?? 0));
      if (first !== -1 && (bounds[first] as number) < end) {
        last = first;
        while (last + 1 < windows.length && (bounds[last + 1] as number) < end) last++;
        for (let i = first; i <= last; i++) visit(i);
      }
    }
    if (outside(createdIn, first, last)) visit(createdIn);
    if (outside(startedIn, first, last) && startedIn !== createdIn) visit(startedIn);
    if (outside(failedIn, first, last) && failedIn !== createdIn && failedIn !== startedIn) {
      visit(failedIn);
    }
  }

  const statuses = input.failureStatuses;
  const priced = prices !== undefined;
  return days.map((day, i) => {
    day.finish(keys, prices);
    day.sweepPeaks();
    const by_flavor: FlavorRow[] = [];
    day.flavors.forEach((acc, id) => {
      if (acc)
        by_flavor.push({ flavor_code: keys.flavors[id] ?? null, ...acc.metrics(statuses, priced) });
    });
    const by_pool: PoolRow[] = [];
    day.pools.forEach((acc, id) => {
      if (acc) by_pool.push({ pool_id: keys.pools[id] ?? null, ...acc.metrics(statuses, priced) });
    });
    const by_flavor_pool: FlavorPoolRow[] = [];
    day.pairs.forEach((acc, id) => {
      const [f, p] = keys.pairs[id] as [number, number];
      if (acc) {
        by_flavor_pool.push({
          flavor_code: keys.flavors[f] ?? null,
          pool_id: keys.pools[p] ?? null,
          ...acc.metrics(statuses, priced),
        });
      }
    });
    by_flavor.sort(byGpuHoursThenKeys((r) => [r.flavor_code]));
    by_pool.sort(byGpuHoursThenKeys((r) => [r.pool_id]));
    by_flavor_pool.sort(byGpuHoursThenKeys((r) => [r.flavor_code, r.pool_id]));
    const counts: [number, number][] = [...day.otherStatuses];
    day.commonStatuses.forEach((n, status) => {
      if (n > 0) counts.push([status, n]);
    });
    const statusRows: StatusCount[] = counts
      .sort(([a], [b]) => a - b)
      .map(([status, versions]) => ({ status, name: statusName(status), versions }));
    const w = windows[i] as DayWindow;
    const jobs = new JobRows(day.versions, { window: w, now, failureStatuses: failureSet, prices });
    const longestWaits: QueueWait[] = day.longestWaits.map(({ v, waitMs }) => ({
      version_id: v.versionId,
      version_name: v.versionName,
      flavor_code: v.flavorCode,
      pool_id: v.poolId,
      wait_hours: waitMs / MS_PER_HOUR,
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
      jobs,
      longestWaits,
      unpricedFlavors,
    };
  });
}
