import * as z from "zod";
import { ConfigError } from "../shared/errors.js";
import {
  type Env,
  hasCredentials,
  parseAuth,
  parseEndpoint,
  type UpstreamAuth,
  type UpstreamConfig,
} from "./env.js";

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
  /** The configured entry it comes from. */
  readonly entry: string;
  /** Whether it is one workspace of a `"*"` entry. */
  readonly expanded: boolean;
}

const MAX_NAME = 40;
export const SOURCE_NAME = /^[a-z0-9-]{1,40}$/;
/**
 * The longest name a source can have after expansion: an entry's (40), `.`, and a workspace's
 * name (at most 40) or id (at most 64, as ListWorkspace's answer is checked).
 */
export const MAX_SOURCE_NAME = MAX_NAME + 1 + 64;

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
  // An empty name, or one longer than an entry's name may be, takes the id (at most 64).
  for (const n of names) {
    if (n.name === "" || n.name.length > MAX_NAME) n.name = n.workspaceId.toLowerCase();
  }
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
export function checkDistinct(
  sources: readonly Pick<ResolvedSource, "name" | "upstream">[],
  where: string,
): void {
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

/** What every entry shares: the environment, the paging settings and where it runs. */
export interface SourcesContext {
  readonly env: Env;
  readonly paging: Pick<UpstreamConfig, "pageSize" | "concurrency" | "timeoutMs" | "maxAttempts">;
  /** In AWS, `env:PREFIX` credentials are refused (credentials live in Secrets Manager). */
  readonly inAws: boolean;
}

/**
 * REPORT_SOURCES (a JSON array, inline or the text of the document at `where`) as sources.
 * Each problem names the entry (its position and name) and why, before any scan: a bad name, a
 * name used twice, two entries naming one listing, credentials that cannot be found.
 */
export function parseSourcesDocument(
  text: string,
  where: string,
  ctx: SourcesContext,
): SourceConfig[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`${where} is not JSON (a JSON array of sources is expected)`);
  }
  if (!Array.isArray(json) || json.length === 0) {
    throw new ConfigError(`${where} must be a JSON array of at least one source`);
  }
  const sources = json.map((raw, i) => parseEntry(raw, `${where} entry ${i + 1}`, ctx));
  // A "*" entry reads the project's every workspace: two of them on one project would overlap.
  checkDistinct(
    sources.map((s) => ({
      name: s.name,
      upstream: s.allWorkspaces ? { ...s.upstream, workspaceId: "*" } : s.upstream,
    })),
    where,
  );
  return sources;
}

function parseEntry(raw: unknown, at: string, ctx: SourcesContext): SourceConfig {
  const parsed = sourceEntrySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.map(String).join(".") ?? "";
    throw new ConfigError(`${at}: ${path === "" ? "" : `${path}: `}${issue?.message ?? "invalid"}`);
  }
  const e = parsed.data;
  const named = `${at} ("${e.name}")`;
  if (!SOURCE_NAME.test(e.name)) {
    throw new ConfigError(`${at}: name "${e.name}" must be 1–40 characters of a-z, 0-9 and -`);
  }
  const endpoint = withEntry(named, () => parseEndpoint(e.endpoint, "endpoint"));
  const auth = withEntry(named, () => credentialsOf(parseCredentials(e.credentials), ctx));
  const allWorkspaces = e.workspace_id === "*";
  return {
    name: e.name,
    allWorkspaces,
    upstream: {
      endpoint,
      projectId: e.project_id,
      workspaceId: allWorkspaces ? null : (e.workspace_id ?? null),
      poolId: e.pool_id ?? null,
      auth,
      ...ctx.paging,
    },
  };
}

function withEntry<T>(at: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${at}: ${error.message}`);
    throw error;
  }
}

function credentialsOf(credentials: SourceCredentials, ctx: SourcesContext): UpstreamAuth {
  switch (credentials.kind) {
    case "default":
      if (!hasCredentials(ctx.env)) {
        throw new ConfigError(
          "no credentials: give the entry `credentials`, or set the default MODELARTS_* / IAM_* credentials",
        );
      }
      return parseAuth(ctx.env);
    case "env": {
      const { prefix } = credentials;
      if (ctx.inAws) {
        throw new ConfigError(
          `credentials "env:${prefix}" are for local runs only; in AWS name a Secrets Manager secret`,
        );
      }
      if (!/^[A-Z][A-Z0-9_]*$/.test(prefix)) {
        throw new ConfigError(
          `credentials "env:${prefix}": the prefix must be upper-case letters, digits and _`,
        );
      }
      if (!hasCredentials(ctx.env, `${prefix}_`)) {
        throw new ConfigError(
          `unknown credentials "env:${prefix}": none of ${prefix}_MODELARTS_TOKEN, ${prefix}_MODELARTS_AK/_SK or ${prefix}_IAM_USERNAME is set`,
        );
      }
      return parseAuth(ctx.env, `${prefix}_`);
    }
    case "secret":
      if (!/^[A-Za-z0-9/_+=.@:-]{1,2048}$/.test(credentials.secretId)) {
        throw new ConfigError(
          "unknown credentials: expected the name or ARN of a Secrets Manager secret, or env:PREFIX",
        );
      }
      return { kind: "secret", secretId: credentials.secretId };
  }
}

/**
 * The sources to scan: each `"*"` entry replaced, in place, by one source per workspace that
 * `listWorkspaces` gives for it (the names of `workspaceSourceNames`); then no two may name one
 * listing. Runs before any scan: a failure here writes nothing and reads no version.
 */
export async function expandSources(
  sources: readonly SourceConfig[],
  listWorkspaces: (source: SourceConfig) => Promise<readonly Workspace[]>,
): Promise<ResolvedSource[]> {
  const expanded = await Promise.all(
    sources.map(async (s): Promise<ResolvedSource[]> => {
      if (!s.allWorkspaces) {
        return [{ name: s.name, upstream: s.upstream, entry: s.name, expanded: false }];
      }
      const workspaces = await listWorkspaces(s);
      return workspaceSourceNames(s.name, workspaces).map((w) => ({
        name: w.name,
        upstream: { ...s.upstream, workspaceId: w.workspaceId },
        entry: s.name,
        expanded: true,
      }));
    }),
  );
  const resolved = expanded.flat();
  checkDistinct(resolved, "the sources after workspace expansion");
  return resolved;
}
