import type { ScanProgress } from "../scan/scan.js";
import { ConfigError } from "../shared/errors.js";
import type { Log } from "../shared/log.js";
import { openStore } from "../storage/open-store.js";
import { loadPriceTable } from "../storage/price-table.js";
import type { ReportStore } from "../storage/store.js";
import type { ReportConfig, UpstreamConfig } from "./config.js";
import { type ReportJobResult, runReportJob } from "./report-job.js";
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

/** A running demo upstream: settings that point the client at it, and how to stop it. */
export interface DemoUpstream {
  readonly upstream: UpstreamConfig;
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
  let upstream = config.upstream;
  let endpointLabel = upstream?.endpoint;
  let close = async () => {};
  try {
    if (upstream === null) {
      if (opts.startDemo === undefined) {
        throw new ConfigError("MODELARTS_ENDPOINT is not set, and there is no built-in demo here");
      }
      const demo = await opts.startDemo(opts.now);
      close = () => demo.close();
      upstream = demo.upstream;
      endpointLabel = "demo (built-in simulator)";
      opts.onDemo?.();
    }
    // Read the prices before the scan: a bad table fails fast, not after minutes of paging.
    const prices =
      config.priceTable === null
        ? undefined
        : await loadPriceTable(config.priceTable, { cwd: opts.cwd });
    const versions = await createClient(upstream, {
      log: opts.log,
      fetchSecret: opts.fetchSecret,
      deadline: opts.deadline,
    });
    const result = await runReportJob(
      { versions, store, log: opts.log, onProgress: opts.onProgress },
      {
        dates: request.dates,
        month: request.month,
        timeZone: config.timeZone,
        failureStatuses: config.failureStatuses,
        now: opts.now,
        pageSize: upstream.pageSize,
        concurrency: upstream.concurrency,
        prices,
        sourceInfo: {
          endpoint: endpointLabel ?? upstream.endpoint,
          projectId: upstream.projectId,
          workspaceId: upstream.workspaceId,
          poolId: upstream.poolId,
        },
      },
    );
    return { ...result, storeUrl: store.url };
  } finally {
    await close();
  }
}
