import type { JobVersion } from "../modelarts/version-record.js";
import { roundCents } from "./format.js";
import {
  type Interval,
  MS_PER_HOUR,
  newPlacement,
  overlapIn,
  placeVersion,
  waitMs,
  windowBounds,
} from "./interval.js";
import { costOf, type PriceTable } from "./prices.js";

/** One line of jobs.csv: a version in the report and what it contributed to that day. */
export interface JobRow {
  /** The source the version was listed by (§10). */
  source: string;
  version: JobVersion;
  /** Milliseconds of the version's interval inside the window. */
  overlapMs: number;
  /** Whether the version counts as failed in the window. */
  failed: boolean;
  /** start_time − create_time in ms for a version that started (not before it was created). */
  waitMs: number | null;
  /** The cost of its hours in the window; `null` without a price table or a price. */
  cost: number | null;
}

/**
 * The versions of one report and what each contributed (the rows of jobs.csv). Only the
 * versions are kept; a row's figures (overlap, failure, wait, cost) are worked out from the
 * version and the window when the row is read. Keeping a million version-day rows as objects
 * cost the aggregation a third of its time in allocation and garbage collection.
 */

export interface JobRowContext {
  readonly window: Interval;
  /** The end of a job still running (§2). */
  readonly now: number;
  readonly failureStatuses: ReadonlySet<number>;
  readonly prices?: PriceTable | undefined;
}

/** Where each source's versions are in a report's list: source `s` starts at `starts[s]`. */
export interface JobSources {
  /** In configuration order. */
  readonly names: readonly string[];
  /** Ascending; a source past the end of `starts` has no version. */
  readonly starts: readonly number[];
}

export class JobRows implements Iterable<JobRow> {
  readonly #versions: JobVersion[];
  readonly #context: JobRowContext;
  readonly #sources: JobSources;
  /** The window as bounds, and a placement reused for each row (rows are read one by one). */
  readonly #bounds: readonly number[];
  readonly #placement = newPlacement();

  /**
   * `versions` in the report, source by source as `sources` says (one source named `default`
   * when not given), each source's by version id (sorted here when they are not).
   */
  constructor(
    versions: JobVersion[],
    context: JobRowContext,
    sources: JobSources = { names: ["default"], starts: [0] },
  ) {
    for (let s = 0; s < sources.names.length; s++) {
      const start = sources.starts[s] ?? versions.length;
      const end = sources.starts[s + 1] ?? versions.length;
      sortById(versions, start, end);
    }
    this.#versions = versions;
    this.#context = context;
    this.#sources = sources;
    this.#bounds = windowBounds([context.window]);
  }

  /** The name of the source of row `i`. */
  sourceOf(i: number): string {
    const { names, starts } = this.#sources;
    let s = names.length - 1;
    while (s > 0 && (starts[s] ?? this.#versions.length) > i) s--;
    return names[s] ?? "";
  }

  get length(): number {
    return this.#versions.length;
  }

  /** Row `i`: the version and its figures in the window. */
  at(i: number): JobRow {
    return this.#row(this.#versions[i] as JobVersion, this.sourceOf(i));
  }

  /** The version's figures in the window, placed by the same rule as the aggregation (§2). */
  #row(v: JobVersion, source: string): JobRow {
    const { now, failureStatuses, prices } = this.#context;
    const p = placeVersion(v, now, failureStatuses, this.#bounds, this.#placement);
    const overlap = overlapIn(p, this.#bounds, 0);
    let cost: number | null = null;
    if (prices !== undefined) {
      const hours = overlap / MS_PER_HOUR;
      const c = costOf(prices, v.flavorCode, {
        run: hours,
        gpu: v.gpuNum * hours,
        npu: v.npuNum * hours,
      });
      if (c !== undefined) cost = roundCents(c);
    }
    return {
      source,
      version: v,
      overlapMs: overlap,
      failed: p.failed === 0,
      waitMs: waitMs(v),
      cost,
    };
  }

  *[Symbol.iterator](): Iterator<JobRow> {
    for (let i = 0; i < this.#versions.length; i++) yield this.at(i);
  }

  map<T>(fn: (row: JobRow, index: number) => T): T[] {
    const out = new Array<T>(this.#versions.length);
    for (let i = 0; i < this.#versions.length; i++) out[i] = fn(this.at(i), i);
    return out;
  }
}

/** Sorts `versions[start, end)` by version id, in place, unless it already is. */
function sortById(versions: JobVersion[], start: number, end: number): void {
  for (let i = start + 1; i < end; i++) {
    if ((versions[i - 1] as JobVersion).versionId > (versions[i] as JobVersion).versionId) {
      const part = versions.slice(start, end).sort((a, b) => a.versionId - b.versionId);
      for (let k = 0; k < part.length; k++) versions[start + k] = part[k] as JobVersion;
      return;
    }
  }
}
