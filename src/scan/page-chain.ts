import { IncompleteScanError } from "../shared/errors.js";
import type { RecordKey } from "./collector.js";
import { IdSet } from "./id-set.js";

/**
 * The chain of pages a scan stitches together, and how two pages are proven contiguous.
 * Nothing here does I/O: pages come in with their record keys, and the chain says which rows
 * of the listing they cover.
 */

/**
 * What a page adds to the rows its predecessor in the chain covered: `fresh` rows, and of
 * these, how many each id-less record occupies. A root page (the first, or one a bridging walk
 * read at offset 0) covers the listing from its start.
 */
export interface Join {
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

export interface Page {
  readonly offset: number;
  /** The order in which pages were read (1, 2, …): rows only move towards offset 0 in time. */
  readonly seq: number;
  readonly count: number;
  readonly totalCount: number;
  /**
   * Record keys in page order; emptied (see `PlannedPages`) once the page is known to link
   * with both neighbours, as nothing asks for them again.
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
  const kept = numbered === ids.length ? ids : ids.slice(0, numbered);
  return { root, fresh, idless, ids: kept };
}

/** Whether `b` holds any record of `a`. */
export function shares(a: Page, b: Page): boolean {
  if (a.count === 0 || b.count === 0) return false;
  const inA = new Set(a.keys);
  return b.keys.some((key) => inA.has(key));
}

/** A page that covers the listing from its start. */
export const rootJoin = (page: Page): Join => freshJoin(page.keys, 0, true);

/** The last page of the listing as it was when fetched. */
export const isTerminal = (p: Page) => p.count === 0 || p.offset + p.count >= p.totalCount;

/**
 * Whether `b` continues `a` without a gap, and if so which of its rows are new. They link on
 * a record that occurs once in each (a record that repeats, such as a version listed twice or
 * identical malformed ones, could be another copy further along): the first such record of
 * `b`. The rows of `b` after it are `a`'s rows after it, less those deleted in between, in
 * the same order (the listing only grows at its end), followed by rows `a` never reached:
 * matched in order, the rest are fresh. Rows are counted, not records, so a version listed at
 * two positions is two rows, however the page edges fall.
 */
export function join(a: Page, b: Page): Join | undefined {
  if (a.count === 0 || b.count === 0) return undefined;
  let i = -1;
  let j = -1;
  // The usual case first, without a map: b's first record is the single shared one.
  const head = b.keys[0] as RecordKey;
  if (
    countOf(a.keys, head) === 1 &&
    countOf(b.keys, head) === 1 &&
    inOrder(a, a.keys.indexOf(head), b, 0)
  ) {
    i = a.keys.indexOf(head);
    j = 0;
  } else {
    const inA = occurrences(a.keys);
    const inB = occurrences(b.keys);
    j = b.keys.findIndex(
      (key, at) =>
        inA.get(key) === 1 && inB.get(key) === 1 && inOrder(a, a.keys.indexOf(key), b, at),
    );
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
  // Rows of a's tail that b lacks: if b was read later they may have been deleted in between
  // (then b's last row is fresh, beyond a's end: a link); if b was read first, or b's last row
  // is one of a's, they lie past b's end. Then b adds nothing, and the page after b would
  // count a's rows past b's end again: not a link.
  const endsInsideA = j === b.count - 1 || seen[b.count - 1] === 1;
  if (p < a.count && (b.seq < a.seq || endsInsideA)) return undefined;
  return freshJoin(b.keys, j + 1, false, seen);
}

/**
 * Whether the record at `i` of `a` and at `j` of `b` can be one row: a row only moves towards
 * offset 0 as rows before it are deleted (new rows come at the end), so the page read later
 * cannot see it further along than the page read earlier. Two copies of one version (or two
 * identical id-less records), one in each page, fail this when the listing has not moved them.
 */
function inOrder(a: Page, i: number, b: Page, j: number): boolean {
  const inA = a.offset + i;
  const inB = b.offset + j;
  return a.seq < b.seq ? inB <= inA : inA <= inB;
}

/**
 * The planned pages, linked with their neighbours as they arrive. A page linked on both sides
 * lets go of its keys: at a million versions the key lists would otherwise be held to the end
 * of the scan. The first page has nothing before it; the last keeps its keys for the walk past
 * the plan.
 */
export class PlannedPages {
  readonly #slots: (Page | undefined)[];

  /** `first` and room for `planned` pages after it. */
  constructor(first: Page, planned: number) {
    this.#slots = Array.from({ length: planned + 1 }, () => undefined);
    this.#slots[0] = first;
  }

  /** Puts the page planned `k`-th after the first in its place and links what it can. */
  arrive(k: number, page: Page): void {
    const slots = this.#slots;
    slots[k] = page;
    for (const i of [k - 1, k]) {
      const a = slots[i];
      const b = slots[i + 1];
      if (a !== undefined && b !== undefined && a.linksNext === undefined) {
        const joined = join(a, b);
        a.linksNext = joined !== undefined;
        if (joined !== undefined) b.join = joined;
      }
    }
    for (const i of [k - 1, k, k + 1]) {
      const p = slots[i];
      if (p?.linksNext === true && (i === 0 || slots[i - 1]?.linksNext === true)) p.keys = RELEASED;
    }
  }
}

/** The rows a finished chain covers, from its last root page on. */
export function coveredRows(chain: readonly Page[]): {
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
