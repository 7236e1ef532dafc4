import { setMaxListeners } from "node:events";
import { IncompleteScanError } from "./errors.js";
import { IdSet } from "./id-set.js";
import type { ListPage, VersionSource } from "./modelarts/client.js";
import {
  emptyVersion,
  type JobVersion,
  readableVersionId,
  readVersion,
  recordFingerprint,
} from "./modelarts/version-record.js";
import type { Anomalies } from "./report/types.js";

/**
 * Reads every job version of the project and keeps only those the report needs. Memory grows
 * with the versions kept (the report's), not with the versions scanned: the others leave only
 * their id behind (for de-duplication and `versions_scanned`).
 *
 * Paging under churn. The listing is ordered by create_time ascending, so a version created
 * during the scan lands at the end, and one deleted shifts every later version one place
 * towards the start. Pages are planned to overlap by `overlap` records, fetched concurrently,
 * and then checked pairwise: two pages that share a record are two contiguous runs of the same
 * order, so together they cover, without a gap, every version that existed during the whole
 * scan. Pages that share nothing (more deletions between them than the overlap) are bridged
 * by a sequential walk that starts further back each time. The last page must reach the end
 * of the listing as it is then (new versions included). A scan that cannot prove itself whole
 * within its page budget fails with IncompleteScanError instead of reporting on part of the
 * data.
 */

export interface ScanProgress {
  readonly pages: number;
  /** Distinct records read so far, valid or malformed. */
  readonly versionsRead: number;
  /** `undefined` until the first page is in. */
  readonly totalCount: number | undefined;
  readonly done: boolean;
}

export interface ScanOptions {
  readonly pageSize: number;
  /** Page requests in flight at once after the first page (default 1). */
  readonly concurrency?: number | undefined;
  /**
   * Records shared by neighbouring pages; default 1. One shared record is enough to prove two
   * pages contiguous, and costs 1% of the requests at 100 a page; where the listing changes
   * and a pair does not link, the bridging walk widens the overlap as far as it must.
   */
  readonly overlap?: number | undefined;
  /** Whether a valid version belongs to the report. */
  readonly keep: (version: JobVersion) => boolean;
  readonly onProgress?: ((progress: ScanProgress) => void) | undefined;
  /** Ends the scan from outside (a signal or the deadline of the process). */
  readonly signal?: AbortSignal | undefined;
}

export interface ScanResult {
  /** The versions kept, by id; for an id read twice, the copy read last. */
  readonly versions: ReadonlyMap<number, JobVersion>;
  /** Distinct valid versions read. */
  readonly versionsScanned: number;
  /**
   * Distinct records read, valid or malformed: each version id once, each record without a
   * readable id once (by its content; identical ones as often as one page holds them). What
   * completeness is measured with (§9).
   */
  readonly recordsRead: number;
  /** Successful listing calls. */
  readonly pages: number;
  /** Calls made beyond the plan to bridge pages that did not overlap. */
  readonly repairPages: number;
  readonly totalCountFirst: number;
  readonly totalCountLast: number;
  readonly anomalies: Anomalies;
}

/**
 * What identifies a record across pages: its version id when it has a readable one, else a
 * fingerprint of its content (a string).
 */
export type RecordKey = number | string;

/** Collects parsed records: de-duplication by id, "last copy wins", anomaly counting. */
export class VersionCollector {
  readonly #keep: (version: JobVersion) => boolean;
  readonly #kept = new Map<number, JobVersion>();
  /** Valid version ids read; compact, as it holds every version of the project. */
  readonly #valid = new IdSet();
  /** Bad records with a readable id, by id → reason; a record read twice counts once. */
  readonly #badById = new Map<number, string>();
  /**
   * Bad records without one, by fingerprint → reason and copies: the most copies seen on one
   * page. Identical records on one page are distinct records; one seen on two pages may be the
   * same record read twice (pages overlap), so it counts as often as its fullest page shows it.
   */
  readonly #badByContent = new Map<string, { reason: string; copies: number }>();
  #contentCopies = 0;
  /** Copies of each fingerprint on the page being read (emptied after each page). */
  readonly #onPage = new Map<string, number>();

