import type { ScanProgress } from "../scan/scan.js";
import { ConfigError } from "../shared/errors.js";
import type { Log } from "../shared/log.js";
import { loadPriceTable, readDocument } from "../storage/documents.js";
import { openStore } from "../storage/open-store.js";
import type { ReportStore } from "../storage/store.js";
import type { ReportConfig } from "./config.js";
import { type JobSource, type ReportJobResult, runReportJob } from "./report-job.js";
import { expandSources, type ResolvedSource, type SourceConfig } from "./sources.js";
import { createClient, type FetchSecret } from "./upstream.js";

/**
 * The main job as configured: the upstream (or the built-in demo when no endpoint is set),
 * the store, and the run. Shared by the command line, the scheduled function and local
 * regeneration, so all three behave the same.
 */
export interface RunOptions {
  readonly now: number;
  readonly log?: Log | undefined;
  readonly onProgress?: ((progress: ScanProgress) => void) | undefined;
  readonly fetchSecret?: FetchSecret | undefined;
  readonly cwd?: string | undefined;
  /** Tells the user the demo is in use. */
  readonly onDemo?: (() => void) | undefined;
  /** An already opened store (tests, Lambda's module-level store); else opened from the config. */
  readonly store?: ReportStore | undefined;
  /** Epoch ms by which the upstream requests must be over (Lambda: its timeout less a margin). */
  readonly deadline?: number | undefined;
  /**
   * Starts the built-in demo upstream (the simulator) when no endpoint is configured. Given
   * by the command line and the local stage only, so that the deployed report function does
   * not carry the simulator.
   */
  readonly startDemo?: ((now: number) => Promise<DemoUpstream>) | undefined;
}

/** A running demo upstream: the sources that point clients at it, and how to stop it. */
export interface DemoUpstream {
  readonly sources: readonly SourceConfig[];
  close(): Promise<void>;
}

/** What a run reports: dates (consecutive), a month, or both, from one scan. */
export interface RunRequest {
  readonly dates: readonly string[];
  readonly month?: string | undefined;
}

export async function runConfiguredReport(
  config: ReportConfig,
  request: RunRequest,
  opts: RunOptions,
): Promise<ReportJobResult & { storeUrl: string }> {
  const store =
    opts.store ?? openStore(config.storage, opts.cwd === undefined ? {} : { cwd: opts.cwd });
  let close = async () => {};
  try {
    let configured: readonly SourceConfig[];
    let demo = false;
    if (config.sources.kind === "demo") {
      if (opts.startDemo === undefined) {
        throw new ConfigError("MODELARTS_ENDPOINT is not set, and there is no built-in demo here");
      }
      const started = await opts.startDemo(opts.now);
      close = () => started.close();
      configured = started.sources;
      demo = true;
      opts.onDemo?.();
    } else if (config.sources.kind === "document") {
      const { location, parse } = config.sources;
      configured = parse(await readDocument(location, "REPORT_SOURCES", { cwd: opts.cwd }));
    } else {
      configured = config.sources.sources;
    }
    // Read the prices before the scan: a bad table fails fast, not after minutes of paging.
    const prices =
      config.priceTable === null
        ? undefined
        : await loadPriceTable(config.priceTable, { cwd: opts.cwd });
    const clientOpts = { log: opts.log, fetchSecret: opts.fetchSecret, deadline: opts.deadline };
    const resolved = await expandSources(configured, async (s) =>
      (await createClient(s.upstream, clientOpts)).listWorkspaces(),
    );
    const endpointLabel = demoLabels(resolved, demo);
    const sources: JobSource[] = await Promise.all(
      resolved.map(async ({ name, upstream }) => ({
        name,
        versions: await createClient(upstream, clientOpts),
        pageSize: upstream.pageSize,
        concurrency: upstream.concurrency,
        listing: {
          endpoint: endpointLabel(upstream.endpoint),
          projectId: upstream.projectId,
          workspaceId: upstream.workspaceId,
          poolId: upstream.poolId,
        },
      })),
    );
    const result = await runReportJob(
      { sources, store, log: opts.log, onProgress: opts.onProgress },
      {
        dates: request.dates,
        month: request.month,
        timeZone: config.timeZone,
        failureStatuses: config.failureStatuses,
        now: opts.now,
        prices,
        maxInFlight: config.maxInFlight,
      },
    );
    return { ...result, storeUrl: store.url };
  } finally {
    await close();
  }
}

/**
 * How a source's endpoint is written in the report: as configured, or for the demo (whose
 * loopback ports change every run) `demo (built-in simulator)`, numbered when it runs several.
 */
function demoLabels(
  sources: readonly ResolvedSource[],
  demo: boolean,
): (endpoint: string) => string {
  if (!demo) return (endpoint) => endpoint;
  const endpoints = [...new Set(sources.map((s) => s.upstream.endpoint))];
  return (endpoint) =>
    endpoints.length === 1
      ? "demo (built-in simulator)"
      : `demo (built-in simulator ${endpoints.indexOf(endpoint) + 1})`;
}
