import type { ReportConfig, UpstreamConfig } from "../../src/app/config.js";
import {
  type ReportJobDeps,
  type ReportJobOptions,
  type ReportJobResult,
  runReportJob,
} from "../../src/app/report-job.js";
import type { VersionSource } from "../../src/modelarts/client.js";
import type { JobVersion } from "../../src/modelarts/version-record.js";
import type { SourceInput } from "../../src/report/build.js";
import type { Anomalies, ReportSource } from "../../src/report/types.js";

/**
 * The run of one listing, as most tests describe it: a port, its paging and the listing as
 * `source` names it. The job itself takes a list of sources (report.md §10); this names the one
 * source `default`, as the MODELARTS_* settings do.
 */
export interface OneSourceJobOptions extends ReportJobOptions {
  readonly pageSize: number;
  readonly concurrency?: number | undefined;
  readonly sourceInfo: {
    readonly endpoint: string;
    readonly projectId: string;
    readonly workspaceId: string | null;
    readonly poolId: string | null;
  };
}

export interface OneSourceDeps extends Omit<ReportJobDeps, "sources"> {
  readonly versions: VersionSource;
}

export function runOneSource(
  deps: OneSourceDeps,
  opts: OneSourceJobOptions,
): Promise<ReportJobResult> {
  const { versions, ...rest } = deps;
  const { pageSize, concurrency, sourceInfo, ...options } = opts;
  return runReportJob(
    {
      ...rest,
      sources: [{ name: "default", versions, pageSize, concurrency, listing: sourceInfo }],
    },
    options,
  );
}

/** The builders' input of one listing named `default`, from the fields of `source`. */
export function oneSourceInput(
  versions: Iterable<JobVersion>,
  source: ReportSource,
  anomalies: Pick<Anomalies, "skipped" | "duplicate_rows" | "reasons"> = {
    skipped: 0,
    duplicate_rows: 0,
    reasons: {},
  },
  counts: { total_count_first?: number; total_count_last?: number } = {},
): { sources: SourceInput[] } {
  return {
    sources: [
      {
        info: {
          name: "default",
          endpoint: source.endpoint ?? "",
          project_id: source.project_id ?? "",
          workspace_id: source.workspace_id,
          pool_id: source.pool_id,
          versions_scanned: source.versions_scanned,
          pages: source.pages,
          total_count_first: counts.total_count_first ?? source.versions_scanned,
          total_count_last: counts.total_count_last ?? source.versions_scanned,
        },
        anomalies,
        versions,
      },
    ],
  };
}

/** A builder's input in the one-listing form (`versions`, `source`, `anomalies`) as sources. */
export function withOneSource<
  T extends {
    versions: Iterable<JobVersion>;
    source: ReportSource;
    anomalies?: Pick<Anomalies, "skipped" | "duplicate_rows" | "reasons">;
  },
>(input: T): Omit<T, "versions" | "source" | "anomalies"> & { sources: SourceInput[] } {
  const { versions, source, anomalies, ...rest } = input;
  return { ...rest, ...oneSourceInput(versions, source, anomalies) };
}

/** The aggregation's input with `versions` as the one source `default`. */
export function withOneSourceVersions<T extends { versions: Iterable<JobVersion> }>(
  input: T,
): Omit<T, "versions"> & { sources: { name: string; versions: Iterable<JobVersion> }[] } {
  const { versions, ...rest } = input;
  return { ...rest, sources: [{ name: "default", versions }] };
}

/** The upstream of a configuration of one listed source; `null` for the demo. */
export function upstreamOf(config: ReportConfig): UpstreamConfig | null {
  if (config.sources.kind === "demo") return null;
  if (config.sources.kind !== "listed" || config.sources.sources.length !== 1) {
    throw new Error("expected one listed source");
  }
  return config.sources.sources[0]?.upstream ?? null;
}