  constructor(keep: (version: JobVersion) => boolean) {
    this.#keep = keep;
  }

  /** One copy of each flavor code and pool id: a month keeps tens of thousands of versions. */
  readonly #strings = new Map<string, string>();

  #intern(s: string | null): string | null {
    if (s === null) return null;
    const known = this.#strings.get(s);
    if (known !== undefined) return known;
    this.#strings.set(s, s);
    return s;
  }

  /** Every record is read into this one object; only the versions kept are copied out. */
  readonly #scratch = emptyVersion();

  /** Reads one record of the page; returns its key (its version id, or a fingerprint). */
  #add(raw: unknown): RecordKey {
    const v = this.#scratch;
    const reason = readVersion(raw, v);
    if (reason === undefined) {
      this.#valid.add(v.versionId);
      if (this.#badById.size > 0) this.#badById.delete(v.versionId);
      if (this.#keep(v)) {
        this.#kept.set(v.versionId, {
          ...v,
          flavorCode: this.#intern(v.flavorCode),
          poolId: this.#intern(v.poolId),
        });
      } else this.#kept.delete(v.versionId);
      return v.versionId;
    }
    // A later bad copy of a version replaces an earlier good one: last copy wins.
    const id = readableVersionId(raw);
    if (id !== undefined) {
      this.#badById.set(id, reason);
      this.#valid.delete(id);
      this.#kept.delete(id);
      return id;
    }
    const key = `raw:${recordFingerprint(raw)}`;
    const copies = (this.#onPage.get(key) ?? 0) + 1;
    this.#onPage.set(key, copies);
    const known = this.#badByContent.get(key);
    if (known === undefined) {
      this.#badByContent.set(key, { reason, copies });
      this.#contentCopies += copies;
    } else if (copies > known.copies) {
      this.#contentCopies += copies - known.copies;
      known.copies = copies;
    }
    return key;
  }

  /** Takes one page of raw records, in order; returns their keys. */
  addPage(records: readonly unknown[]): RecordKey[] {
    try {
      return records.map((record) => this.#add(record));
    } finally {
      if (this.#onPage.size > 0) this.#onPage.clear();
    }
  }

  /** Takes one raw record, as a page of its own; returns its key. */
  add(raw: unknown): RecordKey {
    return this.addPage([raw])[0] as RecordKey;
  }

  /** Distinct records, valid or not (valid ids and bad keys never overlap). */
  get recordsRead(): number {
    return this.#valid.size + this.#badById.size + this.#contentCopies;
  }

  get versions(): ReadonlyMap<number, JobVersion> {
    return this.#kept;
  }

  get versionsScanned(): number {
    return this.#valid.size;
  }

  anomalies(): Anomalies {
    const reasons: Record<string, number> = {};
    const all = [...this.#badById.values()];
    for (const { reason, copies } of this.#badByContent.values()) {
      for (let i = 0; i < copies; i++) all.push(reason);
    }
    all.sort();
    for (const reason of all) reasons[reason] = (reasons[reason] ?? 0) + 1;
    return { skipped: all.length, reasons };
  }
}

interface Page {
  readonly offset: number;
  readonly count: number;
  readonly totalCount: number;
  /**
   * Record keys in page order; emptied (see `release`) once the page is known to link with
   * both neighbours, as nothing asks for them again.
   */
  keys: readonly RecordKey[];
  /** Whether the page shares a record with the next planned page; set as both arrive. */
  linksNext?: boolean;
}

const RELEASED: readonly RecordKey[] = [];

function countOf(keys: readonly RecordKey[], key: RecordKey): number {
  let n = 0;
  for (const k of keys) if (k === key) n++;
  return n;
}

function occurrences(keys: readonly RecordKey[]): Map<RecordKey, number> {
  const counts = new Map<RecordKey, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/**
 * Whether two pages share a record, i.e. no version can hide between them. Only a record that
 * occurs once in each page counts: a record that repeats (identical malformed ones, say) could
 * be another copy further along the listing.
 */
function linked(a: Page, b: Page): boolean {
  if (a.count === 0 || b.count === 0) return false;
  // The usual case first, without a map: b's first record is the single shared one.
  const head = b.keys[0] as RecordKey;
  if (countOf(a.keys, head) === 1 && countOf(b.keys, head) === 1) return true;
  const inA = occurrences(a.keys);
  const inB = occurrences(b.keys);
  return b.keys.some((key) => inA.get(key) === 1 && inB.get(key) === 1);
}

/** The last page of the listing as it was when fetched. */
const isTerminal = (p: Page) => p.count === 0 || p.offset + p.count >= p.totalCount;

/**
 * Runs `tasks` with at most `limit` in flight; results in task order. Once `signal` aborts,
 * no further task starts.
 */
async function pool<T>(
  limit: number,
  tasks: readonly (() => Promise<T>)[],
  signal: AbortSignal,
): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length && !signal.aborted) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
    signal.throwIfAborted();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/**
 * Reads the whole listing (see the module comment). The first failure ends the scan at once:
 * it aborts every request in flight and every planned one, and is what the scan throws.
 */
export async function scanVersions(source: VersionSource, opts: ScanOptions): Promise<ScanResult> {
  const controller = new AbortController();
  const signal =
    opts.signal === undefined
      ? controller.signal
      : AbortSignal.any([controller.signal, opts.signal]);
  // Each request in flight listens on it (its own abort, and a token being fetched): more than
  // Node's default of 10 at concurrency 8 and up, which is not a leak.
  setMaxListeners(2 * Math.max(1, opts.concurrency ?? 1) + 10, signal);
  // Aborted by the first failure itself, before its error travels up: no worker that finishes
  // in the meantime starts another request.
  const fail = (error: unknown) => {
    if (!controller.signal.aborted) controller.abort(error);
  };
  try {
    return await scan(source, opts, signal, fail);
  } catch (error) {
    fail(error);
    throw error;
  }
}

async function scan(
  source: VersionSource,
  opts: ScanOptions,
  signal: AbortSignal,
  fail: (error: unknown) => void,
): Promise<ScanResult> {
  const collector = new VersionCollector(opts.keep);
  let pages = 0;
  let repairPages = 0;
  let totalCount: number | undefined;
  let lastProgress = -1;
  const report = (done: boolean) => {
    if (!done && pages === lastProgress) return;
    lastProgress = pages;
    opts.onProgress?.({ pages, versionsRead: collector.recordsRead, totalCount, done });
  };

  const fetchPage = async (offset: number): Promise<Page> => {
    let page: ListPage;
    try {
      page = await source.listPage(offset, opts.pageSize, { signal });
    } catch (error) {
      fail(error);
      throw error;
    }
    signal.throwIfAborted();
    if (page.records.length === 0 && offset < page.totalCount) {
      // The HTTP client retries such a page as a fault; a source that still sends one cannot
      // be trusted to have shown everything.
      throw new IncompleteScanError(
        `the listing answered an empty page at offset ${offset} of ${page.totalCount} versions`,
      );
    }
    pages++;
    totalCount = page.totalCount;
    const keys = collector.addPage(page.records);
    report(false);
    return { offset, count: page.records.length, totalCount: page.totalCount, keys };
  };

  const first = await fetchPage(0);
  const totalCountFirst = first.totalCount;
  const chain: Page[] = [first];
  if (!isTerminal(first)) {
    // A server may cap pages below the asked limit: plan with what it actually sent.
    const size = first.count;
    if (size < 2) {
      // Pages of one record cannot share one with their neighbour, so a version that a
      // deletion moves across a page boundary would go unseen, and the totals need not show it.
      throw new IncompleteScanError(
        `the listing answered ${size} record a page for ${first.totalCount} versions; pages of one record cannot be checked for gaps, so nothing was written (ask for at least 2 a page)`,
      );
    }
    const overlap = Math.min(size - 1, Math.max(1, opts.overlap ?? 1));
    const stride = size - overlap;
    const budget = Math.ceil(totalCountFirst / stride) * 3 + 100;
    const offsets: number[] = [];
    for (let o = stride; o - stride + size < totalCountFirst; o += stride) offsets.push(o);
    // Planned pages are linked with their neighbours as they arrive, and a page linked on both
    // sides lets go of its keys: at a million versions the key lists would otherwise be held
    // to the end of the scan. The first page has nothing before it; the last keeps its keys
    // for the walk past the plan.
    const slots: (Page | undefined)[] = Array.from({ length: offsets.length + 1 }, () => undefined);
    slots[0] = first;
    const settle = (j: number) => {
      for (const i of [j - 1, j]) {
        const a = slots[i];
        const b = slots[i + 1];
        if (a !== undefined && b !== undefined && a.linksNext === undefined)
          a.linksNext = linked(a, b);
      }
      for (const i of [j - 1, j, j + 1]) {
        const p = slots[i];
        if (p?.linksNext === true && (i === 0 || slots[i - 1]?.linksNext === true))
          p.keys = RELEASED;
      }
    };
    const planned = await pool(
      Math.max(1, opts.concurrency ?? 1),
      offsets.map((o, k) => async () => {
        const page = await fetchPage(o);
        slots[k + 1] = page;
        settle(k + 1);
        return page;
      }),
      signal,
    );
    chain.push(...planned);

    /**
     * Pages from `from` onwards, each sharing a record with the one before, up to the first
     * that shares one with `until`, or to the end of the listing. A walk that met a gap (the
     * listing is still changing) goes on to the end: the planned pages after `until` are
     * likely broken too.
     */
    const walk = async (from: Page, until: Page | undefined): Promise<Page[]> => {
      const steps: Page[] = [];
      let previous = from;
      // Overlap added while deletions go on: doubled at each gap, halved at each good step.
      let extra = 0;
      let gaps = 0;
      let offset = from.offset + from.count - overlap;
      for (;;) {
        if (pages > budget) {
          throw new IncompleteScanError(
            `the listing changed too much during the scan to read it whole (${pages} pages read for ${totalCountFirst} versions); try again later`,
          );
        }
        const page = await fetchPage(offset);
        repairPages++;
        // A page at offset 0 starts at the start of the listing: nothing can hide before it.
        if (!linked(previous, page) && offset > 0) {
          // A gap: deletions moved the records towards offset 0. Step back further from the
          // last page that linked, not from the start of the walk.
          gaps++;
          extra = Math.max(overlap, 1, extra * 2);
          offset = Math.max(0, previous.offset + previous.count - overlap - extra);
          continue;
        }
        steps.push(page);
        if (isTerminal(page)) return steps;
        if (until !== undefined && gaps === 0 && linked(page, until)) return steps;
        previous = page;
        extra = Math.floor(extra / 2);
        // Never less than half a page of progress a step.
        offset = page.offset + page.count - Math.min(Math.floor(size / 2), overlap + extra);
      }
    };

    for (let i = 0; i + 1 < chain.length; i++) {
      const a = chain[i] as Page;
      const b = chain[i + 1] as Page;
      if (isTerminal(a)) {
        // `a` reached the end of the listing: the planned pages after it (the listing
        // shrank) have nothing more to give.
        chain.length = i + 1;
        break;
      }
      if (!(a.linksNext ?? linked(a, b))) {
        const bridge = await walk(a, b);
        const last = bridge[bridge.length - 1];
        if (last !== undefined && isTerminal(last)) {
          chain.length = i + 1; // the walk read on to the end
          chain.push(...bridge);
          break;
        }
        chain.splice(i + 1, 0, ...bridge);
        i += bridge.length;
      }
    }
    // Versions created during the scan extend the listing past the planned pages.
    const last = chain[chain.length - 1] as Page;
    if (!isTerminal(last)) chain.push(...(await walk(last, undefined)));
  }
  const totalCountLast = totalCount ?? totalCountFirst;
  const needed = Math.min(totalCountFirst, totalCountLast);
  if (collector.recordsRead < needed) {
    // Every version that existed during the whole scan is counted by both totals: reading
    // fewer records than the smaller one means some were never seen.
    throw new IncompleteScanError(
      `the scan read ${collector.recordsRead} records, but the listing counted at least ${needed} throughout; nothing was written`,
    );
  }
  report(true);
  return {
    versions: collector.versions,
    versionsScanned: collector.versionsScanned,
    recordsRead: collector.recordsRead,
    pages,
    repairPages,
    totalCountFirst,
    totalCountLast,
    anomalies: collector.anomalies(),
  };
}
