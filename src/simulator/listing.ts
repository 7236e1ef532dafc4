/**
 * The simulator's training-job listing: query parsing, filtering, the stable sort and paging
 * over a list the tests may change between pages. No HTTP here; `server.ts` answers with it.
 */

export interface ListingState {
  /** The simulator's own list: changes made here are what the next pages show. */
  versions: unknown[];
  /** 1-based number of this listing request (`requests.listing`). */
  request: number;
}

const DIGITS = /^[0-9]+$/;
const SORT_FIELDS = ["create_time", "job_desc", "status", "duration", "job_name"] as const;
type SortBy = (typeof SORT_FIELDS)[number];

export interface ListingParams {
  offset: number;
  limit: number;
  sortBy: SortBy;
  order: "asc" | "desc";
  status: number | undefined;
  poolId: string | undefined;
  workspaceId: string;
}

// ---- reading records that may be anything ----

function field(record: unknown, name: string): unknown {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return undefined;
  return Object.hasOwn(record, name) ? (record as Record<string, unknown>)[name] : undefined;
}

/** A number, or a string of digits (report.md §4 allows both), else undefined. */
function numeric(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && DIGITS.test(value)) return Number(value);
  return undefined;
}

type SortKey = number | string | undefined;

function sortKey(record: unknown, sortBy: SortBy): SortKey {
  switch (sortBy) {
    case "create_time":
    case "status":
    case "duration":
      return numeric(field(record, sortBy));
    case "job_name": {
      const name = field(record, "version_name");
      return typeof name === "string" ? name : undefined;
    }
    case "job_desc": {
      const desc = field(record, "version_desc");
      return typeof desc === "string" ? desc : undefined;
    }
  }
}

/** Missing lowest, then numbers, then strings (code-unit order). */
function compareKeys(a: SortKey, b: SortKey): number {
  const rank = (k: SortKey): number => (k === undefined ? 0 : typeof k === "number" ? 1 : 2);
  const byRank = rank(a) - rank(b);
  if (byRank !== 0 || a === undefined || b === undefined) return byRank;
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

function workspaceOf(record: unknown): string {
  const ws = field(record, "workspace_id");
  if (typeof ws === "string" && ws !== "") return ws;
  if (typeof ws === "number") return String(ws);
  return "0";
}

/** The filtered, sorted list a listing query pages through. */
function select(versions: readonly unknown[], p: ListingParams): unknown[] {
  const direction = p.order === "asc" ? 1 : -1;
  const rows: { record: unknown; index: number; key: SortKey; id: SortKey }[] = [];
  versions.forEach((record, index) => {
    if (workspaceOf(record) !== p.workspaceId) return;
    if (p.status !== undefined && numeric(field(record, "status")) !== p.status) return;
    if (p.poolId !== undefined && field(record, "pool_id") !== p.poolId) return;
    rows.push({
      record,
      index,
      key: sortKey(record, p.sortBy),
      id: numeric(field(record, "version_id")),
    });
  });
  rows.sort(
    (a, b) =>
      direction * (compareKeys(a.key, b.key) || compareKeys(a.id, b.id)) || a.index - b.index,
  );
  return rows.map((row) => row.record);
}

/** The listing's query parameters, or what is wrong with them (for a 400). */
export function parseListingQuery(query: URLSearchParams): ListingParams | string {
  const integer = (name: string, fallback: number): number | string => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    const n = DIGITS.test(raw) ? Number(raw) : Number.NaN;
    return Number.isSafeInteger(n) ? n : `${name} must be a non-negative integer, got "${raw}"`;
  };
  const offset = integer("offset", 0);
  if (typeof offset === "string") return offset;
  const limit = integer("limit", 20);
  if (typeof limit === "string") return limit;

  const sortBy = query.get("sort_by") ?? "create_time";
  const known = SORT_FIELDS.find((f) => f === sortBy);
  if (known === undefined)
    return `sort_by must be one of ${SORT_FIELDS.join(", ")}, got "${sortBy}"`;
  const order = query.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") return `order must be asc or desc, got "${order}"`;

  const rawStatus = query.get("status");
  let status: number | undefined;
  if (rawStatus !== null && rawStatus !== "") {
    status = DIGITS.test(rawStatus) ? Number(rawStatus) : Number.NaN;
    if (!Number.isSafeInteger(status)) return `status must be a status code, got "${rawStatus}"`;
  }
  const poolId = query.get("pool_id");
  const workspaceId = query.get("workspace_id");
  return {
    offset,
    limit,
    sortBy: known,
    order,
    status,
    poolId: poolId === null || poolId === "" ? undefined : poolId,
    workspaceId: workspaceId === null || workspaceId === "" ? "0" : workspaceId,
  };
}

/** The records a listing serves, with the sorted selections cached per query. */
export class Listing {
  #versions: unknown[];
  #hook: ((state: ListingState) => void) | undefined;
  /** Sorted and filtered lists by query; emptied whenever the data may have changed. */
  readonly #selections = new Map<string, unknown[]>();
  readonly #pageCap: number | undefined;
  readonly #hiddenRows: readonly number[];

  constructor(
    versions: readonly unknown[],
    paging: { pageCap?: number | undefined; hiddenRows?: readonly number[] | undefined },
  ) {
    this.#versions = [...versions];
    this.#pageCap = paging.pageCap;
    this.#hiddenRows = paging.hiddenRows ?? [];
  }

  setVersions(next: readonly unknown[]): void {
    this.#versions = [...next];
    this.#selections.clear();
  }

  onListing(hook: ((state: ListingState) => void) | undefined): void {
    this.#hook = hook;
  }

  /** Calls the test's hook, if any, before a page is served. */
  beforePage(request: number): void {
    if (this.#hook === undefined) return;
    this.#hook({ versions: this.#versions, request });
    // The hook may have changed the list in place.
    this.#selections.clear();
  }

  /** How many records the query selects (`total_count`). */
  total(p: ListingParams): number {
    return this.#selection(p).length;
  }

  /** The JSON text of the page the query asks for. */
  pageBody(p: ListingParams): string {
    const all = this.#selection(p);
    const asked = p.limit === 0 ? all.length : p.limit;
    const size = this.#pageCap === undefined ? asked : Math.min(asked, this.#pageCap);
    return JSON.stringify({
      is_success: true,
      total_count: all.length,
      versions: this.#hidden(all.slice(p.offset, p.offset + size), p.offset),
      offset: p.offset,
      limit: p.limit,
    });
  }

  #selection(p: ListingParams): unknown[] {
    const key = JSON.stringify([p.sortBy, p.order, p.status, p.poolId, p.workspaceId]);
    let selected = this.#selections.get(key);
    if (selected === undefined) {
      if (this.#selections.size >= 32) this.#selections.clear();
      selected = select(this.#versions, p);
      this.#selections.set(key, selected);
    }
    return selected;
  }

  #hidden(page: unknown[], offset: number): unknown[] {
    const rows = this.#hiddenRows;
    if (rows.length === 0) return page;
    return page.filter((_, i) => !rows.includes(offset + i));
  }
}
