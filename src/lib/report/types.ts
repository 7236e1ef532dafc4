import type { JobVersion } from "../modelarts/version-record.js";

/**
 * The report's object model (report.md §3, §5). Field names are those of report.json.
 * Hours are held unrounded; the renderers round them when they write.
 */
export interface Metrics {
  versions_active: number;
  versions_created: number;
  versions_failed: number;
  /** Failure status code (as a string) → count; every code of the failure set is present. */
  failures_by_status: Record<string, number>;
  gpus: number;
  npus: number;
  peak_gpus: number;
  peak_npus: number;
  gpu_hours: number;
  npu_hours: number;
  run_hours: number;
}

export interface FlavorRow extends Metrics {
  flavor_code: string | null;
}

export interface PoolRow extends Metrics {
  pool_id: string | null;
}

export interface FlavorPoolRow extends Metrics {
  flavor_code: string | null;
  pool_id: string | null;
}

export interface StatusCount {
  status: number;
  name: string;
  versions: number;
}

export interface Anomalies {
  skipped: number;
  reasons: Record<string, number>;
}

export interface ReportSource {
  endpoint: string;
  project_id: string;
  workspace_id: string | null;
  pool_id: string | null;
  versions_scanned: number;
  pages: number;
}

export interface UsageReport {
  schema_version: 1;
  report_date: string;
  timezone: string;
  /** The window's bounds as ISO 8601 with the time zone's offset. */
  window: { start: string; end: string };
  generated_at: string;
  source: ReportSource;
  failure_statuses: number[];
  totals: Metrics;
  by_flavor: FlavorRow[];
  by_pool: PoolRow[];
  by_flavor_pool: FlavorPoolRow[];
  statuses: StatusCount[];
  anomalies: Anomalies;
}

/** One line of jobs.csv: a version in the report and what it contributed to that day. */
export interface JobRow {
  version: JobVersion;
  /** Milliseconds of the version's interval inside the window. */
  overlapMs: number;
  /** Whether the version counts as failed in the window. */
  failed: boolean;
}

/** Everything the renderers need for one report date. */
export interface DailyReport {
  report: UsageReport;
  /** Ordered by version id ascending. */
  jobs: JobRow[];
}

/** The three data files of a day, in the order they are written. */
export const REPORT_FILES = ["report.json", "usage.csv", "jobs.csv"] as const;
export type ReportFileName = (typeof REPORT_FILES)[number];
