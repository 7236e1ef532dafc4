import type { UpstreamConfig } from "../app/config.js";
import type { SourceConfig } from "../app/sources.js";
import type { Budget } from "../report/budgets.js";
import { Secret } from "../shared/secret.js";
import { type Simulator, startSimulator } from "./server.js";
import { generateWorkload } from "./workload.js";

/**
 * The embedded default: an organisation of simulators on free loopback ports, serving a
 * seeded month of jobs that ends at `now`. Used by `npm start` and by `npm run report` when
 * neither MODELARTS_ENDPOINT nor REPORT_SOURCES is set. No network leaves the machine.
 */
/**
 * Fixed demo credentials, printed on purpose by `npm run simulate`: they open nothing but the
 * local simulator.
 */
export const DEMO_CREDENTIALS = {
  projectId: "demo-project",
  token: "demo-token",
  ak: "DEMOAK",
  sk: "demo-secret-key",
  iamUser: { username: "demo", password: "demo-password", domain: "demo-domain" },
} as const;

/** The demo workload: a month of jobs (split over the organisation), the same for the same day. */
export const DEMO_WORKLOAD = { versions: 3000, seed: 7, days: 30 } as const;

export type { DemoUpstream } from "../app/run.js";

/** One workspace's listing in the demo organisation, with its share of the workload. */
export interface DemoListing {
  readonly workspaceId: string;
  readonly name: string;
  readonly versions: number;
  readonly seed: number;
}

/** One project (one region, one simulator) of the demo organisation: one REPORT_SOURCES entry. */
export interface DemoProject {
  /** The entry's name (report.md §10): 1–40 characters of [a-z0-9-]. */
  readonly source: string;
  readonly projectId: string;
  /** `workspace_id: "*"`: the entry reads every workspace ListWorkspace gives. */
  readonly allWorkspaces: boolean;
  readonly listings: readonly DemoListing[];
}

/**
 * The demo as an organisation: a research project whose jobs are spread over three
 * workspaces (the default one and two teams'), read with `workspace_id: "*"`, and a
 * production project in another region with one workspace. 3000 versions over 30 days in
 * all, as DEMO_WORKLOAD, so that `npm start` stays as fast. Each listing holds GPUs on
 * every day, several at the same instants, so the peak of the sum is above each listing's own
 * (measured for 200 consecutive demo days: by 28 GPUs or more).
 */
export const DEMO_ORGANISATION: readonly DemoProject[] = [
  {
    source: "research",
    projectId: DEMO_CREDENTIALS.projectId,
    allWorkspaces: true,
    listings: [
      { workspaceId: "0", name: "default", versions: 1200, seed: 7 },
      {
        workspaceId: "5f3c9a1e7b2d4c6e8a0b1c2d3e4f5a6b",
        name: "Vision Team",
        versions: 1000,
        seed: 8,
      },
      { workspaceId: "a1b2c3d4e5f60718293a4b5c6d7e8f90", name: "NLP", versions: 400, seed: 9 },
    ],
  },
  {
    source: "eu-prod",
    projectId: "demo-project-eu",
    allWorkspaces: false,
    listings: [{ workspaceId: "0", name: "default", versions: 400, seed: 10 }],
  },
];

/**
 * The demo's budgets: the organisation burns some 1 500–2 300 GPU-hours a day, so a month at
 * that pace is forecast past 40 000; eu-prod's NPU day budget is crossed most days.
 */
export const DEMO_BUDGETS: readonly Budget[] = [
  { name: "org-gpu-month", period: "month", metric: "gpu_hours", limit: 40_000 },
  { name: "eu-prod-npu-day", period: "day", metric: "npu_hours", limit: 100, source: "eu-prod" },
];

/** A demo listing's settings, the client's as `startDemoUpstream` gives them. */
function demoUpstream(endpoint: string, projectId: string): UpstreamConfig {
  return {
    endpoint,
    projectId,
    workspaceId: null,
    poolId: null,
    auth: { kind: "token", token: new Secret(DEMO_CREDENTIALS.token) },
    pageSize: 100,
    concurrency: 8,
    timeoutMs: 30_000,
    maxAttempts: 5,
  };
}

/**
 * A project's records: each listing's own workload with its `workspace_id`. Version ids are
 * one sequence per project, as on ModelArts, so each workspace gets its own million; another
 * project (region) may reuse them: a version is (source, version_id).
 */
function projectVersions(project: DemoProject, now: number): unknown[] {
  return project.listings.flatMap((listing, k) =>
    generateWorkload({ versions: listing.versions, seed: listing.seed, days: 30, now }).map(
      (v) => ({
        ...v,
        version_id: v.version_id + k * 1_000_000,
        workspace_id: listing.workspaceId,
      }),
    ),
  );
}

/**
 * The demo organisation on loopback: one simulator per project (two "regions", two
 * endpoints), each serving ListWorkspace (two workspaces a page, so it pages) and its
 * workspaces' versions, with the demo token. `sources` are REPORT_SOURCES' entries as parsed,
 * in configuration order; `close` stops both simulators.
 */
export async function startDemoOrganisation(
  now: number,
): Promise<{ sources: SourceConfig[]; budgets: Budget[]; close(): Promise<void> }> {
  const started: Simulator[] = [];
  const close = async () => {
    await Promise.all(started.map((sim) => sim.close()));
  };
  try {
    const sources: SourceConfig[] = [];
    for (const project of DEMO_ORGANISATION) {
      const sim = await startSimulator({
        projectId: project.projectId,
        versions: projectVersions(project, now),
        auth: { tokens: [DEMO_CREDENTIALS.token] },
        workspaces: project.listings.map(({ workspaceId, name }) => ({ id: workspaceId, name })),
        workspacePageCap: 2,
        pageCap: 100,
        now: () => now,
      });
      started.push(sim);
      sources.push({
        name: project.source,
        allWorkspaces: project.allWorkspaces,
        upstream: demoUpstream(sim.url, project.projectId),
      });
    }
    return { sources, budgets: [...DEMO_BUDGETS], close };
  } catch (error) {
    await close();
    throw error;
  }
}
