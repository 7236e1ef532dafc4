import * as z from "zod";
import { ConfigError } from "../shared/errors.js";
import type { UpstreamAuth, UpstreamConfig } from "./config.js";

/**
 * The organisation's sources (report.md §10): named listings, each one project of one region
 * and one workspace (or every workspace, `"*"`, expanded at run time through ListWorkspace).
 * Without REPORT_SOURCES the MODELARTS_* settings make one source named `default`.
 */

/** A source as configured; `allWorkspaces` entries are expanded before the scan. */
export interface SourceConfig {
  /** 1–40 characters of [a-z0-9-]; after expansion `<name>.<workspace>`. */
  readonly name: string;
  /** `workspace_id: "*"`: one source per workspace the credentials may use. */
  readonly allWorkspaces: boolean;
  /** The listing: its `workspaceId` is `null` for the default one (and for `"*"`). */
  readonly upstream: UpstreamConfig;
}

/** A source ready to scan: one listing. */
export interface ResolvedSource {
  readonly name: string;
  readonly upstream: UpstreamConfig;
}

export const SOURCE_NAME = /^[a-z0-9-]{1,40}$/;

/** A workspace as ListWorkspace gives it (the fields the expansion needs). */
export interface Workspace {
  readonly id: string;
  readonly name: string;
}

/**
 * The name of each workspace's source, in workspace-id order (`"0"` first):
 * `<entry>.<workspace name lower-cased, each run of characters other than [a-z0-9] as ->`, or
 * `<entry>.<id>` for every workspace whose name collides with another's (or is empty). Pure.
 */
export function workspaceSourceNames(
  entry: string,
  workspaces: readonly Workspace[],
): { readonly workspaceId: string; readonly name: string }[] {
  const sorted = [...workspaces].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const names = sorted.map((w) => ({ workspaceId: w.id, name: slug(w.name) }));
  for (const n of names) if (n.name === "") n.name = n.workspaceId.toLowerCase();
  // An id used instead of a name may itself equal another workspace's name, and that one's id
  // a third's: repeat until no two collide. Each round turns at least one name into its id, so
  // it ends; ids that differ only in case are left as they are (no id is then better).
  for (let changed = true; changed; ) {
    changed = false;
    const counts = new Map<string, number>();
    for (const n of names) counts.set(n.name, (counts.get(n.name) ?? 0) + 1);
    for (const n of names) {
      const id = n.workspaceId.toLowerCase();
      if ((counts.get(n.name) ?? 0) > 1 && n.name !== id) {
        n.name = id;
        changed = true;
      }
    }
  }
  return names.map((n) => ({ workspaceId: n.workspaceId, name: `${entry}.${n.name}` }));
}

/** The listing a source reads, for the "same listing twice" check. */
export function listingKey(upstream: UpstreamConfig): string {
  return JSON.stringify([
    upstream.endpoint,
    upstream.projectId,
    upstream.workspaceId ?? "0",
    upstream.poolId,
  ]);
}

/** Two sources reading one listing would count its versions twice: a configuration error. */
export function checkDistinct(sources: readonly ResolvedSource[], where: string): void {
  const names = new Map<string, string>();
  const listings = new Map<string, string>();
  for (const s of sources) {
    if (names.has(s.name)) throw new ConfigError(`${where}: the name "${s.name}" is used twice`);
    names.set(s.name, s.name);
    const key = listingKey(s.upstream);
    const other = listings.get(key);
    if (other !== undefined) {
      throw new ConfigError(
        `${where}: "${other}" and "${s.name}" name the same listing (endpoint, project, workspace and pool), so its versions would count twice`,
      );
    }
    listings.set(key, s.name);
  }
}

/** One entry of REPORT_SOURCES as written. */
export const sourceEntrySchema = z
  .object({
    name: z.string(),
    endpoint: z.string(),
    project_id: z.string().min(1),
    workspace_id: z.string().min(1).optional(),
    pool_id: z.string().min(1).optional(),
    credentials: z.string().min(1).optional(),
  })
  .strict();
export type SourceEntry = z.infer<typeof sourceEntrySchema>;

/** How an entry's `credentials` is read; the default auth is the deployment's own. */
export type SourceCredentials =
  | { readonly kind: "default" }
  | { readonly kind: "env"; readonly prefix: string }
  | { readonly kind: "secret"; readonly secretId: string };

export function parseCredentials(raw: string | undefined): SourceCredentials {
  if (raw === undefined) return { kind: "default" };
  const env = /^env:(.*)$/.exec(raw);
  if (env !== null) return { kind: "env", prefix: env[1] ?? "" };
  return { kind: "secret", secretId: raw };
}

export type { UpstreamAuth };
