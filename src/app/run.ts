import type { Budget } from "../report/budgets.js";
import type { ScanProgress } from "../scan/scan.js";
import { ConfigError } from "../shared/errors.js";
import type { Log } from "../shared/log.js";
import { loadPriceTable } from "../storage/documents.js";
import { openStore } from "../storage/open-store.js";
import type { ReportStore } from "../storage/store.js";
import type { ReportConfig } from "./config.js";
import { type ReportJobResult, runReportJob } from "./report-job.js";
import type { ResolvedSource, SourceConfig } from "./sources.js";
import {
  configuredBudgets,
  configuredSources,
  jobOptions,
  jobSourceOf,
  resolveSources,
} from "./steps.js";
import type { FetchSecret } from "./upstream.js";

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
   * by the command line and the local stage only, so that the deployed functions do
   * not carry the simulator.
   */
  readonly startDemo?: ((now: number) => Promise<DemoUpstream>) | undefined;
}

/** A running demo upstream: the sources that point clients at it, and how to stop it. */
export interface DemoUpstream {
  readonly sources: readonly SourceConfig[];
  /** Budgets the demo's data crosses, so `npm start` shows an alert. */
  readonly budgets?: readonly Budget[];
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
    let demoBudgets: readonly Budget[] = [];
    if (config.sources.kind === "demo") {
      if (opts.startDemo === undefined) {
        throw new ConfigError("MODELARTS_ENDPOINT is not set, and there is no built-in demo here");
      }
      const started = await opts.startDemo(opts.now);
      close = () => started.close();
      configured = started.sources;
      demoBudgets = started.budgets ?? [];
      demo = true;
      opts.onDemo?.();
    } else {
      configured = await configuredSources(config, opts);
    }
    // Read the prices before the scan: a bad table fails fast, not after minutes of paging.
    const prices =
      config.priceTable === null
        ? undefined
        : await loadPriceTable(config.priceTable, { cwd: opts.cwd });
    // The demo's own budgets unless REPORT_BUDGETS says otherwise (§11: its data crosses one).
    const budgets =
      demo && config.budgets.kind === "none" ? demoBudgets : await configuredBudgets(config, opts);
    // Plan, the scans (all at once) and Publish, in one process (steps.ts).
    const resolved = await resolveSources(configured, opts);
    const endpointLabel = demoLabels(resolved, demo);
    const sources = await Promise.all(resolved.map((s) => jobSourceOf(s, opts, endpointLabel)));
    const result = await runReportJob(
      { sources, store, log: opts.log, onProgress: opts.onProgress },
      {
        ...jobOptions(config, {
          dates: [...request.dates],
          month: request.month ?? null,
          now: opts.now,
        }),
        prices,
        budgets,
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
