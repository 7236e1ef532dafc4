import * as z from "zod";
import type { Budget } from "../report/budgets.js";
import type { ScanResult } from "../scan/scan.js";
import { scanSources } from "../scan/sources.js";
import { ConfigError } from "../shared/errors.js";
import type { Log } from "../shared/log.js";
import { loadPriceTable, readDocument } from "../storage/documents.js";
import type { ReportStore } from "../storage/store.js";
import { parseBudgets, type ReportConfig } from "./config.js";
import {
  checkRun,
  type JobSource,
  keepForRun,
  publishScans,
  type ReportJobOptions,
  type ReportJobResult,
} from "./report-job.js";
import { expandSources, type ResolvedSource, type SourceConfig } from "./sources.js";
import { createClient, type FetchSecret } from "./upstream.js";

/**
 * A run as three steps (issue 21): **Plan** (the dates or month, the sources with `"*"`
 * expanded), **ScanSource** (one source), **Publish** (every source's scan merged into the
 * reports, published under the run lock). On Step Functions each is a function and the scans
 * run in a Map state; the command line and `npm start` run the same steps in one process
 * (`run.ts`), the scans at once. The plan is plain JSON: it travels in the state machine's
 * payload, names sources by their configured entry and workspace, and holds no secret.
 */

export const plannedSource = z.strictObject({
  index: z.number().int().nonnegative(),
  name: z.string().min(1).max(105),
  /** The REPORT_SOURCES entry it comes from (`default` for the MODELARTS_* settings). */
  entry: z.string().min(1).max(40),
  /** The workspace a `"*"` entry was expanded to; `null` for an entry read as configured. */
  workspace_id: z.string().min(1).max(64).nullable(),
});
export type PlannedSource = z.infer<typeof plannedSource>;

export const runPlan = z.strictObject({
  plan_version: z.literal(1),
  /** Names the run's partials (`runs/<run_id>/`): the execution's name. */
  run_id: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  /** The run's clock (epoch ms) as Plan read it: every step reports as of this instant. */
  now: z.number().int().nonnegative(),
  dates: z.array(z.string()),
  month: z.string().nullable(),
  /** The regeneration this run carries out (POST /reports), if any. */
  request_id: z.string().min(1).max(100).nullable(),
  /** Started by the schedule: Publish sends the daily digest (report.md §11). */
  scheduled: z.boolean().default(false),
  sources: z.array(plannedSource).min(1),
});
export type RunPlan = z.infer<typeof runPlan>;

/** What the steps need besides the configuration: how to reach secrets, files and the log. */
export interface StepContext {
  readonly log?: Log | undefined;
  readonly fetchSecret?: FetchSecret | undefined;
  readonly cwd?: string | undefined;
  /** Epoch ms by which upstream requests must be over. */
  readonly deadline?: number | undefined;
}

/** The configured budgets (§11): none, listed, or read from their document. */
export async function configuredBudgets(
  config: ReportConfig,
  ctx: StepContext,
): Promise<readonly Budget[]> {
  switch (config.budgets.kind) {
    case "none":
      return [];
    case "listed":
      return config.budgets.budgets;
    case "document": {
      const { location } = config.budgets;
      const text = await readDocument(location, "REPORT_BUDGETS", { cwd: ctx.cwd });
      return parseBudgets(text, location, config.priceTable !== null);
    }
  }
}

/** The configured sources, before expansion: listed, or read from their document. */
export async function configuredSources(
  config: ReportConfig,
  ctx: StepContext,
): Promise<readonly SourceConfig[]> {
  switch (config.sources.kind) {
    case "demo":
      throw new ConfigError("MODELARTS_ENDPOINT is not set, and there is no built-in demo here");
    case "document":
      return config.sources.parse(
        await readDocument(config.sources.location, "REPORT_SOURCES", { cwd: ctx.cwd }),
      );
    case "listed":
      return config.sources.sources;
  }
}

const clientOptions = (ctx: StepContext) => ({
  log: ctx.log,
  fetchSecret: ctx.fetchSecret,
  deadline: ctx.deadline,
});

/** The sources of a run: `"*"` entries expanded through ListWorkspace, none read twice. */
export function resolveSources(
  configured: readonly SourceConfig[],
  ctx: StepContext,
): Promise<ResolvedSource[]> {
  return expandSources(configured, async (s) =>
    (await createClient(s.upstream, clientOptions(ctx))).listWorkspaces(),
  );
}

/** Plan: the run's sources as the plan names them. */
export function plannedSources(resolved: readonly ResolvedSource[]): PlannedSource[] {
  return resolved.map((s, index) => ({
    index,
    name: s.name,
    entry: s.entry,
    workspace_id: s.expanded ? s.upstream.workspaceId : null,
  }));
}

