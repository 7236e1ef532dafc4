/**
 * The simulator's workspaces: ListWorkspace (modelarts-api.md, "Listing workspaces") and who
 * may read which workspace's versions. No HTTP here; `server.ts` answers with it.
 *
 * Decisions where the reference is silent:
 * - Without `filter_accessible=true` every workspace is listed, the inaccessible ones too.
 * - `limit` must be at least 1 (the reference gives no meaning to 0); pages are capped at
 *   `pageCap` whatever `limit` asks for.
 * - Sorting is by code units of the key, ties broken by id in the same direction.
 * - A workspace that is inaccessible or `forbidden` answers its versions listing with 403
 *   `ModelArts.0108` (not authorised). A workspace id the simulator does not know is served
 *   like any other (its records, if any), as before workspaces were simulated.
 */

export interface SimulatedWorkspace {
  /** `"0"` for the default workspace; otherwise 32 hex digits on the real API. */
  id: string;
  name: string;
  /** Listed with `filter_accessible=true`; default true. */
  accessible?: boolean;
  /** Listed as accessible, but its versions listing answers 403 (a permission missing there). */
  forbidden?: boolean;
}

export const DEFAULT_WORKSPACES: readonly SimulatedWorkspace[] = [{ id: "0", name: "default" }];

const DIGITS = /^[0-9]+$/;
const SORT_FIELDS = ["name", "update_time", "status"] as const;
/** A fixed time for the listed create/update times: the simulator invents no history here. */
const CREATED = Date.UTC(2025, 0, 6, 9, 0, 0);

export interface WorkspaceQuery {
  offset: number;
  limit: number;
  sortBy: (typeof SORT_FIELDS)[number];
  order: "asc" | "desc";
  accessibleOnly: boolean;
  /** Fuzzy match: the name contains it, ignoring case. */
  name: string | undefined;
  enterpriseProjectId: string | undefined;
}

export function validateWorkspaces(workspaces: readonly SimulatedWorkspace[]): void {
  const ids = new Set<string>();
  for (const w of workspaces) {
    if (w.id === "") throw new RangeError("a workspace id must not be empty");
    if (ids.has(w.id)) throw new RangeError(`workspace id ${w.id} is given twice`);
    ids.add(w.id);
  }
}

/** ListWorkspace's query, or what is wrong with it (for a 400). */
export function parseWorkspaceQuery(query: URLSearchParams): WorkspaceQuery | string {
  const integer = (name: string, fallback: number, min: number): number | string => {
    const raw = query.get(name);
    if (raw === null) return fallback;
    const n = DIGITS.test(raw) ? Number(raw) : Number.NaN;
    return Number.isSafeInteger(n) && n >= min
      ? n
      : `${name} must be an integer of at least ${min}, got "${raw}"`;
  };
  const offset = integer("offset", 0, 0);
  if (typeof offset === "string") return offset;
  const limit = integer("limit", 1000, 1);
  if (typeof limit === "string") return limit;
  const sortBy = query.get("sort_by") ?? "name";
  const known = SORT_FIELDS.find((f) => f === sortBy);
  if (known === undefined) {
    return `sort_by must be one of ${SORT_FIELDS.join(", ")}, got "${sortBy}"`;
  }
  const order = query.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") return `order must be asc or desc, got "${order}"`;
  const filter = query.get("filter_accessible") ?? "false";
  if (filter !== "true" && filter !== "false") {
    return `filter_accessible must be true or false, got "${filter}"`;
  }
  const optional = (name: string) => {
    const raw = query.get(name);
    return raw === null || raw === "" ? undefined : raw;
  };
  return {
    offset,
    limit,
    sortBy: known,
    order,
    accessibleOnly: filter === "true",
    name: optional("name"),
    enterpriseProjectId: optional("enterprise_project_id"),
  };
}

/** A workspace as ListWorkspace shows it. */
function shown(w: SimulatedWorkspace): Record<string, unknown> {
  return {
    id: w.id,
    name: w.name,
    description: "",
    owner: "demo",
    enterprise_project_id: "0",
    enterprise_project_name: "default",
    auth_type: w.id === "0" ? "PUBLIC" : "INTERNAL",
    create_time: CREATED,
    update_time: CREATED,
    status: "NORMAL",
    status_info: "",
  };
}

function sortKey(w: SimulatedWorkspace, sortBy: WorkspaceQuery["sortBy"]): string {
  // Every simulated workspace has the same update time and status: the id decides.
  return sortBy === "name" ? w.name : "";
}

export class Workspaces {
  readonly #all: readonly SimulatedWorkspace[];
  readonly #pageCap: number | undefined;

  constructor(workspaces: readonly SimulatedWorkspace[], pageCap: number | undefined) {
    validateWorkspaces(workspaces);
    this.#all = [...workspaces];
    this.#pageCap = pageCap;
  }

  /** Whether the versions listing of this workspace is refused (403). */
  refuses(workspaceId: string): boolean {
    const w = this.#all.find((x) => x.id === workspaceId);
    return w !== undefined && (w.forbidden === true || w.accessible === false);
  }

  /** What ListWorkspace answers for the query. */
  page(q: WorkspaceQuery): {
    total_count: number;
    count: number;
    workspaces: Record<string, unknown>[];
  } {
    const direction = q.order === "asc" ? 1 : -1;
    const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const needle = q.name?.toLowerCase();
    // Every simulated workspace is in the default enterprise project, "0".
    const inProject = q.enterpriseProjectId === undefined || q.enterpriseProjectId === "0";
    const selected = this.#all
      .filter((w) => inProject && (!q.accessibleOnly || w.accessible !== false))
      .filter((w) => needle === undefined || w.name.toLowerCase().includes(needle))
      .sort(
        (a, b) =>
          direction * (compare(sortKey(a, q.sortBy), sortKey(b, q.sortBy)) || compare(a.id, b.id)),
      );
    const size = this.#pageCap === undefined ? q.limit : Math.min(q.limit, this.#pageCap);
    const page = selected.slice(q.offset, q.offset + size).map(shown);
    return { total_count: selected.length, count: page.length, workspaces: page };
  }
}
