import { setMaxListeners } from "node:events";
import type { ListPage, VersionSource } from "../modelarts/client.js";
import {
  emptyVersion,
  type JobVersion,
  readableVersionId,
  readVersion,
  recordFingerprint,
} from "../modelarts/version-record.js";
import type { Anomalies } from "../report/types.js";
import { IncompleteScanError } from "../shared/errors.js";
import { IdSet } from "./id-set.js";

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
   * Rows of the listing the stitched pages covered, valid or malformed, with or without an id:
   * a row read again because pages overlap or the listing moved counts once, a version listed
   * at two positions counts twice. What completeness is measured with (§9).
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
   * Why each record without a readable id is bad, by fingerprint. Such records are counted
   * by the rows of the listing they occupy, which only the page chain knows (`anomalies`).
   */
  readonly #badByContent = new Map<string, string>();

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
    if (!this.#badByContent.has(key)) this.#badByContent.set(key, reason);
    return key;
  }

  /** Takes one page of raw records, in order; returns their keys. */
  addPage(records: readonly unknown[]): RecordKey[] {
    return records.map((record) => this.#add(record));
  }

  /** Distinct records with a readable id, valid or not (for progress). */
  get recordsRead(): number {
    return this.#valid.size + this.#badById.size;
  }

  get versions(): ReadonlyMap<number, JobVersion> {
    return this.#kept;
  }

  get versionsScanned(): number {
    return this.#valid.size;
  }

  /** The anomalies of a listing that is exactly these records, in order, once each. */
  anomaliesOf(keys: readonly RecordKey[]): Anomalies {
    const { idless, ids } = freshJoin(keys, 0, true);
    return this.anomalies(idless ?? new Map(), ids.length - new Set(ids).size);
  }

  /**
   * The scan's anomalies, given what the page chain covered: how many rows each id-less record
   * occupies (every such row is a bad record of its own), and the rows that repeat a version
   * id (§4).
   */
  anomalies(idlessRows: ReadonlyMap<string, number>, duplicateRows: number): Anomalies {
    const all = [...this.#badById.values()];
    for (const [key, copies] of idlessRows) {
      const reason = this.#badByContent.get(key);
      if (reason === undefined) continue;
      for (let i = 0; i < copies; i++) all.push(reason);
    }
    all.sort();
    const reasons: Record<string, number> = {};
    for (const reason of all) reasons[reason] = (reasons[reason] ?? 0) + 1;
    return { skipped: all.length, duplicate_rows: duplicateRows, reasons };
  }
}

/**
 * What a page adds to the rows its predecessor in the chain covered: `fresh` rows, and of
 * these, how many each id-less record occupies. A root page (the first, or one a bridging walk
 * read at offset 0) covers the listing from its start.
 */
interface Join {
  readonly root: boolean;
  readonly fresh: number;
  readonly idless: ReadonlyMap<string, number> | undefined;
  /**
   * The version ids of the fresh rows, in order: 8 bytes a row, so that the rows the final
   * chain covers can be told apart from the versions they hold (duplicate rows) once the
   * chain is known, after the pages' key lists were let go.
   */
  readonly ids: Float64Array;
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
  /** What it adds after its predecessor in the chain; set once that predecessor is known. */
  join?: Join;
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

function freshJoin(
  keys: readonly RecordKey[],
  from: number,
  root: boolean,
  skip?: Uint8Array,
): Join {
  let fresh = 0;
  let idless: Map<string, number> | undefined;
  const ids = new Float64Array(Math.max(0, keys.length - from));
  let numbered = 0;
  for (let q = from; q < keys.length; q++) {
    if (skip?.[q] === 1) continue;
    fresh++;
    const key = keys[q] as RecordKey;
    if (typeof key === "string") {
      idless ??= new Map();
      idless.set(key, (idless.get(key) ?? 0) + 1);
    } else ids[numbered++] = key;
  }
  return { root, fresh, idless, ids: numbered === ids.length ? ids : ids.slice(0, numbered) };
}

/** Whether `b` holds any record of `a`. */
function shares(a: Page, b: Page): boolean {
  if (a.count === 0 || b.count === 0) return false;
  const inA = new Set(a.keys);
  return b.keys.some((key) => inA.has(key));
}

/** A page that covers the listing from its start. */
const rootJoin = (page: Page): Join => freshJoin(page.keys, 0, true);

/**
 * Whether `b` continues `a` without a gap, and if so which of its rows are new. They link on
 * a record that occurs once in each (a record that repeats, such as a version listed twice or
 * identical malformed ones, could be another copy further along): the first such record of
 * `b`. The rows of `b` after it are `a`'s rows after it, less those deleted in between, in
 * the same order (the listing only grows at its end), followed by rows `a` never reached:
 * matched in order, the rest are fresh. Rows are counted, not records, so a version listed at
 * two positions is two rows, however the page edges fall.
 */
function join(a: Page, b: Page): Join | undefined {
  if (a.count === 0 || b.count === 0) return undefined;
  let i = -1;
  let j = -1;
  // The usual case first, without a map: b's first record is the single shared one.
  const head = b.keys[0] as RecordKey;
  if (countOf(a.keys, head) === 1 && countOf(b.keys, head) === 1) {
    i = a.keys.indexOf(head);
    j = 0;
  } else {
    const inA = occurrences(a.keys);
    const inB = occurrences(b.keys);
    j = b.keys.findIndex((key) => inA.get(key) === 1 && inB.get(key) === 1);
    if (j < 0) return undefined;
    i = a.keys.indexOf(b.keys[j] as RecordKey);
  }
  // Rows of b after the shared record that a already covered: its tail, matched in order.
  let p = i + 1;
  if (p >= a.count) return freshJoin(b.keys, j + 1, false);
  const seen = new Uint8Array(b.count);
  for (let q = j + 1; q < b.count && p < a.count; q++) {
    const at = a.keys.indexOf(b.keys[q] as RecordKey, p);
    if (at >= 0) {
      seen[q] = 1;
      p = at + 1;
    }
  }
  return freshJoin(b.keys, j + 1, false, seen);
}

/** The rows the stitched chain covers, from its last root page on. */
function coveredRows(chain: readonly Page[]): {
  rows: number;
  idlessRows: Map<string, number>;
  duplicateRows: number;
} {
  let rows = 0;
  let idlessRows = new Map<string, number>();
  let from = 0;
  for (const page of chain) {
    const joined = page.join;
    if (joined === undefined) {
      // Every page of a finished chain follows a page it links with, or starts the listing.
      throw new IncompleteScanError(
        `the page at offset ${page.offset} is not linked to the pages before it; nothing was written`,
      );
    }
    if (joined.root) {
      rows = 0;
      idlessRows = new Map();
      from = chain.indexOf(page);
    }
    rows += joined.fresh;
    for (const [key, n] of joined.idless ?? []) idlessRows.set(key, (idlessRows.get(key) ?? 0) + n);
  }
  // Rows whose version id an earlier row of the chain already holds: duplicate rows (§4).
  const covered = new IdSet();
  let duplicateRows = 0;
  for (let k = from; k < chain.length; k++) {
    for (const id of (chain[k] as Page).join?.ids ?? []) if (!covered.add(id)) duplicateRows++;
  }
  return { rows, idlessRows, duplicateRows };
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
  first.join = rootJoin(first);
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
        if (a !== undefined && b !== undefined && a.linksNext === undefined) {
          const joined = join(a, b);
          a.linksNext = joined !== undefined;
          if (joined !== undefined) b.join = joined;
        }
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
        // The first step asks for the page the walk has to reach when nothing moved: that page
        // is at hand, and it did not link (copies of one version at the edge, say).
        const reuse = until !== undefined && previous === from && offset === until.offset;
        const page = reuse ? until : await fetchPage(offset);
        if (!reuse) repairPages++;
        // A page at offset 0 starts at the start of the listing: nothing can hide before it.
        const joined = reuse
          ? undefined
          : (join(previous, page) ?? (offset === 0 ? rootJoin(page) : undefined));
        if (joined === undefined) {
          // Step back further from the last page that linked, not from the start of the walk.
          // Pages that share no record at all: a gap, deletions moved the records towards
          // offset 0. Pages that share only records that repeat (a version listed at several
          // rows, identical malformed records) are no sign of change.
          if (!shares(previous, page)) gaps++;
          extra = Math.max(overlap, 1, extra * 2);
          offset = Math.max(0, previous.offset + previous.count - overlap - extra);
          continue;
        }
        page.join = joined;
        steps.push(page);
        if (isTerminal(page)) return steps;
        const toUntil = until !== undefined && gaps === 0 ? join(page, until) : undefined;
        if (until !== undefined && toUntil !== undefined) {
          until.join = toUntil;
          return steps;
        }
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
      if (a.linksNext !== true) {
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
  const { rows, idlessRows, duplicateRows } = coveredRows(chain);
  const totalCountLast = totalCount ?? totalCountFirst;
  const needed = Math.min(totalCountFirst, totalCountLast);
  if (rows < needed) {
    // Every row that stayed in the listing during the whole scan is counted by both totals:
    // covering fewer rows than the smaller one means some were never seen.
    throw new IncompleteScanError(
      `the scan read ${rows} rows, but the listing counted at least ${needed} throughout; nothing was written`,
    );
  }
  report(true);
  return {
    versions: collector.versions,
    versionsScanned: collector.versionsScanned,
    recordsRead: rows,
    pages,
    repairPages,
    totalCountFirst,
    totalCountLast,
    anomalies: collector.anomalies(idlessRows, duplicateRows),
  };
}
