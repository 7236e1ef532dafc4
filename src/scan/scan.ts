import { setMaxListeners } from "node:events";
import type { VersionSource } from "../modelarts/client.js";
import type { JobVersion } from "../modelarts/version-record.js";
import type { Anomalies } from "../report/types.js";
import { IncompleteScanError } from "../shared/errors.js";
import { stitch, type Walk } from "./bridge.js";
import { VersionCollector } from "./collector.js";
import { coveredRows, isTerminal, type Page, rootJoin } from "./page-chain.js";
import { PageReader, type ScanProgress } from "./page-reader.js";
import { readPlanned } from "./workers.js";

export type { ScanProgress } from "./page-reader.js";

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
 *
 * The parts: `collector.ts` keeps what the records say, `page-reader.ts` reads one page,
 * `workers.ts` reads the planned pages concurrently, `page-chain.ts` proves pages contiguous
 * and counts the rows they cover, `bridge.ts` walks across gaps; this module plans the pages
 * and decides whether the scan is whole.
 */

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
  const reader = new PageReader({
    collector: new VersionCollector(opts.keep),
    source,
    pageSize: opts.pageSize,
    onProgress: opts.onProgress,
    signal,
    fail,
  });
  const first = await reader.read(0);
  first.join = rootJoin(first);
  const chain = isTerminal(first) ? [first] : await readRest(reader, first, opts, signal);
  return finish(reader, chain, first.totalCount);
}

/** The pages after a first page that did not reach the end: planned, then stitched. */
async function readRest(
  reader: PageReader,
  first: Page,
  opts: ScanOptions,
  signal: AbortSignal,
): Promise<Page[]> {
  // A server may cap pages below the asked limit: plan with what it actually sent.
  const size = first.count;
  if (size < 2) {
    // Pages of one record cannot share one with their neighbour, so a version that a
    // deletion moves across a page boundary would go unseen, and the totals need not show it.
    throw new IncompleteScanError(
      `the listing answered ${size} record a page for ${first.totalCount} versions; pages of one record cannot be checked for gaps, so nothing was written (ask for at least 2 a page)`,
    );
  }
  const totalCountFirst = first.totalCount;
  const overlap = Math.min(size - 1, Math.max(1, opts.overlap ?? 1));
  const stride = size - overlap;
  const budget = Math.ceil(totalCountFirst / stride) * 3 + 100;
  const offsets: number[] = [];
  for (let o = stride; o - stride + size < totalCountFirst; o += stride) offsets.push(o);
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const planned = await readPlanned(reader, first, offsets, concurrency, signal);
  const w: Walk = { reader, overlap, size, budget, totalCountFirst };
  return stitch(w, [first, ...planned]);
}

/** The result of a finished chain, or IncompleteScanError if it covers too few rows. */
function finish(reader: PageReader, chain: readonly Page[], totalCountFirst: number): ScanResult {
  const { rows, idlessRows, duplicateRows } = coveredRows(chain);
  const totalCountLast = reader.totalCount ?? totalCountFirst;
  const needed = Math.min(totalCountFirst, totalCountLast);
  if (rows < needed) {
    // Every row that stayed in the listing during the whole scan is counted by both totals:
    // covering fewer rows than the smaller one means some were never seen.
    throw new IncompleteScanError(
      `the scan read ${rows} rows, but the listing counted at least ${needed} throughout; nothing was written`,
    );
  }
  reader.progress(true);
  const { collector } = reader;
  return {
    versions: collector.versions,
    versionsScanned: collector.versionsScanned,
    recordsRead: rows,
    pages: reader.pages,
    repairPages: reader.repairPages,
    totalCountFirst,
    totalCountLast,
    anomalies: collector.anomalies(idlessRows, duplicateRows),
  };
}
