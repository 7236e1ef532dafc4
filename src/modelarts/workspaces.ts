/**
 * ListWorkspace (modelarts-api.md, "Listing workspaces"): the URL of one page and the check of
 * what it answers. The HTTP side (auth, retries, errors) is the client's, shared with the
 * versions listing.
 */
import * as z from "zod";
import { UpstreamError } from "../shared/errors.js";

/** A workspace as ListWorkspace gives it: the fields a source needs. */
export interface Workspace {
  readonly id: string;
  readonly name: string;
}

/** The IAM actions a refused call needs, named in its error (report.md §10). */
export const WORKSPACE_LIST_ACTION = "modelarts:workspace:list";
/**
 * modelarts-api.md names none for the versions listing; the ModelArts permission table gives
 * this one for listing training jobs (`GET /v1/{project_id}/training-jobs`).
 */
export const TRAIN_JOB_LIST_ACTION = "modelarts:trainJob:list";

/** The documented default and, as far as the reference says, the largest page. */
export const WORKSPACE_PAGE_LIMIT = 1000;

export function workspacesUrl(endpoint: string, projectId: string, offset: number): URL {
  const url = new URL(`/v1/${encodeURIComponent(projectId)}/workspaces`, endpoint);
  url.searchParams.set("filter_accessible", "true");
  url.searchParams.set("offset", String(offset));
  url.searchParams.set("limit", String(WORKSPACE_PAGE_LIMIT));
  // A fixed order, so that pages read one after the other neither skip nor repeat.
  url.searchParams.set("sort_by", "name");
  url.searchParams.set("order", "asc");
  return url;
}

const count = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^[0-9]+$/)
    .transform(Number),
]);

/**
 * `id` is "0" or 32 hex digits by the reference; any id of letters, digits and `-` is taken, as
 * it becomes part of a source's name (lower-cased) when names collide. Other fields are ignored.
 */
const workspacePageSchema = z.object({
  total_count: count,
  workspaces: z.array(
    z.object({
      id: z.string().regex(/^[0-9A-Za-z-]{1,64}$/, "not an id of 1–64 letters, digits or -"),
      name: z.string(),
    }),
  ),
});

export interface WorkspacePage {
  readonly totalCount: number;
  readonly workspaces: readonly Workspace[];
  /** `GET <url>` and its request id, for a later error about this page. */
  readonly where: string;
}

/** Where an answer came from, for messages: `GET <url>` and its request id. */
export interface Answer {
  readonly where: string;
  readonly requestId: string | undefined;
}

/** What is wrong with a page: the path of the first bad field and why (never a value). */
function problem(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? "body" : issue.path.join(".");
  return `${path} (${issue?.message ?? "invalid"})`;
}

/**
 * A ListWorkspace page, or an UpstreamError naming its first bad field (retryable, like a bad
 * versions page: a bad answer, not a bad request).
 */
export function workspacePage(json: unknown, answer: Answer): WorkspacePage {
  const { where, requestId } = answer;
  const rid = requestId ? ` (request id ${requestId})` : "";
  const parsed = workspacePageSchema.safeParse(json);
  if (!parsed.success) {
    throw new UpstreamError(
      `${where} answered a workspaces page without a valid ${problem(parsed.error)}${rid}`,
      { retryable: true },
    );
  }
  const workspaces = parsed.data.workspaces.map(({ id, name }) => ({ id, name }));
  return { totalCount: parsed.data.total_count, workspaces, where: `${where}${rid}` };
}

/**
 * Every workspace, page after page from `offset` 0, advancing by what came back, until
 * `total_count` distinct ids are read (a workspace on two pages counts once). A page that adds
 * none before then ends it with an error: the listing shrank or repeats itself, and reading on
 * could loop for ever.
 */
export async function readAllWorkspaces(
  pageAt: (offset: number) => Promise<WorkspacePage>,
): Promise<Workspace[]> {
  const found = new Map<string, Workspace>();
  for (let offset = 0; ; ) {
    const page = await pageAt(offset);
    let added = 0;
    for (const w of page.workspaces) {
      if (found.has(w.id)) continue;
      found.set(w.id, w);
      added += 1;
    }
    if (found.size >= page.totalCount) return [...found.values()];
    if (added === 0) {
      throw new UpstreamError(
        `${page.where} added no workspace although ${found.size} of total_count ${page.totalCount} are read`,
        { retryable: false },
      );
    }
    offset += page.workspaces.length;
  }
}
