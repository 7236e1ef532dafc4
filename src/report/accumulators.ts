import { OUTCOMES, type Outcome, outcomeOf } from "../modelarts/statuses.js";
import type { JobVersion } from "../modelarts/version-record.js";
import { roundCents } from "./format.js";
import { MS_PER_HOUR } from "./interval.js";
import { sweepPeaks } from "./peaks.js";
import { costOf, type PriceTable } from "./prices.js";
import type { Metrics } from "./types.js";

/**
 * The sums of the aggregation (report.md §3, §9): one DayAccumulator per window, holding a
 * GroupAccumulator per group of versions, fed one Contribution per version-day.
 */

/**
 * What one version adds to the groups it belongs to on one day. One scratch object is reused
 * for every version-day: allocating millions of them was a third of the run time (GC).
 */
export interface Contribution {
  v: JobVersion;
  /** Its run clipped to the window, as [clipStart, clipEnd); both 0 when it is not active. */
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
  /** The version's source (its index in the run's sources) and source×flavor×pool group. */
  sourceId: number;
  sourcePairId: number;
}

/**
 * Flavor, pool and flavor×pool keys interned to small integers, so that each day finds a
 * version's groups by array index instead of three map lookups.
 */
export class GroupKeys {
  readonly flavors: (string | null)[] = [];
  readonly pools: (string | null)[] = [];
  readonly pairs: [flavorId: number, poolId: number][] = [];
  /** Source × flavor×pool groups: the finest grain, which every other group sums. */
  readonly sourcePairs: [sourceId: number, pairId: number][] = [];
  readonly #flavorIds = new Map<string | null, number>();
  readonly #poolIds = new Map<string | null, number>();
  readonly #pairIds = new Map<number, number>();
  readonly #sourcePairIds = new Map<number, number>();

