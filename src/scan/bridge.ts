import { IncompleteScanError } from "../shared/errors.js";
import { isTerminal, join, type Page, rootJoin, shares } from "./page-chain.js";
import type { PageReader } from "./page-reader.js";

/**
 * Pages that share nothing (more deletions between them than the overlap) are bridged by a
 * sequential walk that starts further back each time; a listing that grew past the planned
 * pages is read on by the same walk.
 */

export interface Walk {
  readonly reader: PageReader;
  /** Records planned to be shared by neighbouring pages. */
  readonly overlap: number;
  /** Records a page, as the server sends them. */
  readonly size: number;
  /** Pages the whole scan may read before it gives up. */
  readonly budget: number;
  readonly totalCountFirst: number;
}

/**
 * Pages from `from` onwards, each sharing a record with the one before, up to the first that
 * shares one with `until`, or to the end of the listing. A walk that met a gap (the listing
 * is still changing) goes on to the end: the planned pages after `until` are likely broken too.
 */
export async function walk(w: Walk, from: Page, until: Page | undefined): Promise<Page[]> {
  const { reader, overlap, size } = w;
  const steps: Page[] = [];
  let previous = from;
  // Overlap added while deletions go on: doubled at each gap, halved at each good step.
  let extra = 0;
  let gaps = 0;
  let offset = from.offset + from.count - overlap;
  for (;;) {
    if (reader.pages > w.budget) {
      throw new IncompleteScanError(
        `the listing changed too much during the scan to read it whole (${reader.pages} pages read for ${w.totalCountFirst} versions); try again later`,
      );
    }
    // The first step asks for the page the walk has to reach when nothing moved: that page
    // is at hand, and it did not link (copies of one version at the edge, say).
    const reuse = until !== undefined && previous === from && offset === until.offset;
    const page = reuse ? until : await reader.read(offset);
    if (!reuse) reader.repairPages++;
    // A page at offset 0 starts at the start of the listing: nothing can hide before it.
    const joined = reuse ? undefined : offset === 0 ? rootJoin(page) : join(previous, page);
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
    // `join` links only a page that reaches at least as far as the one before it: the page
    // after `until` was joined to `until` alone, so rows past `until`'s end are counted once.
    if (until !== undefined && toUntil !== undefined) {
      until.join = toUntil;
      return steps;
    }
    previous = page;
    extra = Math.floor(extra / 2);
    // Never less than half a page of progress a step.
    offset = page.offset + page.count - Math.min(Math.floor(size / 2), overlap + extra);
  }
}

/**
 * The chain of `planned` (the first page and the planned ones, in order) with every pair that
 * did not link bridged, cut where a page reached the end of the listing, and walked on past
 * the plan if the listing grew.
 */
export async function stitch(w: Walk, planned: readonly Page[]): Promise<Page[]> {
  const chain = [...planned];
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
      const bridge = await walk(w, a, b);
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
  if (!isTerminal(last)) chain.push(...(await walk(w, last, undefined)));
  return chain;
}