/** Plan, on its own (the state machine's first step): the run, checked, with its sources. */
export async function planRun(
  config: ReportConfig,
  request: {
    dates: readonly string[];
    month: string | undefined;
    requestId: string | undefined;
    scheduled?: boolean | undefined;
  },
  run: { runId: string; now: number },
  ctx: StepContext,
): Promise<RunPlan> {
  const resolved = await resolveSources(await configuredSources(config, ctx), ctx);
  const plan: RunPlan = {
    plan_version: 1,
    run_id: run.runId,
    now: run.now,
    dates: [...request.dates],
    month: request.month ?? null,
    request_id: request.requestId ?? null,
    scheduled: request.scheduled ?? false,
    sources: plannedSources(resolved),
  };
  checkRun({ sources: plan.sources }, jobOptions(config, plan));
  return plan;
}

/** The job's options of a plan's run. */
export function jobOptions(
  config: ReportConfig,
  plan: Pick<RunPlan, "dates" | "month" | "now">,
): ReportJobOptions {
  return {
    dates: plan.dates,
    month: plan.month ?? undefined,
    timeZone: config.timeZone,
    failureStatuses: config.failureStatuses,
    now: plan.now,
    maxInFlight: config.maxInFlight,
  };
}

/** A resolved source as the job scans it: its client, paging and listing. */
export async function jobSourceOf(
  source: ResolvedSource,
  ctx: StepContext,
  endpointLabel: (endpoint: string) => string = (e) => e,
): Promise<JobSource> {
  const { name, upstream } = source;
  return {
    name,
    versions: await createClient(upstream, clientOptions(ctx)),
    pageSize: upstream.pageSize,
    concurrency: upstream.concurrency,
    listing: {
      endpoint: endpointLabel(upstream.endpoint),
      projectId: upstream.projectId,
      workspaceId: upstream.workspaceId,
      poolId: upstream.poolId,
    },
  };
}

/**
 * The planned source at `index`, from the configured sources as they are now (`configured`,
 * read once by the caller; no re-expansion).
 */
export function plannedSourceOf(
  configured: readonly SourceConfig[],
  plan: RunPlan,
  index: number,
): ResolvedSource {
  const planned = plan.sources[index];
  if (planned === undefined) throw new ConfigError(`the plan has no source ${index}`);
  const entry = configured.find((s) => s.name === planned.entry);
  if (entry === undefined) {
    throw new ConfigError(
      `the source "${planned.name}" of the plan is no longer configured (entry "${planned.entry}")`,
    );
  }
  const workspaceId = planned.workspace_id ?? entry.upstream.workspaceId;
  return {
    name: planned.name,
    entry: planned.entry,
    expanded: planned.workspace_id !== null,
    upstream: { ...entry.upstream, workspaceId },
  };
}

/** ScanSource, on its own: one planned source's scan, as the job would scan it. */
export async function scanPlannedSource(
  config: ReportConfig,
  plan: RunPlan,
  index: number,
  ctx: StepContext,
): Promise<ScanResult> {
  const configured = await configuredSources(config, ctx);
  const source = await jobSourceOf(plannedSourceOf(configured, plan, index), ctx);
  const [scan] = await scanSources([source], { keep: keepForRun(jobOptions(config, plan)) });
  if (scan === undefined) throw new ConfigError("the scan gave no result");
  return scan;
}

/**
 * Publish, on its own: the scans of every planned source (in plan order) into the reports,
 * with the listings as ScanSource read them. The prices are read here, once.
 */
export async function publishPlannedRun(
  config: ReportConfig,
  plan: RunPlan,
  scans: readonly ScanResult[],
  deps: { store: ReportStore } & StepContext,
): Promise<ReportJobResult> {
  // The sources' document is read once, not once a source.
  const configured = await configuredSources(config, deps);
  const sources = plan.sources.map((_, i) => {
    const { name, upstream } = plannedSourceOf(configured, plan, i);
    return {
      name,
      listing: {
        endpoint: upstream.endpoint,
        projectId: upstream.projectId,
        workspaceId: upstream.workspaceId,
        poolId: upstream.poolId,
      },
    };
  });
  const prices =
    config.priceTable === null
      ? undefined
      : await loadPriceTable(config.priceTable, { cwd: deps.cwd });
  const budgets = await configuredBudgets(config, deps);
  return publishScans(
    { sources, store: deps.store, log: deps.log },
    { ...jobOptions(config, plan), prices, budgets },
    scans,
  );
}