  flavor(code: string | null): number {
    return intern(this.#flavorIds, this.flavors, code);
  }

  pool(id: string | null): number {
    return intern(this.#poolIds, this.pools, id);
  }

  pair(flavorId: number, poolId: number): number {
    return internPair(this.#pairIds, this.pairs, flavorId, poolId);
  }

  sourcePair(sourceId: number, pairId: number): number {
    return internPair(this.#sourcePairIds, this.sourcePairs, sourceId, pairId);
  }
}

function internPair(ids: Map<number, number>, keys: [number, number][], a: number, b: number) {
  const key = a * 2 ** 26 + b;
  let id = ids.get(key);
  if (id === undefined) {
    id = keys.length;
    keys.push([a, b]);
    ids.set(key, id);
  }
  return id;
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

/** The index in OUTCOMES of the status's outcome (§9), from a table for common codes. */
export const outcomeIndex = (status: number): number =>
  COMMON_OUTCOMES[status] ?? outcomeIndexOf(status);

const MAX_LONGEST_WAITS = 10;

export class GroupAccumulator {
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

export interface Wait {
  readonly v: JobVersion;
  readonly waitMs: number;
  /** The version's source (§10: a version is its source and its id). */
  readonly sourceId: number;
}

/** The versions started in a window that waited longest, longest first (ties by id, source). */
export class LongestWaits {
  readonly top: Wait[] = [];

  consider(v: JobVersion, waitMs: number, sourceId: number): void {
    const top = this.top;
    const before = (a: Wait, b: Wait) =>
      a.waitMs > b.waitMs ||
      (a.waitMs === b.waitMs &&
        (a.v.versionId < b.v.versionId ||
          (a.v.versionId === b.v.versionId && a.sourceId < b.sourceId)));
    const entry = { v, waitMs, sourceId };
    if (top.length === MAX_LONGEST_WAITS && !before(entry, top[top.length - 1] as Wait)) return;
    let k = Math.min(top.length, MAX_LONGEST_WAITS - 1);
    top[k] = entry;
    while (k > 0 && before(entry, top[k - 1] as Wait)) {
      top[k] = top[k - 1] as Wait;
      top[k - 1] = entry;
      k--;
    }
  }
}

export class DayAccumulator {
  /** Every group of the day, by id (the slots of the peak sweep). */
  readonly groups: GroupAccumulator[] = [];
  readonly totals = this.#newGroup();
  /** Groups by interned key id (GroupKeys); holes for keys absent this day. */
  readonly flavors: (GroupAccumulator | undefined)[] = [];
  readonly pools: (GroupAccumulator | undefined)[] = [];
  readonly pairs: (GroupAccumulator | undefined)[] = [];
  readonly sources: (GroupAccumulator | undefined)[] = [];
  readonly sourcePairs: (GroupAccumulator | undefined)[] = [];
  readonly commonStatuses = new Array<number>(COMMON_STATUSES).fill(0);
  readonly otherStatuses = new Map<number, number>();
  /**
   * The versions in the day's report (the rows of jobs.csv, worked out when written), source by
   * source: the versions of source `s` start at `sourceStarts[s]`.
   */
  readonly versions: JobVersion[] = [];
  readonly sourceStarts: number[] = [];
  /** The day's intervals holding accelerators, SPAN numbers each, for the peaks. */
  readonly spans: number[] = [];
  readonly longestWaits = new LongestWaits();

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
   * Adds one version to the day. Only its source×flavor×pool group takes its sums: each version
   * is in exactly one, so every other figure is a sum of theirs (see `finish`). The peaks are
   * not sums: the sweep keeps a slot for every group.
   */
  add(c: Contribution): void {
    const v = c.v;
    const sourcePair = this.#slot(this.sourcePairs, c.sourcePairId);
    sourcePair.add(c);
    const pair = this.#slot(this.pairs, c.pairId);
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
        this.#slot(this.sources, c.sourceId).id,
        sourcePair.id,
      );
    }
    if (v.status < COMMON_STATUSES) (this.commonStatuses[v.status] as number)++;
    else this.otherStatuses.set(v.status, (this.otherStatuses.get(v.status) ?? 0) + 1);
    // Sources are added one after the other, so each one's versions are one run.
    while (this.sourceStarts.length <= c.sourceId) this.sourceStarts.push(this.versions.length);
    this.versions.push(v);
    if (c.startedWaitMs !== null) this.longestWaits.consider(v, c.startedWaitMs, c.sourceId);
  }

  /**
   * Each group's sums from the source×flavor×pool groups, once every version is in. A group's
   * cost is costed from its own summed hours (one flavor, one price) for a source×pair and a
   * pair, and summed from those for a source, a flavor, a pool and the total: costing the
   * summed hours rather than summing each version's cost keeps the float error to a few
   * operations, so a cost that is exactly half a cent rounds up, as the exact figure does, and
   * the union's pairs cost what one listing holding every version would give.
   */
  finish(keys: GroupKeys, prices: PriceTable | undefined): void {
    const costed = (g: GroupAccumulator, flavor: string | null) => {
      if (prices === undefined) return;
      g.cost =
        costOf(prices, flavor, {
          run: g.runMs / MS_PER_HOUR,
          gpu: g.gpuMs / MS_PER_HOUR,
          npu: g.npuMs / MS_PER_HOUR,
        }) ?? 0;
    };
    this.sourcePairs.forEach((sp, id) => {
      if (sp === undefined) return;
      const [s, pairId] = keys.sourcePairs[id] as [number, number];
      const [f] = keys.pairs[pairId] as [number, number];
      costed(sp, keys.flavors[f] ?? null);
      this.#slot(this.sources, s).merge(sp);
      this.#slot(this.pairs, pairId).merge(sp);
    });
    this.pairs.forEach((pair, id) => {
      if (pair === undefined) return;
      const [f, p] = keys.pairs[id] as [number, number];
      costed(pair, keys.flavors[f] ?? null);
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
